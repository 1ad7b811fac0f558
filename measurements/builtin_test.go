package measurements

import (
	"math"
	"slices"
	"testing"
)

func builtinRows(t *testing.T, name string) []Row {
	t.Helper()
	rows, err := BuiltinDataset(name)
	if err != nil {
		t.Fatalf("BuiltinDataset(%q): %v", name, err)
	}
	return rows
}

func TestBuiltin(t *testing.T) {
	all := Builtin()
	total := 0
	for _, name := range BuiltinDatasets() {
		rows := builtinRows(t, name)
		if len(rows) == 0 {
			t.Errorf("%s: no rows", name)
		}
		for _, r := range rows {
			if r.Dataset != name {
				t.Errorf("%s: row %s has dataset %q", name, r.Source, r.Dataset)
			}
		}
		total += len(rows)
		t.Logf("%s: %d rows", name, len(rows))
	}
	if len(all) != total {
		t.Errorf("Builtin: got %d rows, want %d (the datasets' sum)", len(all), total)
	}
	if _, err := BuiltinDataset("nope"); err == nil {
		t.Errorf("BuiltinDataset(nope): got no error")
	}
	names := BuiltinDatasets()
	names[0] = "mutated"
	if BuiltinDatasets()[0] == "mutated" {
		t.Errorf("BuiltinDatasets returns the package's slice")
	}
}

