package serving

import (
	"fmt"
	"math"
	"testing"
)

// decodeBySteps is the dumb reference for DecodeRun: it sums StepEnergy
// over steps decode iterations of batch sequences, the context growing by
// batch tokens (one per sequence) per iteration.
func decodeBySteps(s *StepModel, batch, ctx, steps int) (seconds, joules float64) {
	for j := 0; j < steps; j++ {
		sec, jl := s.StepEnergy(Batch{DecodeSeqs: batch, DecodeContext: ctx + j*batch})
		seconds += sec
		joules += jl
	}
	return seconds, joules
}

// computeBoundAttention has an attention efficiency so low that decode
// attention is compute-bound: for Llama-3.1-8B a KV token costs 4 × 32 × 32
// × 128 = 524,288 FLOPs and 2 × 32 × 8 × 128 × 2 = 131,072 B, 4 FLOP/B; on
// an H100 at AttentionMFU 0.005 and KVMBU 1 the replica does 4.947e12 FLOP/s
// against 3.35e12 B/s, 1.48 FLOP/B, so the FLOPs take longer than the bytes.
func computeBoundAttention() Coefficients {
	c := DefaultCoefficients()
	c.AttentionMFU, c.KVMBU = 0.005, 1
	return c
}

// TestDecodeRunMatchesSteps: DecodeRun's closed form equals the sum of the
// individual decode iterations, in time and in energy, whether the weights
// or the KV reads dominate, whether the GEMMs are compute- or memory-bound,
// whether decode attention is compute- or memory-bound, and with tensor
// parallelism (which adds all-reduces to every step).
func TestDecodeRunMatchesSteps(t *testing.T) {
	tests := []struct {
		name             string
		model, gpu       string
		tp               int
		c                Coefficients
		batch, ctx, k    int
		wantComputeBound bool // decode attention compute-bound (checked, so the case is what it says)
	}{
		{name: "8b tp1 weights-bound batch 4", model: "llama-3.1-8b", gpu: "h100", tp: 1, c: DefaultCoefficients(), batch: 4, ctx: 4 * 1025, k: 37},
		{name: "8b tp1 kv-bound batch 64 long context", model: "llama-3.1-8b", gpu: "h100", tp: 1, c: DefaultCoefficients(), batch: 64, ctx: 64 * 4000, k: 50},
		{name: "8b tp1 gemm compute-bound batch 1024", model: "llama-3.1-8b", gpu: "h100", tp: 1, c: DefaultCoefficients(), batch: 1024, ctx: 1024 * 10, k: 20},
		{name: "8b tp1 attention compute-bound", model: "llama-3.1-8b", gpu: "h100", tp: 1, c: computeBoundAttention(), batch: 16, ctx: 16 * 2000, k: 33, wantComputeBound: true},
		{name: "70b tp4 memory-bound", model: "llama-3.1-70b", gpu: "h100", tp: 4, c: DefaultCoefficients(), batch: 8, ctx: 8 * 1025, k: 41},
		{name: "70b tp4 attention compute-bound", model: "llama-3.1-70b", gpu: "h100", tp: 4, c: computeBoundAttention(), batch: 128, ctx: 128 * 3000, k: 25, wantComputeBound: true},
		{name: "70b tp4 zero context", model: "llama-3.1-70b", gpu: "a100-80gb", tp: 4, c: DefaultCoefficients(), batch: 3, ctx: 0, k: 9},
		{name: "one step", model: "llama-3.1-8b", gpu: "h100", tp: 1, c: DefaultCoefficients(), batch: 5, ctx: 500, k: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustStep(t, ReplicaSpec{Model: mustModel(t, tt.model), GPU: mustGPU(t, tt.gpu), TensorParallel: tt.tp, MaxBatch: 4096}, tt.c)
			// Energy at full TDP for the attention part tells compute-bound
			// attention apart: StepEnergy of one extra context token costs
			// TDP × its seconds only when it is compute-bound.
			s1, j1 := s.StepEnergy(Batch{DecodeSeqs: 1, DecodeContext: 1000})
			s2, j2 := s.StepEnergy(Batch{DecodeSeqs: 1, DecodeContext: 2000})
			computeBound := closeTo((j2-j1)/(s2-s1), s.tdpWatts, 1e-9)
			if computeBound != tt.wantComputeBound {
				t.Fatalf("decode attention compute-bound %v, want %v: the case does not test what it says", computeBound, tt.wantComputeBound)
			}
			wantS, wantJ := decodeBySteps(s, tt.batch, tt.ctx, tt.k)
			gotS, gotJ := s.DecodeRun(tt.batch, tt.ctx, tt.k)
			if !closeTo(gotS, wantS, 1e-9) {
				t.Errorf("DecodeRun(%d, %d, %d) seconds: got %.12g, want %.12g (sum of StepSeconds)", tt.batch, tt.ctx, tt.k, gotS, wantS)
			}
			if !closeTo(gotJ, wantJ, 1e-9) {
				t.Errorf("DecodeRun(%d, %d, %d) joules: got %.12g, want %.12g (sum of StepEnergy)", tt.batch, tt.ctx, tt.k, gotJ, wantJ)
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		s := mustStep(t, ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, MaxBatch: 8}, DefaultCoefficients())
		for _, a := range [][3]int{{0, 100, 5}, {4, 100, 0}, {-1, 100, 5}, {4, 100, -3}} {
			if sec, j := s.DecodeRun(a[0], a[1], a[2]); sec != 0 || j != 0 {
				t.Errorf("DecodeRun%v: got (%g s, %g J), want (0, 0)", a, sec, j)
			}
		}
	})
}

