package serving

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func mustModel(t testing.TB, id string) Model {
	t.Helper()
	m, ok := LookupModel(id)
	if !ok {
		t.Fatalf("LookupModel(%q): not found", id)
	}
	return m
}

func mustGPU(t testing.TB, id string) GPU {
	t.Helper()
	g, ok := LookupGPU(id)
	if !ok {
		t.Fatalf("LookupGPU(%q): not found", id)
	}
	return g
}

func mustStep(t testing.TB, spec ReplicaSpec, c Coefficients) *StepModel {
	t.Helper()
	r, err := New(spec, c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// plainEff has round numbers so that expected values can be worked out by hand.
func plainEff() Coefficients {
	return Coefficients{LinearMFU: 0.5, AttentionMFU: 0.25, MBU: 0.8, KVMBU: 0.8, ActivationReserveFraction: 0.05, IdlePowerFraction: 0.1, MemoryBoundPowerFraction: 0.5}
}

func closeTo(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)
}

func TestKVCapacityByHand(t *testing.T) {
	tests := []struct {
		name string
		spec ReplicaSpec
		want int
	}{
		{
			// usable = 0.9 × 80e9 × 4 = 288e9 B; after the 5% reserve 273.6e9;
			// minus weights 70.55e9 × 2 = 141.1e9 leaves 132.5e9 B;
			// / 327,680 B per token = 404,357.9 -> 404,357 tokens.
			name: "llama-3.1-70b bf16 4xh100",
			spec: ReplicaSpec{Model: mustModel(t, "llama-3.1-70b"), GPU: mustGPU(t, "h100"), TensorParallel: 4, Precision: BF16, MaxBatch: 256, MemoryFraction: 0.9},
			want: 404357,
		},
		{
			// MemoryFraction 0 means 0.9: usable 72e9 × 0.95 = 68.4e9; minus
			// 16.06e9 = 52.34e9; / 131,072 = 399,322.5 -> 399,322.
			name: "llama-3.1-8b bf16 1xh100 default fraction",
			spec: ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, MaxBatch: 64},
			want: 399322,
		},
		{
			// FP8 halves weights and KV: 0.9 × 141e9 × 0.95 = 120.555e9;
			// minus 8.03e9 = 112.525e9; / 65,536 = 1,716,995.2 -> 1,716,995.
			name: "llama-3.1-8b fp8 1xh200",
			spec: ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h200"), TensorParallel: 1, Precision: FP8, MaxBatch: 64},
			want: 1716995,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustStep(t, tt.spec, plainEff())
			if got := r.KVCapacityTokens(); got != tt.want {
				t.Errorf("KVCapacityTokens: got %d, want %d", got, tt.want)
			}
		})
	}
}

// TestKVCapacityReplicatesHeads checks that with more GPUs than KV heads each
// GPU holds a whole head, so the replica stores TP/KVHeads times the
// model's KV bytes per token.
func TestKVCapacityReplicatesHeads(t *testing.T) {
	m := mustModel(t, "llama-3.1-70b")
	m.KVHeads = 2 // made-up model: 2 KV heads on 8 GPUs -> each head on 4 GPUs
	r := mustStep(t, ReplicaSpec{Model: m, GPU: mustGPU(t, "h100"), TensorParallel: 8, MaxBatch: 8}, plainEff())
	// usable 0.9 × 80e9 × 8 × 0.95 = 547.2e9; minus 141.1e9 = 406.1e9.
	// Stored per token: 2 × 80 × 128 × 2 B × 1 head × 8 GPUs = 327,680 B
	// (4 × the model's 81,920 B) -> 1,239,318.8 -> 1,239,318 tokens.
	if got, want := r.KVCapacityTokens(), 1239318; got != want {
		t.Errorf("KVCapacityTokens: got %d, want %d", got, want)
	}
}

// handModel is a made-up dense model with no vocabulary (so the LM head
// vanishes) and round shapes, so step times can be worked out by hand.
func handModel() Model {
	return Model{ID: "hand", ParamsB: 10, Layers: 40, Hidden: 5120, Heads: 40, KVHeads: 8, HeadDim: 128, Intermediate: 13824, MaxContext: 1 << 20}
}

