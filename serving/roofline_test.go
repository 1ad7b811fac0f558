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

func mustRoofline(t testing.TB, spec ReplicaSpec, eff Efficiency) *Roofline {
	t.Helper()
	r, err := NewRoofline(spec, eff)
	if err != nil {
		t.Fatalf("NewRoofline: %v", err)
	}
	return r
}

// plainEff has round numbers so that expected values can be worked out by hand.
func plainEff() Efficiency {
	return Efficiency{PrefillMFU: 0.5, DecodeMBU: 0.8, StepOverheadS: 0, AllReduceS: 0, ActivationReserveFraction: 0.05}
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
			r := mustRoofline(t, tt.spec, plainEff())
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
	r := mustRoofline(t, ReplicaSpec{Model: m, GPU: mustGPU(t, "h100"), TensorParallel: 8, MaxBatch: 8}, plainEff())
	// usable 0.9 × 80e9 × 8 × 0.95 = 547.2e9; minus 141.1e9 = 406.1e9.
	// Stored per token: 2 × 80 × 128 × 2 B × 1 head × 8 GPUs = 327,680 B
	// (4 × the model's 81,920 B) -> 1,239,318.8 -> 1,239,318 tokens.
	if got, want := r.KVCapacityTokens(), 1239318; got != want {
		t.Errorf("KVCapacityTokens: got %d, want %d", got, want)
	}
}

func TestDecodeByHand(t *testing.T) {
	eff := Efficiency{PrefillMFU: 0.6, DecodeMBU: 0.7, StepOverheadS: 1e-3, AllReduceS: 40e-6, ActivationReserveFraction: 0.05}
	tests := []struct {
		name          string
		spec          ReplicaSpec
		batch, ctx    int
		want          float64
		prefillTokens int
		prefillPairs  float64
		wantPrefill   float64
	}{
		{
			// Memory-bound: (16.06e9 weights + 131,072 B × 32,768 tokens) /
			// (3.35e12 × 0.7) = 20.354e9 / 2.345e12 = 8.680 ms, + 1 ms.
			// Prefill of 8,192 tokens is compute-bound: (2 × 8.03e9 × 8192 +
			// 4 × 32 × 4096 × 8192²/2) / (989.4e12 × 0.6) = 0.22627 s, + 1 ms.
			name: "llama-3.1-8b bf16 1xh100", batch: 8, ctx: 8 * 4096,
			spec:          ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, MaxBatch: 64},
			want:          (16.06e9+131072*32768)/(3.35e12*0.7) + 1e-3,
			prefillTokens: 8192, prefillPairs: 8192 * 8192 / 2,
			wantPrefill: (2*8.03e9*8192+4*32*4096*8192*8192/2)/(989.4e12*0.6) + 1e-3,
		},
		{
			// TP 4 adds 2 × 80 all-reduces: 160 × 40 µs fixed, and per token
			// 160 × 2 × 3/4 × 8192 × 2 B / 450e9 B/s = 8.738 µs.
			// Memory: (141.1e9 + 327,680 × 65,536) / (4 × 3.35e12 × 0.7).
			name: "llama-3.1-70b bf16 4xh100", batch: 32, ctx: 65536,
			spec: ReplicaSpec{Model: mustModel(t, "llama-3.1-70b"), GPU: mustGPU(t, "h100"), TensorParallel: 4, MaxBatch: 64},
			want: (141.1e9+327680*65536)/(4*3.35e12*0.7) + 1e-3 + 160*40e-6 + 32*160*2*0.75*8192*2/450e9,
			// 1 prompt token: memory-bound, reads all weights.
			prefillTokens: 1, prefillPairs: 0.5,
			wantPrefill: 141.1e9/(4*3.35e12*0.7) + 1e-3 + 160*40e-6 + 160*2*0.75*8192*2/450e9,
		},
		{
			// FP8 halves bytes and uses FP8 FLOP/s: batch 512 with no context
			// is compute-bound: 2 × 8.03e9 × 512 / (1979e12 × 0.6) = 6.925 ms >
			// 8.03e9 / (3.35e12 × 0.7) = 3.424 ms.
			name: "llama-3.1-8b fp8 1xh100", batch: 512, ctx: 0,
			spec:          ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, Precision: FP8, MaxBatch: 512},
			want:          2*8.03e9*512/(1979e12*0.6) + 1e-3,
			prefillTokens: 100, prefillPairs: 5000,
			wantPrefill: 8.03e9/(3.35e12*0.7) + 1e-3,
		},
		{
			// L40S has no NVLink: TP 2 all-reduces run over PCIe Gen4 at 32 GB/s:
			// per token 64 × 2 × 1/2 × 4096 × 2 B / 32e9 = 16.384 µs.
			name: "llama-3.1-8b bf16 2xl40s", batch: 1, ctx: 1000,
			spec: ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "l40s"), TensorParallel: 2, MaxBatch: 8},
			want: (16.06e9+131072*1000)/(2*0.864e12*0.7) + 1e-3 + 64*40e-6 + 16.384e-6,
			// 4,096 tokens: compute (2 × 8.03e9 × 4096 + 4 × 32 × 4096 × 4096²/2)
			// / (2 × 362e12 × 0.6) = 0.16122 s.
			prefillTokens: 4096, prefillPairs: 4096 * 4096 / 2,
			wantPrefill: (2*8.03e9*4096+4*32*4096*4096.0*4096/2)/(2*362e12*0.6) + 1e-3 + 64*40e-6 + 4096*16.384e-6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRoofline(t, tt.spec, eff)
			if got := r.DecodeStepSeconds(tt.batch, tt.ctx); !closeTo(got, tt.want, 1e-9) {
				t.Errorf("DecodeStepSeconds(%d, %d): got %.9g s, want %.9g s", tt.batch, tt.ctx, got, tt.want)
			}
			if got := r.PrefillSeconds(tt.prefillTokens, tt.prefillPairs); !closeTo(got, tt.wantPrefill, 1e-9) {
				t.Errorf("PrefillSeconds(%d, %g): got %.9g s, want %.9g s", tt.prefillTokens, tt.prefillPairs, got, tt.wantPrefill)
			}
		})
	}
}

