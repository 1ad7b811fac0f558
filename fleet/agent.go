package fleet

import (
	"math"
	"math/rand/v2"

	"github.com/fleetsim/fleetsim/sim"
)

func (e *engine) newSession() int32 {
	if n := len(e.freeSess); n > 0 {
		s := e.freeSess[n-1]
		e.freeSess = e.freeSess[:n-1]
		return s
	}
	e.sess = append(e.sess, session{})
	return int32(len(e.sess) - 1)
}

func (e *engine) freeSession(sid int32) {
	s := &e.sess[sid]
	s.wl, s.rng = -1, nil
	e.freeSess = append(e.freeSess, sid)
}

func (e *engine) dropSession(sid int32) {
	s := &e.sess[sid]
	if s.measured {
		e.m.wl[s.wl].sesDropped++
	}
	e.freeSession(sid)
}

// startSession begins an agent session from load stream li at now. Each
// session draws from its own stream, derived from the load stream and the
// session's ordinal, so a session makes the same draws in every strategy.
func (e *engine) startSession(li int, now sim.Time) {
	ls := &e.loads[li]
	ls.sessions++
	u := &e.w.Users[ls.user]
	wi := u.Loads[ls.load].Workload
	wl := &e.w.Workloads[wi]
	rng := rand.New(rand.NewPCG(ls.sessBase, ls.sessions))

	sid := e.newSession()
	s := &e.sess[sid]
	steps := int(math.Round(wl.Steps.Sample(rng)))
	if steps < 1 {
		steps = 1
	}
	*s = session{
		wl: int32(wi), user: int32(ls.user), rng: rng,
		steps: steps, ctx: int(tokens(wl.InitialPrompt.Sample(rng))),
		start: now, measured: e.inWindow(now), connected: s.connected[:0], ordinal: ls.sessions,
		lastRep: -1,
	}
	e.prefKeys++
	s.key = e.prefKeys
	if s.measured {
		e.m.wl[wi].sesArrived++
	}
	switch wl.Orchestrator {
	case AtClient:
		s.orchLoc, s.client = int32(u.Loc), true
		e.issueStep(sid, now)
		return
	case AtEdge:
		s.orchLoc = int32(u.EdgeLoc)
	case AtModel:
		probe := call{wl: int32(wi), user: int32(ls.user), sess: sid, origin: int32(u.Loc), client: true,
			prompt: int32(min(s.ctx, wl.MaxContext)), output: 1}
		p, _ := e.route(&probe)
		if p < 0 {
			e.dropSession(sid)
			return
		}
		s.orchLoc = int32(e.pools[p].loc)
	}
	// The task travels from the user to the orchestrator.
	rtt := e.rttS(u.Loc, int(s.orchLoc), int32(ls.user), true)
	d := e.handshakeS(wl, s, int(s.orchLoc), rtt) + rtt/2 + e.jitterS() +
		float64(s.ctx)*e.w.Net.BytesPerToken/e.w.Net.AccessBytesPerS
	s.bd[bdNetwork] += d
	e.k.Schedule(now+sim.FromSeconds(d), prioOther, evNextStep, sid, 0)
}

// issueStep sends session sid's next model call from its orchestrator.
func (e *engine) issueStep(sid int32, now sim.Time) {
	s := &e.sess[sid]
	wl := &e.w.Workloads[s.wl]
	c := e.newCall()
	prompt := int32(min(s.ctx, wl.MaxContext))
	e.calls[c] = call{
		wl: s.wl, user: s.user, sess: sid, pool: -1, rep: -1, origin: s.orchLoc, client: s.client, measured: s.measured,
		prompt: prompt, output: tokens(wl.StepOutput.Sample(s.rng)), pre: prompt,
		prefKey: s.key, prefShared: min(s.shared, prompt),
	}
	if s.ctx > wl.MaxContext {
		// A truncated context no longer starts with the cached prefix.
		e.calls[c].prefShared = 0
	}
	e.issue(c, now, s)
}

// onCallBack handles an agent call's response at the orchestrator: the
// session ends, or its tools run and the next step is scheduled.
func (e *engine) onCallBack(c int32, now sim.Time) {
	cl := &e.calls[c]
	sid, output := cl.sess, int(cl.output)
	e.freeCall(c)
	s := &e.sess[sid]
	wl := &e.w.Workloads[s.wl]
	u := &e.w.Users[s.user]
	s.step++
	if s.step >= s.steps {
		end := now
		if !s.client {
			leg := e.rttS(u.Loc, int(s.orchLoc), s.user, true) / 2
			s.bd[bdNetwork] += leg
			end += sim.FromSeconds(leg)
		}
		if s.measured {
			e.m.recordTask(e, s, end)
		}
		e.freeSession(sid)
		return
	}
	s.ctx += output + int(tokens(wl.ToolResult.Sample(s.rng)))
	var total, netT, toolT float64
	for _, tc := range wl.Tools {
		if s.rng.Float64() >= tc.Probability {
			continue
		}
		t := &e.w.Tools[tc.Tool]
		rtt := e.rttS(int(s.orchLoc), t.Loc, s.user, s.client)
		net := e.handshakeS(wl, s, t.Loc, rtt) + rtt + e.jitterS()
		svc := t.ServiceMs.Sample(s.rng) / 1000
		if svc < 0 {
			svc = 0
		}
		if !wl.Parallel {
			netT += net
			toolT += svc
			total += net + svc
		} else if net+svc > total {
			netT, toolT, total = net, svc, net+svc
		}
	}
	s.bd[bdNetwork] += netT
	s.bd[bdTool] += toolT
	if wl.ThinkMs != nil {
		if th := wl.ThinkMs.Sample(s.rng) / 1000; th > 0 {
			s.bd[bdThink] += th
			total += th
		}
	}
	e.k.Schedule(now+sim.FromSeconds(total), prioOther, evNextStep, sid, 0)
}
