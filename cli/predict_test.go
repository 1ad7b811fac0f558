package cli

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/profiles"
	"github.com/fleetsim/fleetsim/serving"
)

// tableValues reads the metric/value rows of predict's table.
func tableValues(t *testing.T, out string) map[string]float64 {
	t.Helper()
	vals := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		cells := strings.Split(line, "│")
		if len(cells) != 4 {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(cells[2]), 64)
		if err != nil {
			continue // the header row
		}
		vals[strings.TrimSpace(cells[1])] = v
	}
	return vals
}

// libraryModel builds what predict should: the vllm profile's coefficients
// for the GPU, model and precision, and the engine's sequence limit.
func libraryModel(t *testing.T, gpu, model string, tp int, prec serving.Precision, maxBatch int) *serving.StepModel {
	t.Helper()
	prof, err := profiles.Builtin("vllm")
	if err != nil {
		t.Fatal(err)
	}
	g, ok := serving.LookupGPU(gpu)
	if !ok {
		t.Fatalf("unknown gpu %s", gpu)
	}
	m, ok := serving.LookupModel(model)
	if !ok {
		t.Fatalf("unknown model %s", model)
	}
	c, _ := prof.Lookup(g.ID, m.ID, prec)
	sm, err := serving.New(serving.ReplicaSpec{Model: m, GPU: g, TensorParallel: tp, Precision: prec, MaxBatch: maxBatch}, c)
	if err != nil {
		t.Fatal(err)
	}
	return sm
}

// near: printed with 3 decimals, so within half a unit of the last place.
func near(got, want float64) bool { return math.Abs(got-want) <= 0.0005+1e-12*math.Abs(want) }

// TestPredictOne: predict prints serving's Steady prediction for the
// operating point with the vllm profile's coefficients.
func TestPredictOne(t *testing.T) {
	r := run(t, "predict", "--gpu", "h100", "--model", "llama-3.1-70b", "--tp", "4", "--precision", "bf16",
		"--batch", "64", "--isl", "1024", "--osl", "1024")
	if r.err != nil {
		t.Fatalf("exit %d: %v\n%s", ExitCode(r.err), r.err, r.stderr)
	}
	sm := libraryModel(t, "h100", "llama-3.1-70b", 4, serving.BF16, 256)
	p := sm.Steady(64, 1024, 1024, serving.DefaultTokenBudget)
	// KV capacity 404,357 tokens (worked out in serving's TestKVCapacityByHand),
	// / 2048 tokens per sequence = 197.4 -> 197 sequences, under the limit of 256.
	const wantMax, wantKV = 197, 404357
	got := tableValues(t, r.stdout)
	for _, w := range []struct {
		label string
		want  float64
	}{
		{"prefill ms (one prompt, idle replica)", p.PrefillMs},
		{"decode step ms (TPOT)", p.TPOTMs},
		{"TTFT ms", p.TTFTMs},
		{"end-to-end ms", p.E2EMs},
		{"output tokens/s per replica", p.OutputTokensPerS},
		{"output tokens/s per GPU", p.OutputTokensPerS / 4},
		{"max concurrent sequences", wantMax},
		{"KV cache tokens", wantKV},
	} {
		v, ok := got[w.label]
		if !ok {
			t.Errorf("%q: not in the output:\n%s", w.label, r.stdout)
			continue
		}
		if !near(v, w.want) {
			t.Errorf("%s: got %.3f, want %.3f", w.label, v, w.want)
		}
	}
	if !strings.Contains(r.stdout, "entry h100/bf16") || !strings.Contains(r.stdout, "batch 64") {
		t.Errorf("first line does not name the entry and batch:\n%s", r.stdout)
	}
}

// TestPredictDefaultBatchIsMax: without --batch the replica runs at its
// most concurrent sequences.
func TestPredictDefaultBatchIsMax(t *testing.T) {
	r := run(t, "predict", "--gpu", "h100", "--model", "llama-3.1-8b")
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	// 399,322 KV tokens (serving's TestMaxConcurrencyByHand) / 2048 = 194.
	sm := libraryModel(t, "h100", "llama-3.1-8b", 1, serving.BF16, 256)
	p := sm.Steady(194, 1024, 1024, 0)
	got := tableValues(t, r.stdout)
	if v := got["output tokens/s per replica"]; !near(v, p.OutputTokensPerS) {
		t.Errorf("output tokens/s: got %.3f, want Steady(194) = %.3f", v, p.OutputTokensPerS)
	}
	if !strings.Contains(r.stdout, "batch 194,") {
		t.Errorf("first line does not say batch 194:\n%s", r.stdout)
	}
}

// readCSV parses predict --csv output.
func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, s)
	}
	return recs
}