// packedPrefillByHand is the documented prefill of a static wave: n prompts
// of isl tokens laid end to end and cut into iterations of at most budget
// tokens. Each iteration's attention work is the sum over the prompt pieces
// in it of piece × (tokens of that prompt before it + piece / 2), and its
// sequence count is the number of prompts with a piece in it.
func packedPrefillByHand(s *StepModel, n, isl, budget int) float64 {
	total := n * isl
	t := 0.0
	for start := 0; start < total; start += budget {
		end := min(start+budget, total)
		var b Batch
		for pos := start; pos < end; {
			off := pos % isl
			piece := min(isl-off, end-pos)
			b.PrefillTokens += piece
			b.PrefillSeqs++
			b.PrefillPairs += float64(piece) * (float64(off) + float64(piece)/2)
			pos += piece
		}
		t += s.StepSeconds(b)
	}
	return t
}

// TestStaticOneWaveByHand: a static batch that fits runs one wave: the
// packed prefill, then osl − 1 decode steps of the whole batch starting at
// isl + 1 tokens of context per sequence (the prompt and the first token).
// E2E, TTFT, TPOT and throughput are worked out from StepSeconds step by step.
func TestStaticOneWaveByHand(t *testing.T) {
	tests := []struct {
		name                    string
		model                   string
		tp, batch, isl, osl, bu int
	}{
		// 8 × 512 = 4096 prompt tokens, one iteration under the 8192 budget.
		{name: "8b one prefill iteration", model: "llama-3.1-8b", tp: 1, batch: 8, isl: 512, osl: 16, bu: 8192},
		// 16 × 1024 = 16384 tokens: two full iterations of 8 prompts each.
		{name: "8b two prefill iterations", model: "llama-3.1-8b", tp: 1, batch: 16, isl: 1024, osl: 33, bu: 8192},
		// Prompt twice the budget: each prompt is two chunks, the second seeing the first.
		{name: "70b tp4 chunked prompts", model: "llama-3.1-70b", tp: 4, batch: 3, isl: 4096, osl: 9, bu: 2048},
		// Prompt equal to the budget: one prompt per iteration.
		{name: "70b tp4 prompt equals budget", model: "llama-3.1-70b", tp: 4, batch: 2, isl: 2048, osl: 5, bu: 2048},
		// osl 1: no decode step; E2E is the prefill.
		{name: "8b osl 1", model: "llama-3.1-8b", tp: 1, batch: 4, isl: 100, osl: 1, bu: 8192},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultCoefficients()
			c.SeqOverheadS = 50e-6 // make a wrong sequence count visible
			s := mustStep(t, ReplicaSpec{Model: mustModel(t, tt.model), GPU: mustGPU(t, "h100"), TensorParallel: tt.tp, MaxBatch: 256}, c)
			if mc := s.MaxConcurrency(tt.isl, tt.osl); mc < tt.batch {
				t.Fatalf("MaxConcurrency %d < batch %d: the case is not one wave", mc, tt.batch)
			}
			prefill := packedPrefillByHand(s, tt.batch, tt.isl, tt.bu)
			decode := 0.0
			for j := 0; j < tt.osl-1; j++ {
				decode += s.StepSeconds(Batch{DecodeSeqs: tt.batch, DecodeContext: tt.batch*(tt.isl+1) + j*tt.batch})
			}
			p := s.Static(tt.batch, tt.isl, tt.osl, tt.bu)
			wantE2E := 1e3 * (prefill + decode)
			if !closeTo(p.E2EMs, wantE2E, 1e-9) {
				t.Errorf("E2EMs: got %.12g, want %.12g (prefill %.6g ms + decode %.6g ms)", p.E2EMs, wantE2E, 1e3*prefill, 1e3*decode)
			}
			if !closeTo(p.TTFTMs, 1e3*prefill, 1e-9) {
				t.Errorf("TTFTMs: got %.12g, want %.12g", p.TTFTMs, 1e3*prefill)
			}
			wantTPOT := 0.0
			if tt.osl > 1 {
				wantTPOT = 1e3 * decode / float64(tt.osl-1)
			}
			if !closeTo(p.TPOTMs, wantTPOT, 1e-9) {
				t.Errorf("TPOTMs: got %.12g, want %.12g", p.TPOTMs, wantTPOT)
			}
			wantTPS := float64(tt.batch*tt.osl) / (prefill + decode)
			if !closeTo(p.OutputTokensPerS, wantTPS, 1e-9) {
				t.Errorf("OutputTokensPerS: got %.12g, want %.12g", p.OutputTokensPerS, wantTPS)
			}
		})
	}
}

