package fleet

import (
	"math"
	"slices"

	"github.com/fleetsim/fleetsim/metrics"
	"github.com/fleetsim/fleetsim/sim"
)

// Why an attempt failed.
const (
	failDown    = iota // the replica or site serving it went down
	failNoRoute        // no eligible site was up and reachable
	failTimeout        // it ran past the retry policy's timeout
)

// activeLink is a link fault in force: the round trip between locations a
// and b gains addS seconds and, with probability loss, a retransmission
// timeout per crossing; a cut link carries nothing.
type activeLink struct {
	fault int
	a, b  int
	addS  float64
	loss  float64
	cut   bool
}

// faultState is what the engine keeps for one scheduled fault.
type faultState struct {
	killed     []int32 // replicas it took down
	maxDown    int
	lostTokens int64
	active     bool
	wl         []faultMeter
}

// faultMeter measures the calls and sessions of one workload that started
// during a fault's window.
type faultMeter struct {
	req, ses        faultCounts
	ttft, e2e, task *metrics.Histogram
	sloWithin       []int64
}

type faultCounts struct {
	arrived, completed, failed, timedOut, dropped, retries, afterRetry int64
}

// scheduleFaults puts every fault's start and end on the calendar
// (Gen 0 starts, Gen 1 ends).
func (e *engine) scheduleFaults() {
	e.faults = make([]faultState, len(e.w.Faults))
	for i, f := range e.w.Faults {
		fs := &e.faults[i]
		fs.wl = make([]faultMeter, len(e.w.Workloads))
		for wi := range fs.wl {
			fs.wl[wi] = faultMeter{ttft: metrics.NewHistogram(), e2e: metrics.NewHistogram(), task: metrics.NewHistogram(),
				sloWithin: make([]int64, len(e.w.Workloads[wi].SLOs))}
		}
		e.k.Schedule(f.Start, prioStep, evFault, int32(i), 0)
		if f.End <= e.stopAt {
			e.k.Schedule(f.End, prioStep, evFault, int32(i), 1)
		}
	}
	e.toolDown = make([]int, len(e.w.Tools))
}

// onFault starts (end false) or ends fault i at now.
func (e *engine) onFault(i int, end bool, now sim.Time) {
	f := &e.w.Faults[i]
	fs := &e.faults[i]
	fs.active = !end
	switch f.Kind {
	case SiteDown:
		for pi := range e.pools {
			p := &e.pools[pi]
			if p.site != f.Site {
				continue
			}
			if end {
				p.down--
				continue
			}
			p.down++
			// Calls waiting at the site fail with it.
			for p.queueLen() > 0 {
				c := p.pop()
				if e.calls[c].abandoned {
					e.freeCall(c)
					continue
				}
				e.failAttempt(c, now, failDown, i)
			}
		}
		for ti, t := range e.w.Tools {
			if t.Loc == e.w.Sites[f.Site].Loc {
				e.toolDown[ti] += sign(end)
			}
		}
		if !end {
			for pi := range e.pools {
				if p := &e.pools[pi]; p.site == f.Site {
					for r := p.first; r < p.first+p.n; r++ {
						e.killReplica(r, now, i)
					}
				}
			}
		}
	case NodeLoss:
		if !end {
			for _, r := range e.nodeLossReplicas(f) {
				e.killReplica(r, now, i)
			}
		}
	case LinkDegraded, LinkCut:
		if end {
			for k := range e.links {
				if e.links[k].fault == i {
					e.links = append(e.links[:k], e.links[k+1:]...)
					break
				}
			}
		} else {
			e.links = append(e.links, activeLink{fault: i, a: f.LocA, b: f.LocB, addS: f.AddRTTMs / 1000, loss: f.Loss, cut: f.Kind == LinkCut})
		}
		clear(e.order) // nearest-first orders change with the RTTs
	case ToolOutage:
		e.toolDown[f.Tool] += sign(end)
	}
	if end {
		for _, r := range fs.killed {
			e.reviveReplica(int(r), now)
		}
		fs.killed = fs.killed[:0]
		// A site back up takes its queue again.
		for pi := range e.pools {
			p := &e.pools[pi]
			for r := p.first; r < p.first+p.n; r++ {
				if rep := &e.reps[r]; !rep.busy && rep.down == 0 && p.queueLen() > 0 {
					e.startIteration(r, now)
				}
			}
		}
	}
}

func sign(end bool) int {
	if end {
		return -1
	}
	return 1
}

