package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleetsim/calibrate"
	"github.com/fleetsim/fleetsim/measurements"
	"github.com/fleetsim/fleetsim/profiles"
	"github.com/fleetsim/fleetsim/serving"
)

const script = "step_bench.py"

// pythons are the interpreters tried, in order: $FLEETSIM_BENCH_PYTHON, the
// python3 on PATH, and Debian's (where apt's python3-torch installs).
func pythons() []string {
	var out []string
	if p := os.Getenv("FLEETSIM_BENCH_PYTHON"); p != "" {
		out = append(out, p)
	}
	return append(out, "python3", "/usr/bin/python3")
}

// findPython returns the first interpreter that runs `python -c code`
// successfully, or "" if none does.
func findPython(t *testing.T, code string) string {
	t.Helper()
	for _, p := range pythons() {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if err := exec.Command(path, "-c", code).Run(); err == nil {
			return path
		}
	}
	return ""
}

// scriptCatalog is what `step_bench.py --print-catalog` prints.
type scriptCatalog struct {
	Models map[string]struct {
		Layers       int  `json:"layers"`
		Hidden       int  `json:"hidden"`
		Heads        int  `json:"heads"`
		KVHeads      int  `json:"kv_heads"`
		HeadDim      int  `json:"head_dim"`
		Intermediate int  `json:"intermediate"`
		Vocab        int  `json:"vocab"`
		Tied         bool `json:"tied"`
	} `json:"models"`
	GPUs   []string `json:"gpus"`
	Header []string `json:"header"`
}

// TestScriptCatalogMatchesServing fails when the script's hard-coded model
// shapes, GPU ids or CSV header drift from serving's catalog and the
// measurements format, the sources they copy.
func TestScriptCatalogMatchesServing(t *testing.T) {
	py := findPython(t, "import json")
	if py == "" {
		t.Skip("no python3 found (tried " + strings.Join(pythons(), ", ") + "); cannot run step_bench.py --print-catalog")
	}
	out, err := exec.Command(py, script, "--print-catalog").Output()
	if err != nil {
		t.Fatalf("%s --print-catalog: %v", script, err)
	}
	var cat scriptCatalog
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cat); err != nil {
		t.Fatalf("decode --print-catalog output: %v", err)
	}

	t.Run("models", func(t *testing.T) {
		var want []string
		for _, m := range serving.Models() {
			want = append(want, m.ID)
			got, ok := cat.Models[m.ID]
			if !ok {
				t.Errorf("script lacks catalog model %s", m.ID)
				continue
			}
			for _, f := range []struct {
				name      string
				got, want int
			}{
				{"layers", got.Layers, m.Layers},
				{"hidden", got.Hidden, m.Hidden},
				{"heads", got.Heads, m.Heads},
				{"kv_heads", got.KVHeads, m.KVHeads},
				{"head_dim", got.HeadDim, m.HeadDim},
				{"intermediate", got.Intermediate, m.Intermediate},
				{"vocab", got.Vocab, m.Vocab},
			} {
				if f.got != f.want {
					t.Errorf("%s %s: got %d, want %d (serving catalog)", m.ID, f.name, f.got, f.want)
				}
			}
			if got.Tied != m.TiedEmbeddings {
				t.Errorf("%s tied: got %v, want %v (serving catalog)", m.ID, got.Tied, m.TiedEmbeddings)
			}
		}
		for id := range cat.Models {
			if !slices.Contains(want, id) {
				t.Errorf("script model %s is not a serving catalog id", id)
			}
		}
	})
	t.Run("gpus", func(t *testing.T) {
		var want []string
		for _, g := range serving.GPUs() {
			want = append(want, g.ID)
		}
		got := slices.Clone(cat.GPUs)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("gpu ids: got %v, want %v (serving catalog)", got, want)
		}
	})
	t.Run("header", func(t *testing.T) {
		if got, want := strings.Join(cat.Header, ","), strings.Join(measurements.Header(), ","); got != want {
			t.Errorf("header: got %s, want %s", got, want)
		}
	})
}