// TestStaticPromptsStraddleChunks: when the prompt is longer than the token
// budget but not a multiple of it, one iteration holds the tail of one
// prompt and the head of the next. Its attention work is the two pieces'
// (the tail sees the prompt's earlier tokens, the head sees none), and it
// has two sequences.
func TestStaticPromptsStraddleChunks(t *testing.T) {
	c := DefaultCoefficients()
	c.SeqOverheadS = 50e-6
	s := mustStep(t, ReplicaSpec{Model: mustModel(t, "llama-3.1-70b"), GPU: mustGPU(t, "h100"), TensorParallel: 4, MaxBatch: 256}, c)
	const batch, isl, osl, budget = 2, 3000, 2, 2048
	want := 1e3 * packedPrefillByHand(s, batch, isl, budget)
	if got := s.Static(batch, isl, osl, budget).TTFTMs; !closeTo(got, want, 1e-9) {
		t.Errorf("TTFTMs: got %.9g, want %.9g", got, want)
	}
}

// TestStaticWaves: a batch larger than MaxConcurrency runs in
// ceil(batch / n) waves, each a static batch of its own: E2E is the sum of
// the waves' E2E, the last wave holding the remainder; TTFT is the first
// wave's.
func TestStaticWaves(t *testing.T) {
	const maxBatch, isl, osl = 4, 256, 64
	s := mustStep(t, ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, MaxBatch: maxBatch}, DefaultCoefficients())
	if n := s.MaxConcurrency(isl, osl); n != maxBatch {
		t.Fatalf("MaxConcurrency: got %d, want the batch limit %d", n, maxBatch)
	}
	wave := func(n int) float64 { return s.Static(n, isl, osl, 0).E2EMs }
	for _, batch := range []int{4, 5, 8, 9, 10, 12, 13} {
		t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) {
			full, rest := batch/maxBatch, batch%maxBatch
			want := float64(full) * wave(maxBatch)
			if rest > 0 {
				want += wave(rest)
			}
			p := s.Static(batch, isl, osl, 0)
			if !closeTo(p.E2EMs, want, 1e-9) {
				t.Errorf("E2EMs: got %.9g, want %.9g (%d full waves + one of %d)", p.E2EMs, want, full, rest)
			}
			if tt := s.Static(maxBatch, isl, osl, 0).TTFTMs; !closeTo(p.TTFTMs, tt, 1e-9) {
				t.Errorf("TTFTMs: got %.9g, want the first wave's %.9g", p.TTFTMs, tt)
			}
			if want := float64(batch*osl) / (p.E2EMs / 1e3); !closeTo(p.OutputTokensPerS, want, 1e-9) {
				t.Errorf("OutputTokensPerS: got %.9g, want batch × osl / E2E = %.9g", p.OutputTokensPerS, want)
			}
		})
	}
	// Whole waves: 8 requests take exactly twice as long as 4.
	if got, want := wave(8), 2*wave(4); !closeTo(got, want, 1e-9) {
		t.Errorf("E2E(8): got %.9g ms, want 2 × E2E(4) = %.9g ms", got, want)
	}
}

