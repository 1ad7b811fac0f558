package serving

import "math"

// DefaultTokenBudget is the default number of tokens one iteration may
// process (prefill chunk tokens plus one per decoding sequence): vLLM's
// max_num_batched_tokens for online serving with chunked prefill (V1 engine
// default, vllm/engine/arg_utils.py, 8192 for datacenter GPUs).
const DefaultTokenBudget = 8192

// Prediction is what the model predicts for one operating point. Times are
// in milliseconds.
type Prediction struct {
	// PrefillMs is the time of an iteration that prefills one prompt alone.
	PrefillMs float64
	// TPOTMs is the time per output token: the mean iteration time once the
	// operating point's sequences are decoding.
	TPOTMs float64
	// TTFTMs is the time to first token.
	TTFTMs float64
	// E2EMs is the end-to-end time of one request: TTFT + (osl − 1) × TPOT.
	E2EMs float64
	// OutputTokensPerS is the output tokens per second of the whole replica.
	OutputTokensPerS float64
	// MaxConcurrency is the most sequences of this shape the replica holds at
	// once: min(MaxBatch, KV capacity / (isl + osl)).
	MaxConcurrency int
}

// MaxConcurrency returns the most sequences with isl prompt and osl output
// tokens that the replica runs at once without preemption: min(MaxBatch,
// KVCapacityTokens / (isl + osl)), and at least 1 when one sequence fits.
// It is 0 when not even one sequence fits.
func (s *StepModel) MaxConcurrency(isl, osl int) int {
	per := max(isl, 0) + max(osl, 1)
	n := s.kvCapacity / per
	return min(n, s.spec.MaxBatch)
}

// chunks returns how many iterations a prefill of tokens takes with room
// tokens per iteration, and the (query, key) pairs of the whole prefill.
func chunks(tokens, room int) int {
	if room < 1 {
		room = 1
	}
	return (tokens + room - 1) / room
}

// Steady predicts continuous batching in steady state with n sequences of
// isl prompt and osl output tokens always in flight, under a token budget
// per iteration (DefaultTokenBudget when <= 0). As sequences finish, new
// ones are prefilled in chunks mixed with the others' decode steps, so the
// mean iteration carries n decode tokens (at mean context isl + osl/2) and
// n × isl / osl prefill tokens. TTFT is the prefill of one prompt in chunks
// of the budget left beside n − 1 decoding sequences, at the mean iteration
// time of those iterations.
func (s *StepModel) Steady(n, isl, osl, budget int) Prediction {
	if budget <= 0 {
		budget = DefaultTokenBudget
	}
	isl, osl = max(isl, 1), max(osl, 1)
	p := Prediction{MaxConcurrency: s.MaxConcurrency(isl, osl)}
	fi := float64(isl)
	p.PrefillMs = 1e3 * s.prefillAlone(isl, budget)
	if n < 1 {
		return p
	}
	fn, fo := float64(n), float64(osl)
	// Per iteration on average: each sequence yields one token, and for every
	// osl tokens a new prompt of isl tokens is prefilled.
	prefill := fn * fi / fo
	c, m, f := s.parts(work{
		prefillTokens: prefill,
		prefillSeqs:   math.Min(fn/fo*float64(chunks(isl, budget)), fn),
		prefillPairs:  fn / fo * fi * fi / 2,
		decodeSeqs:    fn * (fo - 1) / fo,
		decodeContext: fn * (fo - 1) / fo * (fi + fo/2),
	})
	step := c + m + f
	p.TPOTMs = 1e3 * step
	// A new prompt shares each iteration with n−1 decoding sequences.
	room := max(budget-(n-1), 1)
	k := chunks(isl, room)
	ttft := 0.0
	done := 0
	for i := 0; i < k; i++ {
		ch := min(room, isl-done)
		c, m, f := s.parts(work{
			prefillTokens: float64(ch), prefillSeqs: 1,
			prefillPairs: float64(ch) * (float64(done) + float64(ch)/2),
			decodeSeqs:   fn - 1, decodeContext: (fn - 1) * (fi + fo/2),
		})
		ttft += c + m + f
		done += ch
	}
	p.TTFTMs = 1e3 * ttft
	p.E2EMs = p.TTFTMs + (fo-1)*p.TPOTMs
	if step > 0 {
		p.OutputTokensPerS = fn / step
	}
	return p
}

// prefillAlone is the time to prefill one prompt of isl tokens on an idle
// replica, in chunks of the budget.
func (s *StepModel) prefillAlone(isl, budget int) float64 {
	t, done := 0.0, 0
	for done < isl {
		ch := min(budget, isl-done)
		t += s.StepSeconds(Batch{PrefillTokens: ch, PrefillSeqs: 1, PrefillPairs: float64(ch) * (float64(done) + float64(ch)/2)})
		done += ch
	}
	return t
}

// Static predicts a static batch: batch requests of isl prompt and osl
// output tokens that all start together and run to completion with no new
// arrivals, as offline benchmarks measure. The replica runs at most
// MaxConcurrency of them at once (its KV cache and batch limit); a larger
// batch runs in waves, as an engine that admits on free KV blocks does when
// every request has the same length. In each wave the prompts are
// prefilled in iterations of at most budget tokens (DefaultTokenBudget when
// <= 0; a prompt longer than the budget is chunked), the last of which
// yields every first token; then osl − 1 decode steps run with the whole
// wave, the context growing by one token per sequence per step. E2E is the
// whole batch's time, TTFT the end of the first wave's prefill, and
// OutputTokensPerS is batch × osl / E2E. The decode sum is exact (step time
// is linear in the context; see DecodeRun).
func (s *StepModel) Static(batch, isl, osl, budget int) Prediction {
	if budget <= 0 {
		budget = DefaultTokenBudget
	}
	isl, osl, batch = max(isl, 1), max(osl, 1), max(batch, 1)
	p := Prediction{MaxConcurrency: s.MaxConcurrency(isl, osl)}
	p.PrefillMs = 1e3 * s.prefillAlone(isl, budget)
	wave := max(p.MaxConcurrency, 1)
	total, tpotSum, tpotN := 0.0, 0.0, 0
	for left := batch; left > 0; left -= wave {
		n := min(wave, left)
		prefill := s.packedPrefill(n, isl, budget)
		decode, _ := s.DecodeRun(n, n*(isl+1), osl-1)
		if total == 0 {
			p.TTFTMs = 1e3 * prefill
		}
		total += prefill + decode
		if osl > 1 {
			tpotSum += decode / float64(osl-1)
			tpotN++
		}
	}
	if tpotN > 0 {
		p.TPOTMs = 1e3 * tpotSum / float64(tpotN)
	}
	p.E2EMs = 1e3 * total
	p.OutputTokensPerS = float64(batch*osl) / total
	return p
}

// packedPrefill is the time to prefill n prompts of isl tokens, packed one
// after another into iterations of at most budget tokens: an iteration may
// hold the tail of one prompt and the head of the next, and each piece's
// attention spans the prompt's tokens before it.
func (s *StepModel) packedPrefill(n, isl, budget int) float64 {
	total := n * isl
	t, done := 0.0, 0
	for done < total {
		ch := min(budget, total-done)
		var pairs float64
		seqs := 0
		for pos, left := done, ch; left > 0; {
			off := pos % isl
			seg := min(isl-off, left)
			pairs += float64(seg) * (float64(off) + float64(seg)/2)
			seqs++
			pos += seg
			left -= seg
		}
		t += s.StepSeconds(Batch{PrefillTokens: ch, PrefillSeqs: seqs, PrefillPairs: pairs})
		done += ch
	}
	return t
}
