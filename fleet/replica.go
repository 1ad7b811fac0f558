package fleet

import (
	"github.com/fleetsim/fleetsim/serving"
	"github.com/fleetsim/fleetsim/sim"
)

// replica is one model replica under iteration-level continuous batching:
// an iteration either prefills the requests admitted at its start or runs
// decode steps for every running sequence. KV cache is reserved for a
// call's prompt and whole output at admission, so there is no preemption. A decode run is simulated as one
// event lasting until the first running sequence finishes; a request that
// arrives meanwhile and could be admitted cuts the run at the next step
// boundary, so it is admitted exactly when a step-by-step simulation would
// admit it.
type replica struct {
	pool     int32
	est      serving.Estimator
	maxBatch int
	kvCap    int

	running []int32 // decoding calls
	admit   []int32 // calls in the current prefill iteration
	next    []int32 // calls assigned here, admitted when the current iteration ends
	nextKV  int     // KV tokens the calls in next will reserve
	kvUsed  int     // KV tokens reserved by admitted calls (prompt + output)
	ctxSum  int     // KV tokens held by running calls

	busy      bool
	decoding  bool
	gen       uint32
	iterStart sim.Time
	runSteps  int

	busyWin sim.Time
}

// active is the number of calls admitted or assigned to the replica.
func (r *replica) active() int { return len(r.running) + len(r.admit) + len(r.next) }

// canTake says whether a call needing `need` KV tokens (prompt + output)
// can be assigned to the replica now and admitted at its next iteration.
func (r *replica) canTake(need int) bool {
	return r.active() < r.maxBatch && r.kvUsed+r.nextKV+need <= r.kvCap
}

// atLeastTick keeps every iteration at least one tick long so the clock advances.
func atLeastTick(s float64) sim.Time {
	t := sim.FromSeconds(s)
	if t < 1 {
		return 1
	}
	return t
}

// assign gives call c to replica ri at now; the replica must be able to
// take it. An idle replica starts an iteration at once; a decode run is cut
// at its next step boundary so the call is prefilled there.
func (e *engine) assign(ri int, c int32, now sim.Time) {
	r := &e.reps[ri]
	cl := &e.calls[c]
	r.next = append(r.next, c)
	r.nextKV += int(cl.prompt + cl.output)
	if !r.busy {
		e.startIteration(ri, now)
		return
	}
	if !r.decoding || len(r.next) != 1 {
		return
	}
	b := len(r.running)
	acc := 0.0
	for j := 0; j < r.runSteps; j++ {
		acc += r.est.DecodeStepSeconds(b, r.ctxSum+j*b)
		t := r.iterStart + atLeastTick(acc)
		if t >= now {
			if j+1 < r.runSteps {
				r.runSteps = j + 1
				r.gen++
				e.k.Schedule(t, prioStep, evStep, int32(ri), r.gen)
			}
			return
		}
	}
}

// startIteration begins the next iteration of replica ri at now, or leaves
// it idle when there is nothing to do.
func (e *engine) startIteration(ri int, now sim.Time) {
	r := &e.reps[ri]
	// Take waiting calls from the site's queue while there is room.
	p := &e.pools[r.pool]
	for p.queueLen() > 0 {
		c := p.queue[p.qHead]
		cl := &e.calls[c]
		if !r.canTake(int(cl.prompt + cl.output)) {
			break
		}
		p.pop()
		cl.rep = int32(ri)
		r.next = append(r.next, c)
		r.nextKV += int(cl.prompt + cl.output)
	}
	r.admit = r.admit[:0]
	tok, pairs := 0, 0.0
	for _, c := range r.next {
		cl := &e.calls[c]
		r.kvUsed += int(cl.prompt + cl.output)
		cl.admitted = now
		r.admit = append(r.admit, c)
		tok += int(cl.prompt)
		pairs += float64(cl.prompt) * float64(cl.prompt) / 2
	}
	r.next, r.nextKV = r.next[:0], 0
	var dur sim.Time
	switch {
	case len(r.admit) > 0:
		r.decoding = false
		dur = atLeastTick(r.est.PrefillSeconds(tok, pairs))
	case len(r.running) > 0:
		r.decoding = true
		k := int32(1 << 30)
		for _, c := range r.running {
			if rem := e.calls[c].remaining; rem < k {
				k = rem
			}
		}
		b := len(r.running)
		acc := 0.0
		for j := 0; j < int(k); j++ {
			acc += r.est.DecodeStepSeconds(b, r.ctxSum+j*b)
		}
		r.runSteps = int(k)
		dur = atLeastTick(acc)
	default:
		r.busy = false
		return
	}
	r.busy = true
	r.iterStart = now
	r.gen++
	e.k.Schedule(now+dur, prioStep, evStep, int32(ri), r.gen)
}

// onStep ends the current iteration of replica ri at now.
func (e *engine) onStep(ri int32, now sim.Time) {
	r := &e.reps[ri]
	r.busyWin += clip(r.iterStart, now, e.winStart, e.winEnd)
	if !r.decoding {
		for _, c := range r.admit {
			cl := &e.calls[c]
			cl.firstTok = now
			cl.remaining = cl.output - 1
			if cl.remaining == 0 {
				e.finish(c, now)
				continue
			}
			r.running = append(r.running, c)
			r.ctxSum += int(cl.prompt) + 1
		}
		r.admit = r.admit[:0]
	} else {
		k := int32(r.runSteps)
		r.ctxSum += int(k) * len(r.running)
		kept := r.running[:0]
		for _, c := range r.running {
			cl := &e.calls[c]
			cl.remaining -= k
			if cl.remaining > 0 {
				kept = append(kept, c)
				continue
			}
			r.ctxSum -= int(cl.prompt + cl.output)
			e.finish(c, now)
		}
		r.running = kept
	}
	e.startIteration(int(ri), now)
}