// TestMaxConcurrencyByHand: min(MaxBatch, KV tokens / (isl + osl)), the
// KV capacity worked out from the catalog numbers.
func TestMaxConcurrencyByHand(t *testing.T) {
	// Llama-3.1-8B on one H100 at the defaults: 0.9 × 80e9 = 72e9 B usable,
	// × 0.95 after the activation reserve = 68.4e9, minus 8.03e9 × 2 B of
	// weights = 52.34e9 B; one token of KV is 2 × 32 layers × 8 heads × 128 ×
	// 2 B = 131,072 B, so 52.34e9 / 131,072 = 399,322.7 -> 399,322 tokens.
	const kv = 399322
	tests := []struct {
		maxBatch, isl, osl, want int
	}{
		{256, 1024, 1024, 194}, // 399,322 / 2048 = 194.98
		{128, 1024, 1024, 128}, // the batch limit binds
		{4096, 128, 128, 1559}, // 399,322 / 256 = 1559.9
		{256, 300000, 99322, 1},
		{256, 300000, 99323, 0}, // one token too many for one sequence
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("max %d isl %d osl %d", tt.maxBatch, tt.isl, tt.osl), func(t *testing.T) {
			s := mustStep(t, ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, MaxBatch: tt.maxBatch}, DefaultCoefficients())
			if got := s.KVCapacityTokens(); got != kv {
				t.Fatalf("KVCapacityTokens: got %d, want %d", got, kv)
			}
			if got := s.MaxConcurrency(tt.isl, tt.osl); got != tt.want {
				t.Errorf("MaxConcurrency: got %d, want %d", got, tt.want)
			}
			if got := s.Steady(1, tt.isl, tt.osl, 0).MaxConcurrency; got != tt.want {
				t.Errorf("Steady().MaxConcurrency: got %d, want %d", got, tt.want)
			}
		})
	}
}