func TestStepByHand(t *testing.T) {
	// H100: 989.4 TFLOP/s BF16, 1979 FP8, 3.35 TB/s. plainEff: MFU 0.5, attention 0.25, MBU 0.8.
	h100 := mustGPU(t, "h100")
	m := handModel()
	kvTok := 2.0 * 40 * 8 * 128 * 2 // 163,840 B per token in BF16
	memW := 20e9 / (3.35e12 * 0.8)  // 7.4627 ms to read 20 GB of weights
	tests := []struct {
		name string
		c    Coefficients
		b    Batch
		want float64
	}{
		{
			// 8 decode tokens: 2 × 10e9 × 8 / (989.4e12 × 0.5) = 0.323 ms < 7.46 ms, so memory-bound on
			// weights; KV of 8 × 1000 tokens: 163,840 × 8000 / 2.68e12 = 0.489 ms vs attention
			// compute 4 × 40 × 40 × 128 × 8000 / (989.4e12 × 0.25) = 0.026 ms.
			name: "decode memory-bound", c: plainEff(),
			b:    Batch{DecodeSeqs: 8, DecodeContext: 8000},
			want: memW + kvTok*8000/(3.35e12*0.8),
		},
		{
			// 4096 prompt tokens: linear 2 × 10e9 × 4096 / 494.7e12 = 165.6 ms (compute-bound);
			// attention 4 × 40 × 40 × 128 × 4096²/2 / (989.4e12 × 0.25) = 6.95 ms.
			name: "prefill compute-bound", c: plainEff(),
			b:    Batch{PrefillTokens: 4096, PrefillSeqs: 1, PrefillPairs: 4096 * 4096 / 2},
			want: 2*10e9*4096/(989.4e12*0.5) + 4*40*40*128*4096.0*4096/2/(989.4e12*0.25),
		},
		{
			// Mixed: 500 prefill tokens + 100 decode tokens = 600 tokens of GEMM: 24.26 ms compute-bound;
			// prefill attention 500 × (0 + 250) pairs; decode KV 100 × 2000 tokens memory-bound;
			// overheads 2 ms + 101 sequences × 10 µs.
			name: "mixed with overheads",
			c: func() Coefficients {
				c := plainEff()
				c.StepOverheadS, c.SeqOverheadS = 2e-3, 10e-6
				return c
			}(),
			b: Batch{PrefillTokens: 500, PrefillSeqs: 1, PrefillPairs: 500 * 250, DecodeSeqs: 100, DecodeContext: 200000},
			want: 2*10e9*600/(989.4e12*0.5) + 4*40*40*128*500.0*250/(989.4e12*0.25) +
				kvTok*200000/(3.35e12*0.8) + 2e-3 + 101*10e-6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustStep(t, ReplicaSpec{Model: m, GPU: h100, TensorParallel: 1, MaxBatch: 256}, tt.c)
			if got := r.StepSeconds(tt.b); !closeTo(got, tt.want, 1e-9) {
				t.Errorf("StepSeconds(%+v): got %.9g s, want %.9g s", tt.b, got, tt.want)
			}
		})
	}
}

// TestLMHeadPerSequence: the LM head (vocab × hidden) runs once per
// sequence, not once per prompt token, so a 4096-token prompt of one
// sequence costs less than 4096 decode tokens of 4096 sequences at the same
// GEMM token count, by exactly 4095 head GEMMs (compute-bound case, no
// attention work, no overheads).
func TestLMHeadPerSequence(t *testing.T) {
	m := mustModel(t, "llama-3.1-8b")
	g := mustGPU(t, "h100")
	r := mustStep(t, ReplicaSpec{Model: m, GPU: g, TensorParallel: 1, MaxBatch: 8192}, plainEff())
	pre := r.StepSeconds(Batch{PrefillTokens: 4096, PrefillSeqs: 1})
	dec := r.StepSeconds(Batch{DecodeSeqs: 4096})
	want := 4095 * 2 * float64(m.Vocab) * float64(m.Hidden) / (989.4e12 * 0.5)
	if got := dec - pre; !closeTo(got, want, 1e-6) {
		t.Errorf("decode − prefill at 4096 tokens: got %g s, want %g s (4095 LM-head GEMMs)", got, want)
	}
}