// TestScriptRejectsBadFlags checks that the flags are validated before
// torch is imported, so a bad run fails at once and names the problem.
func TestScriptRejectsBadFlags(t *testing.T) {
	py := findPython(t, "import json")
	if py == "" {
		t.Skip("no python3 found (tried " + strings.Join(pythons(), ", ") + ")")
	}
	out := filepath.Join(t.TempDir(), "x.csv")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"gpu alias", []string{"--gpu", "h100-sxm", "--out", out}, "not a canonical catalog id"},
		{"no gpu", []string{"--out", out}, "--gpu is required"},
		{"unknown model", []string{"--gpu", "h200", "--model", "gpt-2", "--out", out}, "not a catalog id"},
		{"too many layers", []string{"--gpu", "h200", "--model", "llama-3.2-1b", "--layers", "17", "--out", out}, "--layers must be in [1, 16]"},
		{"bad list", []string{"--gpu", "h200", "--prefill", "128,0", "--out", out}, "positive integers"},
		{"no out", []string{"--gpu", "h200"}, "--out is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(py, append([]string{script}, tt.args...)...)
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("got error %v, want exit status 2 (argparse usage error); stderr: %s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr.String(), tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written by a rejected run", out)
			}
		})
	}
}

// TestIntegrationStepBenchCPU runs the script on the CPU with one layer of
// the smallest catalog model and small sizes, and checks that its CSV is a
// valid measurement file whose rows follow the documented definitions.
func TestIntegrationStepBenchCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: runs PyTorch on the CPU for about 15 s")
	}
	py := findPython(t, "import torch")
	if py == "" {
		t.Skip("no python3 that imports torch (tried " + strings.Join(pythons(), ", ") +
			"; set FLEETSIM_BENCH_PYTHON, or apt-get install python3-torch)")
	}
	prefill := []int{16, 64, 256}
	batches := []int{1, 2}
	contexts := []int{32, 64}
	join := func(v []int) string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strconv.Itoa(x)
		}
		return strings.Join(s, ",")
	}
	out := filepath.Join(t.TempDir(), "stepbench.csv")
	// bf16: PyTorch's CPU fp32 matmul is the reference BLAS in Debian's
	// build, 30 times slower than its oneDNN bf16 path.
	cmd := exec.Command(py, script, "--model", "llama-3.2-1b", "--gpu", "h100", "--layers", "1",
		"--dtype", "bf16", "--device", "cpu", "--prefill", join(prefill), "--decode-batches", join(batches),
		"--contexts", join(contexts), "--warmup", "1", "--repeats", "3", "--out", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", script, err, stderr.String())
	}
	t.Logf("step_bench.py ran in %v", time.Since(start).Round(time.Millisecond))

	rows, err := measurements.Open(out)
	if err != nil {
		t.Fatalf("measurements.Open: %v", err)
	}
	linearTokens := []int{1, 2, 16, 64, 256} // sorted union of prefill and batches
	if got, want := len(rows), len(prefill)+len(batches)*len(contexts)+len(linearTokens); got != want {
		t.Fatalf("rows: got %d, want %d (prefill + batches × contexts + linear)", got, want)
	}
	for _, r := range rows {
		if r.Dataset != "stepbench" || r.Framework != "pytorch" || r.GPU != "h100" || r.Model != "llama-3.2-1b" || r.TP != 1 {
			t.Errorf("%s: got dataset %q framework %q gpu %q model %q tp %d, want stepbench pytorch h100 llama-3.2-1b 1",
				r.Source, r.Dataset, r.Framework, r.GPU, r.Model, r.TP)
		}
	}
	near := func(got, want float64) bool { return math.Abs(got-want) <= 1e-4*math.Abs(want) } // 6 printed digits

	t.Run("prefill", func(t *testing.T) {
		pre := rows[:len(prefill)]
		for i, r := range pre {
			if r.Mode != measurements.Static || r.Batch != 1 || r.ISL != prefill[i] || r.OSL != 1 {
				t.Errorf("row %d: got mode %s batch %d isl %d osl %d, want static 1 %d 1", i, r.Mode, r.Batch, r.ISL, r.OSL, prefill[i])
			}
			// A static row's throughput is batch × osl / e2e (docs/measurements.md).
			if want := 1e3 / r.E2Ems; !near(r.OutputTokensPerS, want) {
				t.Errorf("isl %d: output_tokens_per_s got %g, want 1000/e2e_ms = %g", r.ISL, r.OutputTokensPerS, want)
			}
			if i > 0 && !(r.E2Ems > pre[i-1].E2Ems) {
				t.Errorf("prefill time not increasing in tokens: %d tokens %g ms, %d tokens %g ms",
					pre[i-1].ISL, pre[i-1].E2Ems, r.ISL, r.E2Ems)
			}
		}
	})
	t.Run("decode", func(t *testing.T) {
		dec := rows[len(prefill) : len(prefill)+len(batches)*len(contexts)]
		for i, r := range dec {
			b, c := batches[i/len(contexts)], contexts[i%len(contexts)]
			// osl = 2C − 2 puts the mean context of the osl − 1 decode steps,
			// isl + osl/2 per sequence (serving.StepModel.Static), at C.
			if r.Mode != measurements.Static || r.Batch != b || r.ISL != 1 || r.OSL != 2*c-2 {
				t.Errorf("row %d: got mode %s batch %d isl %d osl %d, want static %d 1 %d", i, r.Mode, r.Batch, r.ISL, r.OSL, b, 2*c-2)
			}
			if got := float64(r.ISL) + float64(r.OSL)/2; got != float64(c) {
				t.Errorf("batch %d context %d: mean decode context got %g, want %d", b, c, got, c)
			}
			if !(r.TPOTms > 0 && r.TTFTms > 0) {
				t.Errorf("batch %d context %d: tpot_ms %g and ttft_ms %g must be > 0", b, c, r.TPOTms, r.TTFTms)
			}
			if want := r.TTFTms + float64(r.OSL-1)*r.TPOTms; !near(r.E2Ems, want) {
				t.Errorf("batch %d context %d: e2e_ms got %g, want ttft + (osl−1) × tpot = %g", b, c, r.E2Ems, want)
			}
			if want := float64(r.Batch*r.OSL) / (r.E2Ems / 1e3); !near(r.OutputTokensPerS, want) {
				t.Errorf("batch %d context %d: output_tokens_per_s got %g, want batch × osl / e2e = %g", b, c, r.OutputTokensPerS, want)
			}
		}
	})
	t.Run("linear", func(t *testing.T) {
		lin := rows[len(rows)-len(linearTokens):]
		for i, r := range lin {
			if r.Mode != measurements.Linear || r.Tokens != linearTokens[i] || !(r.StepMs > 0) {
				t.Errorf("row %d: got mode %s tokens %d step_ms %g, want linear %d > 0", i, r.Mode, r.Tokens, r.StepMs, linearTokens[i])
			}
		}
		// 256 tokens do 256 times the GEMM work of one; the time must grow
		// (neighbouring small counts may tie within noise).
		if first, last := lin[0], lin[len(lin)-1]; !(last.StepMs > first.StepMs) {
			t.Errorf("linear step_ms at %d tokens %g, want more than at %d tokens %g", last.Tokens, last.StepMs, first.Tokens, first.StepMs)
		}
	})
	t.Run("calibrate fits it", func(t *testing.T) {
		ps, _, _, err := calibrate.Fit(rows, calibrate.Options{
			MaxEvaluations: 300,
			ProfileOf: func(r measurements.Row) string {
				if r.Mode == measurements.Linear {
					return ""
				}
				return "custom"
			},
		})
		if err != nil {
			t.Fatalf("calibrate.Fit: %v", err)
		}
		if len(ps) != 1 || !slices.ContainsFunc(ps[0].Entries, func(e profiles.Entry) bool { return e.GPU == "h100" }) {
			t.Errorf("calibrate.Fit: got %d profiles, want one with an h100 entry", len(ps))
		}
	})
}
