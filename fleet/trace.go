package fleet

import "github.com/fleetsim/fleetsim/sim"

// CallRecord is what happened to one model call, for per-request traces
// and invariant checks. Times are simulated seconds from the start of the
// warm-up; a dropped call has only Issued (and AtServer if it got there).
type CallRecord struct {
	Strategy, Workload, User string
	// Session is the agent session's sequence number in its load stream,
	// -1 for chat; Step is the call's step within the session.
	Session, Step int64
	// Site and Replica that served the call (-1 when dropped before a replica).
	Site           string
	Replica        int
	Prompt, Output int
	Measured       bool
	Spilled        bool
	Dropped        bool
	Issued         float64
	AtServer       float64
	Admitted       float64
	FirstToken     float64
	Finished       float64
	TTFTS, E2ES    float64 // as seen by the caller
}

// Options changes what Simulate reports, not what it simulates.
type Options struct {
	// OnCall, when set, is called once for every model call that finished or
	// was dropped, in simulated-time order.
	OnCall func(*CallRecord)
	// OnProgress, when set, is called every 65,536 events and at the end
	// with the strategy, the share of its simulated time done (0..1) and
	// its events so far. Strategies may call it concurrently.
	OnProgress func(strategy string, done float64, events uint64)
}

func (e *engine) trace(cl *call, now sim.Time, dropped bool) {
	if e.opts.OnCall == nil {
		return
	}
	rec := CallRecord{
		Strategy: e.st.Name, Workload: e.w.Workloads[cl.wl].Name, User: e.w.Users[cl.user].Name,
		Session: -1, Replica: -1,
		Prompt: int(cl.prompt), Output: int(cl.output),
		Measured: cl.measured, Spilled: cl.spilled, Dropped: dropped,
		Issued: cl.issued.Seconds(),
	}
	if cl.sess >= 0 {
		s := &e.sess[cl.sess]
		rec.Session, rec.Step = int64(s.ordinal), int64(s.step)
	}
	if cl.pool >= 0 {
		rec.Site = e.w.Sites[e.pools[cl.pool].site].Name
		rec.AtServer = cl.atServer.Seconds()
	}
	if !dropped {
		rec.Replica = int(cl.rep)
		rec.Admitted = cl.admitted.Seconds()
		rec.FirstToken = cl.firstTok.Seconds()
		rec.Finished = now.Seconds()
		rec.TTFTS = (cl.firstTok - cl.issued).Seconds() + cl.downS
		rec.E2ES = (now - cl.issued).Seconds() + cl.downS
	}
	e.opts.OnCall(&rec)
}