// TestTensorParallelAllReduce: a TP step adds 2 × layers all-reduces of the
// step's activations, each timed by AllReduceSeconds.
func TestTensorParallelAllReduce(t *testing.T) {
	m := handModel()
	g := mustGPU(t, "h100")
	c := plainEff()
	r2 := mustStep(t, ReplicaSpec{Model: m, GPU: g, TensorParallel: 2, MaxBatch: 256}, c)
	b := Batch{DecodeSeqs: 16, DecodeContext: 16000}
	// Everything but the all-reduces halves with TP 2 (weights, KV and compute split across 2 GPUs).
	r1 := mustStep(t, ReplicaSpec{Model: m, GPU: g, TensorParallel: 1, MaxBatch: 256}, c)
	want := r1.StepSeconds(b)/2 + 80*AllReduceSeconds(g, 2, 16*5120*2)
	if got := r2.StepSeconds(b); !closeTo(got, want, 1e-9) {
		t.Errorf("TP 2 step: got %g s, want %g s", got, want)
	}
}

// TestStepEnergy: compute-bound seconds draw TDP, the rest the memory-bound
// fraction; idle draw is the idle fraction.
func TestStepEnergy(t *testing.T) {
	m := handModel()
	g := mustGPU(t, "h100")
	r := mustStep(t, ReplicaSpec{Model: m, GPU: g, TensorParallel: 1, MaxBatch: 256}, plainEff())
	// Pure decode at batch 1 is memory-bound: energy = 0.5 × 700 W × time.
	dec := Batch{DecodeSeqs: 1, DecodeContext: 100}
	sec, j := r.StepEnergy(dec)
	if sec != r.StepSeconds(dec) {
		t.Errorf("StepEnergy seconds %g, StepSeconds %g; want equal", sec, r.StepSeconds(dec))
	}
	if want := 0.5 * 700 * sec; !closeTo(j, want, 1e-12) {
		t.Errorf("decode energy: got %g J, want %g J", j, want)
	}
	// A large prefill without attention pairs is compute-bound: energy = 700 W × time.
	pre := Batch{PrefillTokens: 8192, PrefillSeqs: 1}
	sec, j = r.StepEnergy(pre)
	if want := 700 * sec; !closeTo(j, want, 1e-12) {
		t.Errorf("prefill energy: got %g J, want %g J", j, want)
	}
	if got, want := r.IdleWatts(), 0.1*700.0; !closeTo(got, want, 1e-12) {
		t.Errorf("IdleWatts: got %g, want %g", got, want)
	}
}

func TestEmptyIterations(t *testing.T) {
	r := mustStep(t, ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, MaxBatch: 8}, DefaultCoefficients())
	tests := []struct {
		name string
		got  float64
	}{
		{"prefill 0 tokens", r.PrefillSeconds(0, 1, 0)},
		{"prefill -5 tokens", r.PrefillSeconds(-5, 1, 100)},
		{"decode batch 0", r.DecodeStepSeconds(0, 1000)},
		{"decode batch -1", r.DecodeStepSeconds(-1, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != 0 {
				t.Errorf("got %g s, want 0", tt.got)
			}
		})
	}
	if got, want := r.DecodeStepSeconds(4, -10), r.DecodeStepSeconds(4, 0); got != want {
		t.Errorf("negative context: got %g s, want %g s (as zero context)", got, want)
	}
	if got, want := r.PrefillSeconds(10, 1, -1), r.PrefillSeconds(10, 1, 0); got != want {
		t.Errorf("negative attnPairs: got %g s, want %g s (as zero)", got, want)
	}
}

// monotonicSpecs covers TP 1 and TP > 1, NVLink and PCIe, BF16 and FP8.
func monotonicSpecs(t *testing.T) []ReplicaSpec {
	return []ReplicaSpec{
		{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, MaxBatch: 256},
		{Model: mustModel(t, "llama-3.1-70b"), GPU: mustGPU(t, "h200"), TensorParallel: 4, Precision: FP8, MaxBatch: 256},
		{Model: mustModel(t, "llama-3.2-3b"), GPU: mustGPU(t, "l4"), TensorParallel: 2, MaxBatch: 64},
		{Model: mustModel(t, "llama-3.1-405b"), GPU: mustGPU(t, "mi300x"), TensorParallel: 8, MaxBatch: 128},
	}
}