// find returns the embedded rows matching pred.
func find(rows []Row, pred func(Row) bool) []Row {
	var out []Row
	for _, r := range rows {
		if pred(r) {
			out = append(out, r)
		}
	}
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// TestBuiltinArgonneFacts checks the embedded Argonne rows against the
// facts the shared README states: H100, vLLM, Llama-3-8B, 1 GPU, L=1024:
// batch 1 takes 8.1 s; batch 64 takes 18.8 s and 6,969 tok/s counting
// input and output, so 6,969 / 2 output tok/s.
func TestBuiltinArgonneFacts(t *testing.T) {
	rows := find(builtinRows(t, "argonne"), func(r Row) bool {
		return r.GPU == "h100" && r.Framework == "vLLM" && r.Model == "llama-3.1-8b" && r.TP == 1 && r.ISL == 1024
	})
	tests := []struct {
		batch    int
		e2eS     float64
		outTokS  float64
		tolerate float64
	}{
		{1, 8.1, 253.0 / 2, 0.01},
		{64, 18.8, 6969.0 / 2, 0.01},
	}
	for _, tt := range tests {
		got := find(rows, func(r Row) bool { return r.Batch == tt.batch })
		if len(got) != 1 {
			t.Fatalf("batch %d: got %d rows, want 1", tt.batch, len(got))
		}
		if !near(got[0].E2Ems/1e3, tt.e2eS, tt.tolerate) || !near(got[0].OutputTokensPerS, tt.outTokS, tt.tolerate) {
			t.Errorf("batch %d: got %g s, %g tok/s; want %g s, %g tok/s", tt.batch, got[0].E2Ems/1e3, got[0].OutputTokensPerS, tt.e2eS, tt.outTokS)
		}
	}
}

// TestBuiltinTRTLLMFacts: the README's Llama 3.1 8B FP8 figures.
func TestBuiltinTRTLLMFacts(t *testing.T) {
	rows := builtinRows(t, "trtllm")
	tests := []struct {
		gpu      string
		isl, osl int
		want     float64
	}{
		{"h100", 1000, 1000, 15220}, {"h200", 1000, 1000, 17744},
		{"h100", 2048, 128, 3450}, {"h200", 2048, 128, 3538},
	}
	for _, tt := range tests {
		got := find(rows, func(r Row) bool {
			return r.GPU == tt.gpu && r.Model == "llama-3.1-8b" && r.TP == 1 && r.ISL == tt.isl && r.OSL == tt.osl
		})
		if len(got) != 1 || got[0].OutputTokensPerS != tt.want {
			t.Errorf("%s %d/%d: got %v, want one row at %g tok/s", tt.gpu, tt.isl, tt.osl, got, tt.want)
		}
	}
	// 405B on 8 × H100: 2,919 tok/s.
	if got := find(rows, func(r Row) bool {
		return r.GPU == "h100" && r.Model == "llama-3.1-405b" && r.TP == 8 && r.ISL == 1000 && r.OSL == 1000
	}); len(got) != 1 || got[0].OutputTokensPerS != 2919 {
		t.Errorf("405B 8×H100 1000/1000: got %v, want 2919 tok/s", got)
	}
}

// TestBuiltinMLPerfFacts compares with the README's medians for
// llama2-70b-99 closed Offline, per accelerator (H100-SXM 3,018, H200-SXM
// 4,312, MI300X 3,460 tok/s) and its ≈ 292 output tokens per sample. The
// README's medians are over its own selection of rows; 10% is allowed.
func TestBuiltinMLPerfFacts(t *testing.T) {
	rows := find(builtinRows(t, "mlperf"), func(r Row) bool { return r.Model == "llama-2-70b" })
	for _, tt := range []struct {
		gpu  string
		want float64
	}{{"h100", 3018}, {"h200", 4312}, {"mi300x", 3460}} {
		var perGPU []float64
		for _, r := range find(rows, func(r Row) bool { return r.GPU == tt.gpu && r.Mode == MaxThroughput }) {
			perGPU = append(perGPU, r.OutputTokensPerS/float64(r.TP))
		}
		if len(perGPU) == 0 {
			t.Errorf("%s: no offline rows", tt.gpu)
			continue
		}
		if got := median(perGPU); !near(got, tt.want, 0.10) {
			t.Errorf("%s offline median per GPU: got %.0f tok/s, want %g ±10%%", tt.gpu, got, tt.want)
		}
	}
	var osl []float64
	for _, r := range rows {
		osl = append(osl, float64(r.OSL))
	}
	if got := median(osl); math.Abs(got-292) > 3 {
		t.Errorf("median output tokens per sample: got %g, want 292 ± 3", got)
	}
	for _, r := range find(rows, func(r Row) bool { return r.Mode == Server }) {
		// Server constraints for llama2-70b: TTFT p99 ≤ 2,000 ms, TPOT p99 ≤
		// 200 ms, so the p50s are below them.
		if r.TTFTms > 2000 || r.TPOTms > 200 {
			t.Errorf("%s: p50 TTFT %g ms / TPOT %g ms above the p99 limits", r.Source, r.TTFTms, r.TPOTms)
		}
	}
}

// TestBuiltinVidurFacts: the README's sums of Llama-2-7B TP1 operators
// (norms, QKV, RoPE, O, up, act, down; no add). step_ms adds the residual
// add, a few µs, so 5% is allowed.
func TestBuiltinVidurFacts(t *testing.T) {
	rows := find(builtinRows(t, "vidur-linear"), func(r Row) bool { return r.Model == "llama-2-7b" && r.TP == 1 })
	tests := []struct {
		gpu    string
		tokens int
		wantMs float64
	}{
		{"h100", 1, 0.174}, {"a100-80gb", 1, 0.288},
		{"h100", 512, 0.37}, {"a100-80gb", 512, 1.04},
		{"h100", 4096, 2.56}, {"a100-80gb", 4096, 8.1},
	}
	for _, tt := range tests {
		got := find(rows, func(r Row) bool { return r.GPU == tt.gpu && r.Tokens == tt.tokens })
		if len(got) != 1 {
			t.Errorf("%s %d tokens: got %d rows, want 1", tt.gpu, tt.tokens, len(got))
			continue
		}
		if s := got[0].StepMs; s < tt.wantMs || s > tt.wantMs*1.05 {
			t.Errorf("%s %d tokens: got %g ms, want %g ms + at most 5%%", tt.gpu, tt.tokens, s, tt.wantMs)
		}
	}
	// Per shard, a layer at TP 2 takes less than at TP 1 for large token counts.
	for _, gpu := range []string{"h100", "a100-80gb"} {
		one := find(rows, func(r Row) bool { return r.GPU == gpu && r.Tokens == 4096 })
		two := find(builtinRows(t, "vidur-linear"), func(r Row) bool {
			return r.GPU == gpu && r.Model == "llama-2-7b" && r.TP == 2 && r.Tokens == 4096
		})
		if len(one) == 1 && len(two) == 1 && two[0].StepMs >= one[0].StepMs {
			t.Errorf("%s: tp 2 step %g ms, want below tp 1's %g ms", gpu, two[0].StepMs, one[0].StepMs)
		}
	}
}