func TestEmptyIterations(t *testing.T) {
	r := mustRoofline(t, ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, MaxBatch: 8}, DefaultEfficiency())
	tests := []struct {
		name string
		got  float64
	}{
		{"prefill 0 tokens", r.PrefillSeconds(0, 0)},
		{"prefill -5 tokens", r.PrefillSeconds(-5, 100)},
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
	if got, want := r.PrefillSeconds(10, -1), r.PrefillSeconds(10, 0); got != want {
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
			r := mustRoofline(t, spec, DefaultEfficiency())
			prev := 0.0
			for _, n := range sizes {
				got := r.PrefillSeconds(n, float64(n)*float64(n)/2)
				if got < prev {
					t.Errorf("PrefillSeconds(%d): got %g s, shorter than %g s for fewer tokens", n, got, prev)
				}
				prev = got
			}
			if lo, hi := r.PrefillSeconds(1, 0.5), r.PrefillSeconds(65536, 65536.0*65536/2); !(hi > lo) {
				t.Errorf("PrefillSeconds: 65,536 tokens took %g s, 1 token %g s; want longer", hi, lo)
			}
			// More attention at the same token count never takes less time.
			if a, b := r.PrefillSeconds(4096, 0), r.PrefillSeconds(4096, 4096*100000); b < a {
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

// TestRidgePoint checks that decode and prefill switch from memory-bound to
// compute-bound where the ridge point says: at the batch (or token count)
// B* = (weight bytes / achieved bandwidth) / (2 × params / achieved FLOP/s)
// = bytes per parameter × peak × MFU / (2 × bandwidth × MBU).
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
	m := mustModel(t, "llama-3.1-8b")
	for _, tt := range tests {
		t.Run(tt.gpu+"/"+string(tt.p), func(t *testing.T) {
			g := mustGPU(t, tt.gpu)
			r := mustRoofline(t, ReplicaSpec{Model: m, GPU: g, TensorParallel: 1, Precision: tt.p, MaxBatch: 1024}, plainEff())
			memTime := m.WeightBytes(tt.p) / (g.MemBandwidthTBs * 1e12 * 0.8)
			below, above := int(math.Floor(tt.wantRidg)), int(math.Ceil(tt.wantRidg))
			for _, b := range []int{1, below / 2, below} {
				if got := r.DecodeStepSeconds(b, 0); !closeTo(got, memTime, 1e-12) {
					t.Errorf("DecodeStepSeconds(%d, 0) below the ridge: got %g s, want the weight-read time %g s", b, got, memTime)
				}
				if got := r.PrefillSeconds(b, 0); !closeTo(got, memTime, 1e-12) {
					t.Errorf("PrefillSeconds(%d, 0) below the ridge: got %g s, want the weight-read time %g s", b, got, memTime)
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
				if got := r.PrefillSeconds(b, 0); !closeTo(got, want, 1e-12) {
					t.Errorf("PrefillSeconds(%d, 0) above the ridge: got %g s, want the compute time %g s", b, got, want)
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
		{"llama-3.1-8b", "l40s", BF16}, // PCIe only
		{"llama-3.2-3b", "l4", BF16},   // PCIe only
		{"llama-3.1-70b", "h200", FP8},
		{"llama-3.1-70b", "mi300x", BF16},
	}
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.gpu, func(t *testing.T) {
			spec := ReplicaSpec{Model: mustModel(t, tt.model), GPU: mustGPU(t, tt.gpu), TensorParallel: 1, Precision: tt.p, MaxBatch: 256}
			r1 := mustRoofline(t, spec, DefaultEfficiency())
			spec.TensorParallel = 2
			r2 := mustRoofline(t, spec, DefaultEfficiency())
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
				check(fmt.Sprintf("prefill %d", n), r1.PrefillSeconds(n, float64(n*n)/2), r2.PrefillSeconds(n, float64(n*n)/2))
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

func TestNewRooflineErrors(t *testing.T) {
	h100, a100, l4 := mustGPU(t, "h100"), mustGPU(t, "a100-80gb"), mustGPU(t, "l4")
	m8, m70, m405 := mustModel(t, "llama-3.1-8b"), mustModel(t, "llama-3.1-70b"), mustModel(t, "llama-3.1-405b")
	ok := ReplicaSpec{Model: m8, GPU: h100, TensorParallel: 1, MaxBatch: 64}
	with := func(f func(*ReplicaSpec)) ReplicaSpec { s := ok; f(&s); return s }
	effWith := func(f func(*Efficiency)) Efficiency { e := DefaultEfficiency(); f(&e); return e }
	tests := []struct {
		name string
		spec ReplicaSpec
		eff  Efficiency
		want []error
	}{
		{"tp 3", with(func(s *ReplicaSpec) { s.TensorParallel = 3 }), DefaultEfficiency(), []error{ErrTensorParallel}},
		{"tp 0", with(func(s *ReplicaSpec) { s.TensorParallel = 0 }), DefaultEfficiency(), []error{ErrTensorParallel}},
		{"tp 16", with(func(s *ReplicaSpec) { s.TensorParallel = 16 }), DefaultEfficiency(), []error{ErrTensorParallel}},
		{"fp8 on a100", with(func(s *ReplicaSpec) { s.GPU = a100; s.Precision = FP8 }), DefaultEfficiency(), []error{ErrNoFP8}},
		{"unknown precision", with(func(s *ReplicaSpec) { s.Precision = "int4" }), DefaultEfficiency(), []error{ErrInvalidSpec}},
		{"max batch 0", with(func(s *ReplicaSpec) { s.MaxBatch = 0 }), DefaultEfficiency(), []error{ErrMaxBatch}},
		{"max batch -3", with(func(s *ReplicaSpec) { s.MaxBatch = -3 }), DefaultEfficiency(), []error{ErrMaxBatch}},
		// 141.1 GB of weights > 0.9 × 80 GB.
		{"70b bf16 on 1 h100", with(func(s *ReplicaSpec) { s.Model = m70 }), DefaultEfficiency(), []error{ErrWeightsDoNotFit}},
		// 811.7 GB > 0.9 × 8 × 80 GB = 576 GB.
		{"405b bf16 on 8 h100", with(func(s *ReplicaSpec) { s.Model = m405; s.TensorParallel = 8 }), DefaultEfficiency(), []error{ErrWeightsDoNotFit}},
		// 16.06 GB > 0.5 × 24 GB.
		{"8b on l4 at half memory", with(func(s *ReplicaSpec) { s.GPU = l4; s.MemoryFraction = 0.5 }), DefaultEfficiency(), []error{ErrWeightsDoNotFit}},
		// 141.1 GB fits in 0.9 × 160 = 144 GB, but not after the 5% reserve (136.8 GB).
		{"70b bf16 on 2 h100", with(func(s *ReplicaSpec) { s.Model = m70; s.TensorParallel = 2 }), DefaultEfficiency(), []error{ErrNoKVCapacity}},
		{"memory fraction 1.5", with(func(s *ReplicaSpec) { s.MemoryFraction = 1.5 }), DefaultEfficiency(), []error{ErrInvalidSpec}},
		{"memory fraction -0.1", with(func(s *ReplicaSpec) { s.MemoryFraction = -0.1 }), DefaultEfficiency(), []error{ErrInvalidSpec}},
		{"empty model", with(func(s *ReplicaSpec) { s.Model = Model{} }), DefaultEfficiency(), []error{ErrInvalidSpec}},
		{"empty gpu", with(func(s *ReplicaSpec) { s.GPU = GPU{} }), DefaultEfficiency(), []error{ErrInvalidSpec}},
		{"tp 2 without any link", with(func(s *ReplicaSpec) {
			s.TensorParallel = 2
			s.GPU.InterconnectGBs, s.GPU.PCIeGBs = 0, 0
		}), DefaultEfficiency(), []error{ErrInvalidSpec}},
		{"mfu 0", ok, effWith(func(e *Efficiency) { e.PrefillMFU = 0 }), []error{ErrInvalidSpec}},
		{"mbu 1.5", ok, effWith(func(e *Efficiency) { e.DecodeMBU = 1.5 }), []error{ErrInvalidSpec}},
		{"negative overhead", ok, effWith(func(e *Efficiency) { e.StepOverheadS = -1e-3 }), []error{ErrInvalidSpec}},
		{"nan all-reduce", ok, effWith(func(e *Efficiency) { e.AllReduceS = math.NaN() }), []error{ErrInvalidSpec}},
		{"reserve 1", ok, effWith(func(e *Efficiency) { e.ActivationReserveFraction = 1 }), []error{ErrInvalidSpec}},
		{"every problem reported", with(func(s *ReplicaSpec) {
			s.TensorParallel = 3
			s.MaxBatch = 0
			s.GPU = a100
			s.Precision = FP8
		}), DefaultEfficiency(), []error{ErrTensorParallel, ErrMaxBatch, ErrNoFP8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRoofline(tt.spec, tt.eff)
			if err == nil {
				t.Fatalf("NewRoofline: got %v, nil error; want %v", r, tt.want)
			}
			if r != nil {
				t.Errorf("NewRoofline: got a roofline with an error")
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("NewRoofline: got error %q, want it to wrap %q", err, w)
				}
			}
		})
	}
}

func TestNewRooflineDefaults(t *testing.T) {
	r := mustRoofline(t, ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, MaxBatch: 48}, DefaultEfficiency())
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
	if r.Efficiency() != DefaultEfficiency() {
		t.Errorf("Efficiency: got %+v, want %+v", r.Efficiency(), DefaultEfficiency())
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
					r, err := NewRoofline(ReplicaSpec{Model: m, GPU: g, TensorParallel: tp, Precision: p, MaxBatch: 256}, DefaultEfficiency())
					if err != nil {
						if !errors.Is(err, ErrWeightsDoNotFit) && !errors.Is(err, ErrNoKVCapacity) && !errors.Is(err, ErrNoFP8) {
							t.Errorf("%s on %d × %s %s: unexpected error %v", m.ID, tp, g.ID, p, err)
						}
						continue
					}
					built++
					for _, v := range []float64{r.PrefillSeconds(1000, 5e5), r.DecodeStepSeconds(64, 64000)} {
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
	var e Estimator = mustRoofline(t, ReplicaSpec{Model: mustModel(t, "llama-3.1-70b"), GPU: mustGPU(t, "h100"), TensorParallel: 4, MaxBatch: 256}, DefaultEfficiency())
	sink := 0.0
	allocs := testing.AllocsPerRun(1000, func() {
		sink += e.DecodeStepSeconds(128, 128*2000)
		sink += e.PrefillSeconds(2048, 2048*1024)
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
	var e Estimator = mustRoofline(b, ReplicaSpec{Model: mustModel(b, "llama-3.1-70b"), GPU: mustGPU(b, "h100"), TensorParallel: 4, MaxBatch: 256}, DefaultEfficiency())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		benchSink += e.DecodeStepSeconds(1+i&255, (1+i&255)*1500)
	}
}

func BenchmarkPrefillSeconds(b *testing.B) {
	var e Estimator = mustRoofline(b, ReplicaSpec{Model: mustModel(b, "llama-3.1-70b"), GPU: mustGPU(b, "h100"), TensorParallel: 4, MaxBatch: 256}, DefaultEfficiency())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		n := 1 + i&8191
		benchSink += e.PrefillSeconds(n, float64(n)*float64(n)/2)
	}
}
