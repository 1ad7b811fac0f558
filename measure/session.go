package measure

import (
	"cmp"
	"slices"
	"time"

	"github.com/fleetsim/fleetsim/fleet"
)

// sessionKey names an agent session in the call records: its user group,
// workload and ordinal in the load stream (fleet.CallRecord.Session).
type sessionKey struct {
	user, workload string
	ordinal        int64
}

// agentSession is one agent session's model calls.
type agentSession struct {
	// calls are indices into the call records, in step order.
	calls []int
	// closed says the session is replayed closed loop and its task time
	// can be compared: its records hold steps 0..n−1 once each and none
	// was dropped. Other sessions (one the simulator dropped, or two
	// sessions that share a key) are replayed call by call, open loop.
	closed bool
}

// sessionsOf groups the agent calls of recs (Session >= 0) into sessions,
// in the order of their first record. recs need not be sorted by step.
func sessionsOf(recs []fleet.CallRecord) []agentSession {
	idx := map[sessionKey]int{}
	var out []agentSession
	for i := range recs {
		r := &recs[i]
		if r.Session < 0 {
			continue
		}
		k := sessionKey{r.User, r.Workload, r.Session}
		si, ok := idx[k]
		if !ok {
			si = len(out)
			idx[k] = si
			out = append(out, agentSession{})
		}
		out[si].calls = append(out[si].calls, i)
	}
	for si := range out {
		s := &out[si]
		// Stable: records of one step keep their order, so a duplicated
		// step is seen below.
		slices.SortStableFunc(s.calls, func(a, b int) int { return cmp.Compare(recs[a].Step, recs[b].Step) })
		s.closed = true
		for k, i := range s.calls {
			if recs[i].Step != int64(k) || recs[i].Dropped {
				s.closed = false
				break
			}
		}
	}
	return out
}

// doneS is when the simulator's call rec came back to its caller (the
// orchestrator): its issue plus its caller-side E2E, which counts the
// downstream half RTT (fleet/engine.go finish schedules evCallBack then).
func doneS(rec *fleet.CallRecord) float64 { return rec.Issued + rec.E2ES }

// nextSend returns when, from the start of the real run, the step after
// prev is sent: prev's real completion at the caller, prevDone, plus the
// simulator's gap between prev's completion at the caller and next's
// issue. That gap holds the tool calls, the tool network time, think time
// and orchestration, which the real run does not execute; a negative gap
// (rounding) counts as zero.
func nextSend(prevDone time.Duration, prev, next *fleet.CallRecord) time.Duration {
	gap := next.Issued - doneS(prev)
	return prevDone + seconds(max(gap, 0))
}

// sendTimes returns the real send time of each step of a session whose
// calls are recs (in step order) and whose real calls take durs (send to
// completion at the caller): the first step at its simulated issue time,
// each later one by nextSend. It is the schedule replay keeps, without
// the waiting.
func sendTimes(recs []fleet.CallRecord, durs []time.Duration) []time.Duration {
	out := make([]time.Duration, len(recs))
	for k := range recs {
		if k == 0 {
			out[k] = seconds(recs[0].Issued)
			continue
		}
		out[k] = nextSend(out[k-1]+durs[k-1], &recs[k-1], &recs[k])
	}
	return out
}

// finalLegS is the time the simulator adds to an agent task after the last
// answer reaches the orchestrator: half the round trip from the
// orchestrator back to the user (with the user's access RTT), for
// orchestrators at the edge or the model; none at the client
// (fleet/agent.go onCallBack). orchSite is the site of the session's first
// call, where an orchestrator "model" is assumed to be.
func finalLegS(w *fleet.World, wi, ui, orchSite int) float64 {
	u := &w.Users[ui]
	var loc int
	switch w.Workloads[wi].Orchestrator {
	case fleet.AtEdge:
		loc = u.EdgeLoc
	case fleet.AtModel:
		loc = w.Sites[orchSite].Loc
	default:
		return 0
	}
	return (w.RTT.RTTMs(u.Loc, loc) + u.AccessRTTMs) / 2000
}