// TestSteadyIdentities: the relations Steady's Prediction promises between
// its fields, on several replicas and operating points.
func TestSteadyIdentities(t *testing.T) {
	tests := []struct {
		model, gpu         string
		tp, n, isl, osl, b int
	}{
		{"llama-3.1-8b", "h100", 1, 1, 128, 128, 0},
		{"llama-3.1-8b", "h100", 1, 64, 1024, 1024, 0},
		{"llama-3.1-8b", "a100-80gb", 1, 32, 10000, 200, 0}, // prompt longer than the budget: chunked TTFT
		{"llama-3.1-70b", "h100", 4, 64, 1024, 1024, 0},     // all-reduces
		{"llama-3.1-70b", "h100", 8, 256, 2048, 128, 4096},  // own budget
		{"llama-3.1-70b", "h200", 4, 100, 512, 1, 0},        // osl 1
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %dx%s n%d %d/%d", tt.model, tt.tp, tt.gpu, tt.n, tt.isl, tt.osl), func(t *testing.T) {
			s := mustStep(t, ReplicaSpec{Model: mustModel(t, tt.model), GPU: mustGPU(t, tt.gpu), TensorParallel: tt.tp, MaxBatch: 512}, DefaultCoefficients())
			p := s.Steady(tt.n, tt.isl, tt.osl, tt.b)
			if !(p.TPOTMs > 0 && p.TTFTMs > 0 && p.PrefillMs > 0) {
				t.Fatalf("non-positive times: %+v", p)
			}
			if want := float64(tt.n) / (p.TPOTMs / 1e3); !closeTo(p.OutputTokensPerS, want, 1e-12) {
				t.Errorf("OutputTokensPerS: got %.12g, want n / TPOT = %.12g", p.OutputTokensPerS, want)
			}
			if want := p.TTFTMs + float64(tt.osl-1)*p.TPOTMs; !closeTo(p.E2EMs, want, 1e-12) {
				t.Errorf("E2EMs: got %.12g, want TTFT + (osl−1) × TPOT = %.12g", p.E2EMs, want)
			}
			// PrefillMs is one prompt alone; with n−1 others decoding beside
			// it, the first token cannot come sooner.
			if p.TTFTMs < p.PrefillMs*(1-1e-12) {
				t.Errorf("TTFTMs %.6g < PrefillMs %.6g", p.TTFTMs, p.PrefillMs)
			}
			if tt.n == 1 && !closeTo(p.TTFTMs, p.PrefillMs, 1e-12) {
				t.Errorf("n 1: TTFTMs %.12g, want PrefillMs %.12g (nothing else in the iterations)", p.TTFTMs, p.PrefillMs)
			}
		})
	}
}

// TestSteadyThroughputGrowsWithConcurrency: for Llama-3.1-8B on an H100,
// replica throughput n / step(n) rises with every added sequence up to
// MaxConcurrency: the step time is a fixed part (weights or GEMM, overhead)
// plus a part proportional to n, so step(n) / n falls.
func TestSteadyThroughputGrowsWithConcurrency(t *testing.T) {
	for _, shape := range [][2]int{{1024, 1024}, {128, 2048}, {4096, 256}} {
		isl, osl := shape[0], shape[1]
		t.Run(fmt.Sprintf("%d/%d", isl, osl), func(t *testing.T) {
			s := mustStep(t, ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, MaxBatch: 512}, DefaultCoefficients())
			mc := s.MaxConcurrency(isl, osl)
			if mc < 64 {
				t.Fatalf("MaxConcurrency %d: too small to test", mc)
			}
			prev := 0.0
			for n := 1; n <= mc; n++ {
				got := s.Steady(n, isl, osl, 0).OutputTokensPerS
				if !(got > prev) {
					t.Fatalf("n %d: %.6g tokens/s, not above n %d's %.6g", n, got, n-1, prev)
				}
				prev = got
			}
		})
	}
}

// TestSteadyEmpty: n < 1 predicts no decode, only the prefill and the limit.
func TestSteadyEmpty(t *testing.T) {
	s := mustStep(t, ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, MaxBatch: 256}, DefaultCoefficients())
	p := s.Steady(0, 1024, 1024, 0)
	if p.TPOTMs != 0 || p.OutputTokensPerS != 0 || p.E2EMs != 0 {
		t.Errorf("Steady(0): got %+v, want zero TPOT, E2E and throughput", p)
	}
	if want := 1e3 * s.PrefillSeconds(1024, 1, 1024*1024/2); !closeTo(p.PrefillMs, want, 1e-12) {
		t.Errorf("PrefillMs: got %.12g, want %.12g", p.PrefillMs, want)
	}
	if math.IsNaN(p.TTFTMs) {
		t.Error("TTFTMs is NaN")
	}
}