func TestMonotonic(t *testing.T) {
	sizes := []int{1, 2, 7, 64, 100, 256, 1000, 4096, 16384, 65536}
	for _, spec := range monotonicSpecs(t) {
		name := fmt.Sprintf("%s/%dx%s/%s", spec.Model.ID, spec.TensorParallel, spec.GPU.ID, spec.Precision)
		t.Run(name, func(t *testing.T) {
			r := mustStep(t, spec, DefaultCoefficients())
			prev := 0.0
			for _, n := range sizes {
				got := r.PrefillSeconds(n, 1, float64(n)*float64(n)/2)
				if got < prev {
					t.Errorf("PrefillSeconds(%d): got %g s, shorter than %g s for fewer tokens", n, got, prev)
				}
				prev = got
			}
			if lo, hi := r.PrefillSeconds(1, 1, 0.5), r.PrefillSeconds(65536, 1, 65536.0*65536/2); !(hi > lo) {
				t.Errorf("PrefillSeconds: 65,536 tokens took %g s, 1 token %g s; want longer", hi, lo)
			}
			// More attention at the same token count never takes less time.
			if a, b := r.PrefillSeconds(4096, 1, 0), r.PrefillSeconds(4096, 1, 4096*100000); b < a {
				t.Errorf("PrefillSeconds(4096): %g s with long cached context, %g s without", b, a)
			}
			for _, ctx := range []int{0, 1000, 100000, 1000000} {
				prev := 0.0
				for _, b := range sizes {
					got := r.DecodeStepSeconds(b, ctx)
					if got < prev {
						t.Errorf("DecodeStepSeconds(%d, %d): got %g s, shorter than %g s at a smaller batch", b, ctx, got, prev)
					}
					prev = got
				}
			}
			for _, b := range []int{1, 32, 256} {
				prev := 0.0
				for _, ctx := range []int{0, 10, 1000, 50000, 200000, 2000000} {
					got := r.DecodeStepSeconds(b, ctx)
					if got < prev {
						t.Errorf("DecodeStepSeconds(%d, %d): got %g s, shorter than %g s with less context", b, ctx, got, prev)
					}
					prev = got
				}
				if lo, hi := r.DecodeStepSeconds(b, 0), r.DecodeStepSeconds(b, 2000000); !(hi > lo) {
					t.Errorf("DecodeStepSeconds(%d): 2M context tokens took %g s, none %g s; want longer", b, hi, lo)
				}
			}
		})
	}
}

// TestRidgePoint checks that decode switches from memory-bound to
// compute-bound where the ridge point says: at the batch
// B* = bytes per parameter × peak × MFU / (2 × bandwidth × MBU).
// For BF16 on an H100 with MFU 0.5 and MBU 0.8 that is
// 2 × 989.4e12 × 0.5 / (2 × 3.35e12 × 0.8) = 184.6.
func TestRidgePoint(t *testing.T) {
	tests := []struct {
		gpu      string
		p        Precision
		wantRidg float64 // by hand from the datasheet numbers
	}{
		{"h100", BF16, 2 * 989.4e12 * 0.5 / (2 * 3.35e12 * 0.8)},     // 184.6
		{"h100", FP8, 1 * 1979e12 * 0.5 / (2 * 3.35e12 * 0.8)},       // 184.6
		{"h200", BF16, 2 * 989.5e12 * 0.5 / (2 * 4.8e12 * 0.8)},      // 128.8
		{"a100-80gb", BF16, 2 * 312e12 * 0.5 / (2 * 2.039e12 * 0.8)}, // 95.6
		{"l4", BF16, 2 * 121e12 * 0.5 / (2 * 0.3001e12 * 0.8)},       // 252.0
	}
	m := handModel()
	for _, tt := range tests {
		t.Run(tt.gpu+"/"+string(tt.p), func(t *testing.T) {
			g := mustGPU(t, tt.gpu)
			if m.WeightBytes(tt.p) > 0.9*g.MemoryGB*1e9*0.9 {
				m.ParamsB = 5 // fit the L4
			}
			r := mustStep(t, ReplicaSpec{Model: m, GPU: g, TensorParallel: 1, Precision: tt.p, MaxBatch: 1024}, plainEff())
			memTime := m.WeightBytes(tt.p) / (g.MemBandwidthTBs * 1e12 * 0.8)
			below, above := int(math.Floor(tt.wantRidg)), int(math.Ceil(tt.wantRidg))
			for _, b := range []int{1, below / 2, below} {
				if got := r.DecodeStepSeconds(b, 0); !closeTo(got, memTime, 1e-12) {
					t.Errorf("DecodeStepSeconds(%d, 0) below the ridge: got %g s, want the weight-read time %g s", b, got, memTime)
				}
			}
			peak := g.BF16TFLOPs
			if tt.p == FP8 {
				peak = g.FP8TFLOPs
			}
			for _, b := range []int{above, 2 * above, 10 * above} {
				want := 2 * m.ParamsB * 1e9 * float64(b) / (peak * 1e12 * 0.5)
				if !(want > memTime) {
					t.Fatalf("test setup: batch %d compute time %g s not above memory time %g s", b, want, memTime)
				}
				if got := r.DecodeStepSeconds(b, 0); !closeTo(got, want, 1e-12) {
					t.Errorf("DecodeStepSeconds(%d, 0) above the ridge: got %g s, want the compute time %g s", b, got, want)
				}
			}
		})
	}
}

