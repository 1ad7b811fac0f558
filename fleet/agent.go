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
	for fi := range e.faults {
		if e.inFault(fi, s.start) {
			e.faults[fi].wl[s.wl].ses.dropped++
		}
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
	e.launchSession(sid, now)
}

// startReplayed begins recorded session ri of trace stream ts for user
// group ui at now.
func (e *engine) startReplayed(ts, ri, ui int, now sim.Time) {
	st := &e.traces[ts]
	sid := e.newSession()
	s := &e.sess[sid]
	*s = session{
		wl: int32(st.wl), user: int32(ui), rng: rand.New(rand.NewPCG(st.seed, uint64(ri))),
		steps: len(st.ss.At(ri).Steps), start: now, measured: e.inWindow(now), connected: s.connected[:0],
		ordinal: uint64(ri), lastRep: -1, replay: int32(ts + 1), replayIdx: int32(ri),
		ctx: int(st.ss.At(ri).Steps[0].Input),
	}
	e.launchSession(sid, now)
}

// launchSession counts a new session, places its orchestrator and sends
// its task there.
func (e *engine) launchSession(sid int32, now sim.Time) {
	s := &e.sess[sid]
	wi := int(s.wl)
	wl := &e.w.Workloads[wi]
	u := &e.w.Users[s.user]
	e.prefKeys++
	s.key = e.prefKeys
	if s.measured {
		e.m.wl[wi].sesArrived++
	}
	for fi := range e.faults {
		if e.inFault(fi, s.start) {
			e.faults[fi].wl[wi].ses.arrived++
		}
	}
	switch wl.Orchestrator {
	case AtClient:
		s.orchLoc, s.client = int32(u.Loc), true
		e.issueStep(sid, now)
		return
	case AtEdge:
		s.orchLoc = int32(u.EdgeLoc)
	case AtModel:
		first := int32(max(min(s.ctx, wl.MaxContext), 1))
		probe := call{wl: int32(wi), user: s.user, sess: sid, origin: int32(u.Loc), client: true,
			prompt: first, pre: first, output: 1}
		p, _, why := e.route(&probe)
		if p < 0 {
			if why == routeDown {
				e.failSession(sid)
			} else {
				e.dropSession(sid)
			}
			return
		}
		s.orchLoc = int32(e.pools[p].loc)
	}
	// The task travels from the user to the orchestrator.
	rtt := e.rttS(u.Loc, int(s.orchLoc), s.user, true)
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
	ctx, output := s.ctx, int32(0)
	if s.replay > 0 {
		st := e.traces[s.replay-1].ss.At(int(s.replayIdx)).Steps[s.step]
		ctx, output = int(st.Input), max(st.Output, 1)
	} else {
		output = tokens(wl.StepOutput.Sample(s.rng))
	}
	prompt := int32(max(min(ctx, wl.MaxContext), 1))
	e.calls[c] = call{
		wl: s.wl, user: s.user, sess: sid, pool: -1, rep: -1, origin: s.orchLoc, client: s.client, measured: s.measured,
		prompt: prompt, output: output, pre: prompt,
		prefKey: s.key, prefShared: min(s.shared, prompt),
	}
	if ctx > wl.MaxContext {
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
	if s.replay > 0 {
		// The recorded tool time after the step just done, then the
		// recorded think time before the next.
		steps := e.traces[s.replay-1].ss.At(int(s.replayIdx)).Steps
		tool, gap := max(steps[s.step-1].ToolS, 0), max(steps[s.step].GapS, 0)
		s.bd[bdTool] += tool
		s.bd[bdThink] += gap
		e.k.Schedule(now+sim.FromSeconds(tool+gap), prioOther, evNextStep, sid, 0)
		return
	}
	s.ctx += output + int(tokens(wl.ToolResult.Sample(s.rng)))
	s.toolTries = 0
	e.toolPhase(sid, now)
}

// toolPhase runs session sid's tool calls after a step (and its think
// time), then schedules the next step. A tool that is down or cut off
// fails the phase: the orchestrator tries the tools again after the
// workload's backoff, and the session fails when its attempts run out.
func (e *engine) toolPhase(sid int32, now sim.Time) {
	s := &e.sess[sid]
	wl := &e.w.Workloads[s.wl]
	var total, netT, toolT float64
	for _, tc := range wl.Tools {
		if s.rng.Float64() >= tc.Probability {
			continue
		}
		t := &e.w.Tools[tc.Tool]
		rtt := e.rttS(int(s.orchLoc), t.Loc, s.user, s.client)
		if e.toolDown[tc.Tool] > 0 || math.IsInf(rtt, 1) {
			if s.toolTries+1 >= wl.Retry.Attempts {
				e.failSession(sid)
				return
			}
			wait := wl.Retry.BackoffS * math.Pow(2, float64(s.toolTries))
			s.toolTries++
			s.bd[bdTool] += wait
			e.k.Schedule(now+sim.FromSeconds(wait), prioOther, evToolRetry, sid, 0)
			return
		}
		net := e.handshakeS(wl, s, t.Loc, rtt) + rtt + e.jitterS() + e.w.Net.GatewayS
		if t.ResponseBytes != nil {
			// Retrieved data crosses the link to the orchestrator, and is charged as egress.
			b := max(t.ResponseBytes.Sample(s.rng), 0)
			net += b / e.bandwidth(s.client)
			e.egress(b, t.Loc, int(s.orchLoc), s.client, s.measured)
		}
		if len(e.links) > 0 {
			net += e.lossDelay(int(s.orchLoc), t.Loc, rtt) + e.lossDelay(int(s.orchLoc), t.Loc, rtt)
		}
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