// nodeLossReplicas picks the replicas a NodeLoss takes down: in each pool
// at the site, its highest-index replicas, as a fraction of the pool or the
// fault's count split over the pools in proportion to their size.
func (e *engine) nodeLossReplicas(f *Fault) []int {
	var pools []int
	total := 0
	for pi := range e.pools {
		if e.pools[pi].site == f.Site {
			pools = append(pools, pi)
			total += e.pools[pi].n
		}
	}
	var out []int
	left := f.Count
	for k, pi := range pools {
		p := &e.pools[pi]
		var n int
		if f.Count > 0 {
			if k == len(pools)-1 {
				n = left
			} else {
				n = int(math.Round(float64(f.Count) * float64(p.n) / float64(total)))
			}
			n = min(n, left)
			left -= n
		} else {
			n = max(int(math.Round(f.Fraction*float64(p.n))), 1)
		}
		n = min(n, p.n)
		// Replicas that are up and serving go first (highest index first),
		// then the autoscaler's released ones.
		for pass := 0; pass < 2 && n > 0; pass++ {
			for r := p.first + p.n - 1; r >= p.first && n > 0; r-- {
				rep := &e.reps[r]
				serving := rep.down == 0 && !rep.off
				if (pass == 0) == serving && !slices.Contains(out, r) {
					out = append(out, r)
					n--
				}
			}
		}
	}
	return out
}

// killReplica takes replica ri down because of fault fi: every call on it
// or promised to it fails (and may be retried), its KV cache and prefix
// cache are lost, and its current iteration is cancelled.
func (e *engine) killReplica(ri int, now sim.Time, fi int) {
	r := &e.reps[ri]
	fs := &e.faults[fi]
	fs.killed = append(fs.killed, int32(ri))
	fs.maxDown = max(fs.maxDown, len(fs.killed))
	r.down++
	if r.down > 1 {
		return
	}
	e.pools[r.pool].live--
	if r.busy {
		if in := clip(r.iterStart, now, e.winStart, e.winEnd); in > 0 {
			r.busyWin += in
			e.busyByHour(r, max(r.iterStart, e.winStart), in)
			if span := r.iterEnd - r.iterStart; span > 0 {
				r.joulesWin += r.runJ * float64(in) / float64(span)
			}
		}
	}
	// Steps of the current decode run completed by now.
	ran := 0
	if r.busy && r.decodeRun {
		b := len(r.seqs) - r.nPrefill
		for ran < r.runSteps {
			sec, _ := r.est.DecodeRun(b, r.decCtx, ran+1)
			if r.iterStart+atLeastTick(sec) > now {
				break
			}
			ran++
		}
	}
	for _, c := range r.seqs {
		if cl := &e.calls[c]; !cl.abandoned {
			// Computed so far: prompt tokens prefilled and tokens generated.
			fs.lostTokens += int64(cl.done) + int64(cl.output-cl.remaining)
			if cl.done >= cl.pre {
				fs.lostTokens += int64(ran)
			}
		}
	}
	victims := make([]int32, 0, len(r.seqs)+len(r.next)+len(r.preempted))
	victims = append(append(append(victims, r.seqs...), r.next...), r.preempted...)
	r.seqs, r.next, r.preempted = r.seqs[:0], r.next[:0], r.preempted[:0]
	r.used, r.nextBlk, r.nPrefill, r.decCtx = 0, 0, 0, 0
	r.cache = prefixCache{}
	r.busy, r.decodeRun = false, false
	r.gen++
	for _, c := range victims {
		cl := &e.calls[c]
		if cl.abandoned {
			e.freeCall(c)
			continue
		}
		cl.blk, cl.chunk = 0, 0
		e.failAttempt(c, now, failDown, fi)
	}
	// A site with no replica left cannot serve its queue.
	if p := &e.pools[r.pool]; p.live == 0 {
		for p.queueLen() > 0 {
			c := p.pop()
			if e.calls[c].abandoned {
				e.freeCall(c)
				continue
			}
			e.failAttempt(c, now, failDown, fi)
		}
	}
}

// reviveReplica brings replica ri back when no fault holds it down any
// more; it starts empty.
func (e *engine) reviveReplica(ri int, now sim.Time) {
	r := &e.reps[ri]
	if r.down == 0 {
		return
	}
	r.down--
	if r.down == 0 {
		e.pools[r.pool].live++
	}
	if r.down == 0 && !r.busy {
		e.startIteration(ri, now)
	}
}