// TestPredictCSV: one output row per input row, in order, the input cells
// echoed as given, the predictions those of the library.
func TestPredictCSV(t *testing.T) {
	in := "testdata/predict-ok.csv"
	r := run(t, "predict", "--csv", in)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	out := readCSV(t, r.stdout)
	inRecs, err := csv.NewReader(strings.NewReader(string(mustReadFile(t, in)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHead := "gpu,model,tp,precision,batch,isl,osl,prefill_ms,tpot_ms,ttft_ms,e2e_ms,output_tokens_per_s,max_concurrency"
	if got := strings.Join(out[0], ","); got != wantHead {
		t.Fatalf("header: got %s, want %s", got, wantHead)
	}
	if len(out) != len(inRecs) {
		t.Fatalf("got %d lines, want %d (header + one per input row)", len(out), len(inRecs))
	}
	for i := 1; i < len(out); i++ {
		if got, want := strings.Join(out[i][:7], ","), strings.Join(inRecs[i], ","); got != want {
			t.Errorf("row %d: input cells got %q, want %q", i, got, want)
		}
	}
	// Expected rows from the library. Row 2 leaves batch empty: the most
	// sequences the replica holds, capped at --max-batch 256.
	type point struct {
		gpu, model string
		tp         int
		prec       serving.Precision
		batch      int // 0: the maximum
		isl, osl   int
	}
	for i, pt := range []point{
		{"h100", "llama-3.1-8b", 1, serving.BF16, 32, 1024, 256},
		{"h100", "llama-3.1-70b", 4, serving.FP8, 0, 2048, 128},
		{"a100-80gb", "llama-3.1-8b", 1, serving.BF16, 1, 128, 128},
	} {
		sm := libraryModel(t, pt.gpu, pt.model, pt.tp, pt.prec, 256)
		mc := min(sm.MaxConcurrency(pt.isl, pt.osl), 256)
		n := pt.batch
		if n == 0 {
			n = mc
		}
		p := sm.Steady(n, pt.isl, pt.osl, 0)
		row := out[i+1]
		for j, want := range []float64{p.PrefillMs, p.TPOTMs, p.TTFTMs, p.E2EMs, p.OutputTokensPerS, float64(mc)} {
			got, err := strconv.ParseFloat(row[7+j], 64)
			if err != nil || math.Abs(got-want) > 0.00005+1e-12*want {
				t.Errorf("row %d %s: got %s, want %.4f", i+1, out[0][7+j], row[7+j], want)
			}
		}
	}
}

// TestPredictCSVEmptyBatchIsBest: an empty batch predicts the replica at
// its maximum concurrency, which gives the most output tokens/s of every
// batch from 1 to that maximum.
func TestPredictCSVEmptyBatchIsBest(t *testing.T) {
	// Llama-3.1-8B on one H100 at 1024/1024 holds 194 sequences (399,322 KV
	// tokens / 2048, serving's TestMaxConcurrencyByHand).
	const maxN = 194
	var b strings.Builder
	b.WriteString("gpu,model,tp,precision,batch,isl,osl\nh100,llama-3.1-8b,1,bf16,,1024,1024\n")
	for n := 1; n <= maxN; n++ {
		fmt.Fprintf(&b, "h100,llama-3.1-8b,1,bf16,%d,1024,1024\n", n)
	}
	in := filepath.Join(t.TempDir(), "batches.csv")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "predict", "--csv", in)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	out := readCSV(t, r.stdout)
	if len(out) != maxN+2 {
		t.Fatalf("got %d lines, want %d", len(out), maxN+2)
	}
	col := len(out[0]) - 2 // output_tokens_per_s
	tps := func(i int) float64 {
		v, err := strconv.ParseFloat(out[i][col], 64)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		return v
	}
	best := tps(1)
	if got := out[1][col+1]; got != strconv.Itoa(maxN) {
		t.Errorf("max_concurrency: got %s, want %d", got, maxN)
	}
	for i := 2; i < len(out); i++ {
		if v := tps(i); v > best {
			t.Errorf("batch %s: %.4f tokens/s beats the empty batch's %.4f", out[i][4], v, best)
		}
	}
	if last := tps(len(out) - 1); last != best {
		t.Errorf("empty batch %.4f tokens/s, want batch %d's %.4f", best, maxN, last)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPredictCSVBadRows: a bad file exits 2 with file:line in the message
// and writes nothing to stdout, even when earlier rows were good.
func TestPredictCSVBadRows(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"predict-bad-gpu.csv", []string{"predict-bad-gpu.csv:3:", "h1000"}},
		{"predict-bad-isl.csv", []string{"predict-bad-isl.csv:3:", "isl", "1k"}},
		{"predict-bad-columns.csv", []string{"predict-bad-columns.csv:2:", "6 columns"}},
		{"predict-bad-header.csv", []string{"predict-bad-header.csv:1:", "header"}},
		{"predict-bad-empty.csv", []string{"predict-bad-empty.csv", "empty"}},
		{"predict-bad-quote.csv", []string{"predict-bad-quote.csv", "3"}},
		{"no-such-file.csv", []string{"no-such-file.csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := run(t, "predict", "--csv", filepath.Join("testdata", tt.file))
			if got := ExitCode(r.err); got != ExitInvalid {
				t.Fatalf("exit code: got %d, want %d (stderr %q)", got, ExitInvalid, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout: got %q, want nothing", r.stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not contain %q", r.stderr, w)
				}
			}
		})
	}
}

// TestPredictUsage: wrong command lines exit 2.
func TestPredictUsage(t *testing.T) {
	for _, args := range [][]string{
		{"predict"},
		{"predict", "--gpu", "h100"},
		{"predict", "--gpu", "h100", "--model", "llama-3.1-8b", "--tp", "3"},
		{"predict", "--gpu", "h100", "--model", "llama-3.1-8b", "--batch", "0"},
		{"predict", "--gpu", "h100", "--model", "llama-3.1-8b", "--profile", "nope"},
		{"predict", "--csv", "testdata/predict-ok.csv", "--gpu", "h100"},
		{"predict", "--gpu", "l4", "--model", "llama-3.1-70b"}, // weights do not fit
	} {
		r := run(t, args...)
		if got := ExitCode(r.err); got != ExitInvalid {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, got, ExitInvalid, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("%v: stdout %q, want nothing", args, r.stdout)
		}
	}
}
