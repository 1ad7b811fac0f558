package fleet

import (
	"github.com/fleetsim/fleetsim/serving"
	"github.com/fleetsim/fleetsim/sim"
)

// replica is one model replica under iteration-level continuous batching
// with chunked prefill, as vLLM's V1 scheduler runs it:
//
//   - every iteration gives each decoding sequence one token and fills the
//     rest of the token budget with prompt chunks of the sequences still
//     prefilling, oldest first;
//   - KV cache is held in blocks of blockTokens tokens: a call is admitted
//     when the blocks for its prompt are free, and takes one more block
//     each time its context crosses a block boundary; when none is free,
//     the most recently admitted sequence is preempted (its blocks freed,
//     its prompt and generated tokens recomputed on readmission);
//   - with prefix caching, a call whose prompt starts with context the
//     replica computed earlier (an agent session's previous step) skips
//     prefilling that part. Cached context lives in free blocks and is
//     evicted, least recently used first, when blocks are allocated.
//
// A run of decode-only iterations is simulated as one event lasting until
// the first sequence finishes or the free blocks could run out; a call
// assigned meanwhile cuts the run at the next iteration boundary, so it is
// admitted exactly when an iteration-by-iteration simulation would admit it.
type replica struct {
	pool     int32
	est      serving.Estimator
	maxBatch int
	budget   int   // tokens per iteration
	bt       int32 // tokens per KV block
	blocks   int32 // KV blocks in the replica
	used     int32 // blocks held by admitted calls

	seqs      []int32 // admitted calls, in admission order
	nPrefill  int     // admitted calls still prefilling
	decCtx    int     // context tokens of the decoding calls
	next      []int32 // calls assigned here, admitted when the current iteration ends
	nextBlk   int32   // blocks the calls in next will take
	preempted []int32 // calls preempted here, readmitted first

	down       int      // faults holding the replica down; it serves nothing while > 0
	off        bool     // released by the autoscaler: not serving, not billed
	prov       bool     // requested by the autoscaler: billed, not serving yet
	draining   bool     // scaled down: finishes its calls, takes no new ones
	billedFrom sim.Time // billed since; -1 when not billed
	billedWin  sim.Time // billed time in the window
	readyAt    sim.Time // when a provisioning replica can serve
	provGen    uint32   // invalidates a cancelled provisioning
	caching    bool     // prefix caching on
	cache      prefixCache

	busy      bool
	decodeRun bool
	gen       uint32
	iterStart sim.Time
	iterEnd   sim.Time // when the current iteration or run ends
	runSteps  int
	runJ      float64 // energy of the current iteration or run, J

	busyWin   sim.Time
	joulesWin float64
}

// blocksFor is the number of KV blocks that hold n tokens.
func (r *replica) blocksFor(n int32) int32 { return (n + r.bt - 1) / r.bt }

// active is the number of calls admitted to or waiting at the replica.
func (r *replica) active() int { return len(r.seqs) + len(r.next) + len(r.preempted) }

// free is the number of KV blocks neither held nor promised.
func (r *replica) free() int32 { return r.blocks - r.used - r.nextBlk }