// TestTensorParallelScaling: splitting a replica over 2 GPUs makes every
// iteration faster, but never more than twice as fast (the overhead does not
// split and the all-reduces are extra).
func TestTensorParallelScaling(t *testing.T) {
	tests := []struct {
		model, gpu string
		p          Precision
	}{
		{"llama-3.1-8b", "h100", BF16},
		// PCIe-only GPUs (L4, L40S) are left out: there, 2 × layers
		// all-reduces over PCIe can cost more than splitting saves.
		{"llama-3.1-70b", "h200", FP8},
		{"llama-3.1-70b", "mi300x", BF16},
	}
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.gpu, func(t *testing.T) {
			spec := ReplicaSpec{Model: mustModel(t, tt.model), GPU: mustGPU(t, tt.gpu), TensorParallel: 1, Precision: tt.p, MaxBatch: 256}
			r1 := mustStep(t, spec, DefaultCoefficients())
			spec.TensorParallel = 2
			r2 := mustStep(t, spec, DefaultCoefficients())
			check := func(what string, t1, t2 float64) {
				t.Helper()
				if !(t2 < t1) {
					t.Errorf("%s: TP 2 took %g s, TP 1 %g s; want less", what, t2, t1)
				}
				if t2 < t1/2 {
					t.Errorf("%s: TP 2 took %g s, less than half of TP 1's %g s", what, t2, t1)
				}
			}
			for _, n := range []int{1, 128, 1024, 8192} {
				check(fmt.Sprintf("prefill %d", n), r1.PrefillSeconds(n, 1, float64(n*n)/2), r2.PrefillSeconds(n, 1, float64(n*n)/2))
			}
			for _, b := range []int{1, 16, 128} {
				for _, ctx := range []int{0, b * 1000} {
					check(fmt.Sprintf("decode %d/%d", b, ctx), r1.DecodeStepSeconds(b, ctx), r2.DecodeStepSeconds(b, ctx))
				}
			}
			if !(r2.KVCapacityTokens() > r1.KVCapacityTokens()) {
				t.Errorf("KV capacity: TP 2 %d tokens, TP 1 %d; want more", r2.KVCapacityTokens(), r1.KVCapacityTokens())
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	h100, a100, l4 := mustGPU(t, "h100"), mustGPU(t, "a100-80gb"), mustGPU(t, "l4")
	m8, m70, m405 := mustModel(t, "llama-3.1-8b"), mustModel(t, "llama-3.1-70b"), mustModel(t, "llama-3.1-405b")
	ok := ReplicaSpec{Model: m8, GPU: h100, TensorParallel: 1, MaxBatch: 64}
	with := func(f func(*ReplicaSpec)) ReplicaSpec { s := ok; f(&s); return s }
	effWith := func(f func(*Coefficients)) Coefficients { e := DefaultCoefficients(); f(&e); return e }
	tests := []struct {
		name string
		spec ReplicaSpec
		eff  Coefficients
		want []error
	}{
		{"tp 3", with(func(s *ReplicaSpec) { s.TensorParallel = 3 }), DefaultCoefficients(), []error{ErrTensorParallel}},
		{"tp 0", with(func(s *ReplicaSpec) { s.TensorParallel = 0 }), DefaultCoefficients(), []error{ErrTensorParallel}},
		{"tp 16", with(func(s *ReplicaSpec) { s.TensorParallel = 16 }), DefaultCoefficients(), []error{ErrTensorParallel}},
		{"fp8 on a100", with(func(s *ReplicaSpec) { s.GPU = a100; s.Precision = FP8 }), DefaultCoefficients(), []error{ErrNoFP8}},
		{"unknown precision", with(func(s *ReplicaSpec) { s.Precision = "int4" }), DefaultCoefficients(), []error{ErrInvalidSpec}},
		{"max batch 0", with(func(s *ReplicaSpec) { s.MaxBatch = 0 }), DefaultCoefficients(), []error{ErrMaxBatch}},
		{"max batch -3", with(func(s *ReplicaSpec) { s.MaxBatch = -3 }), DefaultCoefficients(), []error{ErrMaxBatch}},
		// 141.1 GB of weights > 0.9 × 80 GB.
		{"70b bf16 on 1 h100", with(func(s *ReplicaSpec) { s.Model = m70 }), DefaultCoefficients(), []error{ErrWeightsDoNotFit}},
		// 811.7 GB > 0.9 × 8 × 80 GB = 576 GB.
		{"405b bf16 on 8 h100", with(func(s *ReplicaSpec) { s.Model = m405; s.TensorParallel = 8 }), DefaultCoefficients(), []error{ErrWeightsDoNotFit}},
		// 16.06 GB > 0.5 × 24 GB.
		{"8b on l4 at half memory", with(func(s *ReplicaSpec) { s.GPU = l4; s.MemoryFraction = 0.5 }), DefaultCoefficients(), []error{ErrWeightsDoNotFit}},
		// 141.1 GB fits in 0.9 × 160 = 144 GB, but not after the 5% reserve (136.8 GB).
		{"70b bf16 on 2 h100", with(func(s *ReplicaSpec) { s.Model = m70; s.TensorParallel = 2 }), DefaultCoefficients(), []error{ErrNoKVCapacity}},
		{"memory fraction 1.5", with(func(s *ReplicaSpec) { s.MemoryFraction = 1.5 }), DefaultCoefficients(), []error{ErrInvalidSpec}},
		{"memory fraction -0.1", with(func(s *ReplicaSpec) { s.MemoryFraction = -0.1 }), DefaultCoefficients(), []error{ErrInvalidSpec}},
		{"empty model", with(func(s *ReplicaSpec) { s.Model = Model{} }), DefaultCoefficients(), []error{ErrInvalidSpec}},
		{"empty gpu", with(func(s *ReplicaSpec) { s.GPU = GPU{} }), DefaultCoefficients(), []error{ErrInvalidSpec}},
		{"tp 2 without any link", with(func(s *ReplicaSpec) {
			s.TensorParallel = 2
			s.GPU.InterconnectGBs, s.GPU.PCIeGBs = 0, 0
		}), DefaultCoefficients(), []error{ErrInvalidSpec}},
		{"mfu 0", ok, effWith(func(e *Coefficients) { e.LinearMFU = 0 }), []error{ErrInvalidSpec}},
		{"mbu 1.5", ok, effWith(func(e *Coefficients) { e.MBU = 1.5 }), []error{ErrInvalidSpec}},
		{"negative overhead", ok, effWith(func(e *Coefficients) { e.StepOverheadS = -1e-3 }), []error{ErrInvalidSpec}},
		{"nan seq overhead", ok, effWith(func(e *Coefficients) { e.SeqOverheadS = math.NaN() }), []error{ErrInvalidSpec}},
		{"reserve 1", ok, effWith(func(e *Coefficients) { e.ActivationReserveFraction = 1 }), []error{ErrInvalidSpec}},
		{"every problem reported", with(func(s *ReplicaSpec) {
			s.TensorParallel = 3
			s.MaxBatch = 0
			s.GPU = a100
			s.Precision = FP8
		}), DefaultCoefficients(), []error{ErrTensorParallel, ErrMaxBatch, ErrNoFP8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.spec, tt.eff)
			if err == nil {
				t.Fatalf("New: got %v, nil error; want %v", r, tt.want)
			}
			if r != nil {
				t.Errorf("New: got a model with an error")
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("New: got error %q, want it to wrap %q", err, w)
				}
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	r := mustStep(t, ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, MaxBatch: 48}, DefaultCoefficients())
	s := r.Spec()
	if s.MemoryFraction != 0.9 {
		t.Errorf("MemoryFraction: got %g, want 0.9", s.MemoryFraction)
	}
	if s.Precision != BF16 {
		t.Errorf("Precision: got %q, want bf16", s.Precision)
	}
	if r.MaxBatch() != 48 {
		t.Errorf("MaxBatch: got %d, want 48", r.MaxBatch())
	}
	if r.Coefficients() != DefaultCoefficients() {
		t.Errorf("Coefficients: got %+v, want %+v", r.Coefficients(), DefaultCoefficients())
	}
}

// TestEveryCatalogPairBuildsOrSaysWhy builds every model on every GPU at
// every TP degree: each either works, with positive finite timings, or fails
// with one of the documented errors.
func TestEveryCatalogPairBuildsOrSaysWhy(t *testing.T) {
	built := 0
	for _, m := range Models() {
		for _, g := range GPUs() {
			for _, tp := range []int{1, 2, 4, 8} {
				for _, p := range []Precision{BF16, FP8} {
					r, err := New(ReplicaSpec{Model: m, GPU: g, TensorParallel: tp, Precision: p, MaxBatch: 256}, DefaultCoefficients())
					if err != nil {
						if !errors.Is(err, ErrWeightsDoNotFit) && !errors.Is(err, ErrNoKVCapacity) && !errors.Is(err, ErrNoFP8) {
							t.Errorf("%s on %d × %s %s: unexpected error %v", m.ID, tp, g.ID, p, err)
						}
						continue
					}
					built++
					for _, v := range []float64{r.PrefillSeconds(1000, 1, 5e5), r.DecodeStepSeconds(64, 64000)} {
						if !(v > 0) || math.IsInf(v, 0) {
							t.Errorf("%s on %d × %s %s: got time %g, want positive and finite", m.ID, tp, g.ID, p, v)
						}
					}
					if r.KVCapacityTokens() < 1 {
						t.Errorf("%s on %d × %s %s: got KV capacity %d", m.ID, tp, g.ID, p, r.KVCapacityTokens())
					}
				}
			}
		}
	}
	if built < 100 {
		t.Errorf("built %d replicas, want most of the catalog to build", built)
	}
}

func TestEstimatorDoesNotAllocate(t *testing.T) {
	e := mustStep(t, ReplicaSpec{Model: mustModel(t, "llama-3.1-70b"), GPU: mustGPU(t, "h100"), TensorParallel: 4, MaxBatch: 256}, DefaultCoefficients())
	sink := 0.0
	allocs := testing.AllocsPerRun(1000, func() {
		sink += e.DecodeStepSeconds(128, 128*2000)
		sink += e.PrefillSeconds(2048, 1, 2048*1024)
		sink += float64(e.KVCapacityTokens() + e.MaxBatch())
	})
	if allocs != 0 {
		t.Errorf("allocations per call: got %g, want 0", allocs)
	}
	if sink <= 0 {
		t.Errorf("sink: got %g", sink)
	}
}

var benchSink float64

func BenchmarkDecodeStepSeconds(b *testing.B) {
	e := mustStep(b, ReplicaSpec{Model: mustModel(b, "llama-3.1-70b"), GPU: mustGPU(b, "h100"), TensorParallel: 4, MaxBatch: 256}, DefaultCoefficients())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		benchSink += e.DecodeStepSeconds(1+i&255, (1+i&255)*1500)
	}
}

func BenchmarkPrefillSeconds(b *testing.B) {
	e := mustStep(b, ReplicaSpec{Model: mustModel(b, "llama-3.1-70b"), GPU: mustGPU(b, "h100"), TensorParallel: 4, MaxBatch: 256}, DefaultCoefficients())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		n := 1 + i&8191
		benchSink += e.PrefillSeconds(n, 1, float64(n)*float64(n)/2)
	}
}

func BenchmarkDecodeRun(b *testing.B) {
	e := mustStep(b, ReplicaSpec{Model: mustModel(b, "llama-3.1-70b"), GPU: mustGPU(b, "h100"), TensorParallel: 4, MaxBatch: 256}, DefaultCoefficients())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		s, _ := e.DecodeRun(1+i&255, (1+i&255)*1500, 1+i&1023)
		benchSink += s
	}
}

func BenchmarkStepSecondsMixed(b *testing.B) {
	e := mustStep(b, ReplicaSpec{Model: mustModel(b, "llama-3.1-70b"), GPU: mustGPU(b, "h100"), TensorParallel: 4, MaxBatch: 256}, DefaultCoefficients())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		benchSink += e.StepSeconds(Batch{PrefillTokens: 1 + i&4095, PrefillSeqs: 2, PrefillPairs: 1e6, DecodeSeqs: 1 + i&127, DecodeContext: 200000})
	}
}