// failAttempt ends the current attempt of call c at now. With attempts
// left, the caller retries after its backoff (it learns of a failure at
// the server half a round trip later); otherwise the call fails for good,
// and so does its agent session. fi is the fault behind it, -1 if none.
func (e *engine) failAttempt(c int32, now sim.Time, why int, fi int) {
	cl := &e.calls[c]
	wl := &e.w.Workloads[cl.wl]
	cl.att = 0 // stale timers of this attempt no longer match
	if int(cl.tries)+1 < wl.Retry.Attempts {
		learn := 0.0
		if why == failDown {
			learn = cl.downS
		}
		backoff := wl.Retry.BackoffS * math.Pow(2, float64(cl.tries))
		cl.tries++
		if cl.measured {
			e.m.wl[cl.wl].retries++
		}
		e.faultCount(cl, func(fc *faultCounts) { fc.retries++ })
		e.k.Schedule(now+sim.FromSeconds(learn+backoff), prioOther, evRetry, c, 0)
		return
	}
	e.trace(cl, now, true)
	if cl.measured {
		if why == failTimeout {
			e.m.wl[cl.wl].reqTimedOut++
		} else {
			e.m.wl[cl.wl].reqFailed++
		}
	}
	e.faultCount(cl, func(fc *faultCounts) {
		if why == failTimeout {
			fc.timedOut++
		} else {
			fc.failed++
		}
	})
	if cl.sess >= 0 {
		e.failSession(cl.sess)
	}
	e.freeCall(c)
}

// retry sends call c again from its caller.
func (e *engine) retry(c int32, now sim.Time) {
	cl := &e.calls[c]
	cl.pool, cl.rep = -1, -1
	cl.pre, cl.done, cl.chunk, cl.ctx, cl.blk, cl.hit, cl.preempts = cl.prompt, 0, 0, 0, 0, 0, 0
	cl.firstTok, cl.admitted = 0, 0
	var s *session
	if cl.sess >= 0 {
		s = &e.sess[cl.sess]
	}
	e.issue(c, now, s)
}

// onTimeout abandons attempt att of call c if it is still that attempt:
// the attempt stays where it is as an abandoned call (freed wherever the
// engine next meets it: in flight, in a queue, or at the replica's next
// iteration boundary), and the request continues in a new call slot that
// is retried or fails.
func (e *engine) onTimeout(c int32, att uint32, now sim.Time) {
	cl := &e.calls[c]
	if cl.wl < 0 || cl.att != att || cl.abandoned {
		return
	}
	n := e.newCall()
	cl = &e.calls[c] // newCall may have grown the slab
	e.calls[n] = *cl
	e.calls[n].rep, e.calls[n].pool, e.calls[n].blk, e.calls[n].chunk = -1, -1, 0, 0
	cl.abandoned = true
	e.failAttempt(n, now, failTimeout, -1)
}

// failSession ends agent session sid because one of its calls or tools failed for good.
func (e *engine) failSession(sid int32) {
	s := &e.sess[sid]
	if s.measured {
		e.m.wl[s.wl].sesFailed++
	}
	for fi := range e.faults {
		if e.inFault(fi, s.start) {
			e.faults[fi].wl[s.wl].ses.failed++
		}
	}
	e.freeSession(sid)
}

// inFault says whether time t is within fault fi's window.
func (e *engine) inFault(fi int, t sim.Time) bool {
	f := &e.w.Faults[fi]
	return t >= f.Start && t < f.End
}

// faultCount applies add to the counts of every fault whose window holds
// the call's first attempt.
func (e *engine) faultCount(cl *call, add func(*faultCounts)) {
	for fi := range e.faults {
		if e.inFault(fi, cl.first) {
			add(&e.faults[fi].wl[cl.wl].req)
		}
	}
}

// linkRTT adjusts the round trip between locations a and b for link faults
// in force: +Inf when the link is cut, plus the added RTT when degraded.
func (e *engine) linkRTT(a, b int, ms float64) float64 {
	for _, l := range e.links {
		if (l.a == a && l.b == b) || (l.a == b && l.b == a) {
			if l.cut {
				return math.Inf(1)
			}
			ms += l.addS * 1000
		}
	}
	return ms
}

// lossDelay is the retransmission delay of one crossing between a and b:
// with a degraded link's loss probability, one retransmission timeout
// (Linux's 200 ms minimum plus the round trip).
func (e *engine) lossDelay(a, b int, rttS float64) float64 {
	for _, l := range e.links {
		if l.loss > 0 && ((l.a == a && l.b == b) || (l.a == b && l.b == a)) && e.netRng.Float64() < l.loss {
			return 0.2 + rttS
		}
	}
	return 0
}