// canTake says whether a call with a prompt of `prompt` tokens can be
// assigned to the replica now and admitted at its next iteration.
func (r *replica) canTake(prompt int32) bool {
	return r.down == 0 && !r.off && !r.prov && !r.draining && len(r.preempted) == 0 && r.active() < r.maxBatch && r.blocksFor(prompt+1) <= r.free()
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
// at its next iteration boundary so the call's prefill starts there.
func (e *engine) assign(ri int, c int32, now sim.Time) {
	r := &e.reps[ri]
	cl := &e.calls[c]
	cl.rep = int32(ri)
	r.next = append(r.next, c)
	r.nextBlk += r.blocksFor(cl.pre + 1)
	if !r.busy {
		e.startIteration(ri, now)
		return
	}
	if !r.decodeRun || len(r.next) != 1 {
		return
	}
	// The first iteration of the run that ends at or after now: the run
	// ends there instead. Iteration ends grow with j, so search.
	b := len(r.seqs) - r.nPrefill
	end := func(j int) sim.Time { // end of iteration j (0-based)
		sec, _ := r.est.DecodeRun(b, r.decCtx, j+1)
		return r.iterStart + atLeastTick(sec)
	}
	lo, hi := 0, r.runSteps-1
	for lo < hi {
		mid := (lo + hi) / 2
		if end(mid) >= now {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo+1 < r.runSteps {
		r.runSteps = lo + 1
		_, r.runJ = r.est.DecodeRun(b, r.decCtx, r.runSteps)
		r.gen++
		r.iterEnd = end(lo)
		e.k.Schedule(r.iterEnd, prioStep, evStep, int32(ri), r.gen)
	}
}

// admit makes call c a running sequence of replica r at now: it looks up
// the prefix cache and takes the blocks for the call's prompt.
func (e *engine) admit(r *replica, c int32, now sim.Time) {
	cl := &e.calls[c]
	if cl.preempts == 0 {
		cl.admitted = now
		cl.remaining = cl.output
	}
	cl.done = 0
	if r.caching && cl.prefKey != 0 && cl.prefShared > 0 {
		if hit := r.cache.lookup(cl.prefKey); hit > 0 {
			cl.done = min(hit, cl.prefShared, cl.pre-1)
			cl.hit = max(cl.hit, cl.done)
		}
	}
	if r.caching && cl.trace > 0 {
		// A trace's prefix blocks: the leading blocks found in the cache.
		t := e.traces[cl.trace-1].t
		hit := int32(0)
		for _, h := range t.At(int(cl.traceIdx)).Hash {
			if r.cache.lookup(h|traceKeyBit) == 0 {
				break
			}
			hit += int32(t.BlockTokens)
		}
		if hit > 0 {
			cl.done = min(hit, cl.pre-1)
			cl.hit = max(cl.hit, cl.done)
		}
	}
	cl.ctx = cl.pre
	cl.blk = r.blocksFor(cl.pre + 1)
	r.used += cl.blk
	r.cache.trim(int64(r.blocks-r.used) * int64(r.bt))
	r.seqs = append(r.seqs, c)
	r.nPrefill++
}

// startIteration begins the next iteration of replica ri at now, or leaves
// it idle when there is nothing to do.
func (e *engine) startIteration(ri int, now sim.Time) {
	r := &e.reps[ri]
	if r.down > 0 || r.off || r.prov {
		r.busy = false
		return
	}
	// Readmit preempted calls first, oldest first, while their blocks fit.
	k := 0
	for _, c := range r.preempted {
		cl := &e.calls[c]
		if cl.abandoned {
			e.freeCall(c)
			k++
			continue
		}
		if len(r.seqs) >= r.maxBatch || r.blocksFor(cl.pre+1) > r.free() {
			break
		}
		e.admit(r, c, now)
		k++
	}
	r.preempted = r.preempted[:copy(r.preempted, r.preempted[k:])]
	// Calls assigned here are admitted when their blocks are free: the
	// running calls' growth may have used blocks promised to them, and
	// running calls come first (as vLLM's scheduler does), so a call whose
	// blocks are not free yet waits for the next iteration.
	kept := r.next[:0]
	r.nextBlk = 0
	for _, c := range r.next {
		cl := &e.calls[c]
		if cl.abandoned {
			e.freeCall(c)
			continue
		}
		if len(kept) > 0 || r.blocksFor(cl.pre+1) > r.blocks-r.used {
			kept = append(kept, c)
			r.nextBlk += r.blocksFor(cl.pre + 1)
			continue
		}
		e.admit(r, c, now)
	}
	r.next = kept
	// Take waiting calls from the site's queue while there is room.
	p := &e.pools[r.pool]
	for p.queueLen() > 0 {
		c := p.queue[p.qHead]
		cl := &e.calls[c]
		if cl.abandoned {
			p.pop()
			e.freeCall(c)
			continue
		}
		if !r.canTake(cl.pre) {
			break
		}
		p.pop()
		cl.rep = int32(ri)
		e.admit(r, c, now)
	}

	nDec := len(r.seqs) - r.nPrefill
	r.iterStart = now
	r.gen++
	if r.nPrefill > 0 {
		// A mixed iteration: one token per decoding call, then prompt chunks.
		b := serving.Batch{DecodeSeqs: nDec, DecodeContext: r.decCtx}
		room := int32(r.budget - nDec)
		for _, c := range r.seqs {
			if room <= 0 {
				break
			}
			cl := &e.calls[c]
			if cl.done >= cl.pre {
				continue
			}
			ch := min(room, cl.pre-cl.done)
			cl.chunk = ch
			room -= ch
			b.PrefillTokens += int(ch)
			b.PrefillSeqs++
			b.PrefillPairs += float64(ch) * (float64(cl.done) + float64(ch)/2)
		}
		s, j := r.est.StepEnergy(b)
		r.busy, r.decodeRun, r.runSteps, r.runJ = true, false, 1, j
		r.iterEnd = now + atLeastTick(s)
		e.k.Schedule(r.iterEnd, prioStep, evStep, int32(ri), r.gen)
		return
	}
	if nDec == 0 {
		r.busy = false
		if r.draining && r.active() == 0 {
			e.release(ri, now)
		}
		return
	}
	// A decode run: until the first call finishes, or while the free blocks
	// surely cover every call crossing a block boundary (each call needs at
	// most one new block per bt iterations).
	steps := int32(1 << 30)
	for _, c := range r.seqs {
		if rem := e.calls[c].remaining; rem < steps {
			steps = rem
		}
	}
	if safe := r.bt * ((r.blocks - r.used) / int32(nDec)); safe < steps {
		steps = max(safe, 1)
	}
	acc, joules := r.est.DecodeRun(nDec, r.decCtx, int(steps))
	r.busy, r.decodeRun, r.runSteps, r.runJ = true, true, int(steps), joules
	r.iterEnd = now + atLeastTick(acc)
	e.k.Schedule(r.iterEnd, prioStep, evStep, int32(ri), r.gen)
}

// onStep ends the current iteration (or decode run) of replica ri at now.
func (e *engine) onStep(ri int32, now sim.Time) {
	r := &e.reps[ri]
	if in := clip(r.iterStart, now, e.winStart, e.winEnd); in > 0 {
		r.busyWin += in
		e.busyByHour(r, max(r.iterStart, e.winStart), in)
		r.joulesWin += r.runJ * float64(in) / float64(now-r.iterStart)
	}
	k := int32(r.runSteps)
	kept := r.seqs[:0]
	var victims []int32
	for i, c := range r.seqs {
		cl := &e.calls[c]
		if cl.rep == -2 {
			continue // preempted earlier in this loop
		}
		if cl.abandoned {
			// Given up on by its caller: aborted at this iteration boundary.
			if cl.done < cl.pre {
				r.nPrefill--
			} else {
				r.decCtx -= int(cl.ctx)
			}
			r.used -= cl.blk
			cl.blk, cl.chunk = 0, 0
			e.freeCall(c)
			continue
		}
		switch {
		case cl.chunk > 0:
			cl.done += cl.chunk
			cl.chunk = 0
			if cl.done < cl.pre {
				kept = append(kept, c)
				continue
			}
			// Prefill complete: its last chunk sampled a token.
			r.nPrefill--
			if cl.firstTok == 0 {
				cl.firstTok = now
			}
			cl.remaining--
			r.decCtx += int(cl.ctx)
		case cl.done < cl.pre:
			kept = append(kept, c) // still waiting for budget
			continue
		default:
			cl.remaining -= k
			cl.ctx += k
			r.decCtx += int(k)
		}
		if cl.remaining <= 0 {
			r.decCtx -= int(cl.ctx)
			r.used -= cl.blk
			if r.caching && cl.prefKey != 0 {
				r.cache.insert(cl.prefKey, cl.ctx)
			}
			if r.caching && cl.trace > 0 {
				e.cacheTraceBlocks(r, cl)
			}
			e.finish(c, now)
			continue
		}
		// The next token needs room in the call's blocks.
		if need := r.blocksFor(cl.ctx + 1); need > cl.blk {
			for r.used+need-cl.blk > r.blocks {
				// Out of blocks: preempt the newest admitted call (perhaps this one).
				v := e.preemptNewest(r, r.seqs[i+1:], &kept, c)
				if v < 0 {
					break
				}
				victims = append(victims, v)
				if v == c {
					break
				}
			}
			if len(victims) > 0 && victims[len(victims)-1] == c {
				continue
			}
			r.used += need - cl.blk
			cl.blk = need
		}
		kept = append(kept, c)
	}
	// Calls preempted from later in the list are marked; drop them.
	if len(victims) > 0 {
		out := kept[:0]
		for _, c := range kept {
			if e.calls[c].rep != -2 {
				out = append(out, c)
			}
		}
		kept = out
		for _, v := range victims {
			e.calls[v].rep = ri
		}
	}
	r.seqs = kept
	r.cache.trim(int64(r.blocks-r.used) * int64(r.bt))
	e.startIteration(int(ri), now)
}

// preemptNewest preempts the most recently admitted call of r: the last of
// rest not yet preempted, else the last kept, else self. The call's blocks
// are freed and it waits, marked with rep -2 until onStep ends, to be
// prefilled again from the start of its prompt and generated tokens.
func (e *engine) preemptNewest(r *replica, rest []int32, kept *[]int32, self int32) int32 {
	var v int32 = -1
	for i := len(rest) - 1; i >= 0; i-- {
		if e.calls[rest[i]].rep != -2 {
			v = rest[i]
			break
		}
	}
	if v < 0 {
		for i := len(*kept) - 1; i >= 0; i-- {
			if e.calls[(*kept)[i]].rep != -2 {
				v = (*kept)[i]
				break
			}
		}
	}
	if v < 0 {
		v = self
	}
	cl := &e.calls[v]
	if cl.done < cl.pre {
		r.nPrefill--
	} else {
		r.decCtx -= int(cl.ctx)
	}
	r.used -= cl.blk
	cl.blk, cl.chunk = 0, 0
	// Recompute: the prompt is now the original prompt plus every token generated so far.
	cl.pre = cl.prompt + (cl.output - cl.remaining)
	cl.ctx = 0
	cl.rep = -2
	cl.preempts++
	if e.inWindow(e.k.Now()) {
		e.m.pool[r.pool].preemptions++
	}
	r.preempted = append(r.preempted, v)
	return v
}

// traceKeyBit marks prefix-cache keys that are trace block hashes, keeping
// them apart from agent-session keys (small counters).
const traceKeyBit = 1 << 63

// cacheTraceBlocks records a finished trace call's prompt blocks in r's
// prefix cache: each block hash caches BlockTokens tokens, the last one the
// prompt's remainder.
func (e *engine) cacheTraceBlocks(r *replica, cl *call) {
	t := e.traces[cl.trace-1].t
	hs := t.At(int(cl.traceIdx)).Hash
	bt := int32(t.BlockTokens)
	for k, h := range hs {
		n := bt
		if k == len(hs)-1 {
			n = cl.prompt - bt*int32(k)
		}
		if n > 0 {
			r.cache.insert(h|traceKeyBit, n)
		}
	}
}
