package calibrate

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/measurements"
	"github.com/fleetsim/fleetsim/profiles"
	"github.com/fleetsim/fleetsim/serving"
)

// trueCoefficients are the coefficients the synthetic measurements are made
// with: away from DefaultCoefficients (where the fit starts) in every fitted
// coefficient. AttentionMFU is not fitted (see params) and stays at its default.
func trueCoefficients() serving.Coefficients {
	c := serving.DefaultCoefficients()
	c.LinearMFU = 0.45
	c.MBU = 0.82
	c.KVMBU = 0.55
	c.StepOverheadS = 2.5e-3
	c.SeqOverheadS = 60e-6
	return c
}

// syntheticRow is a row whose measured figure is what the step model with
// coefficients c predicts for it, so a perfect fit exists.
func syntheticRow(t *testing.T, c serving.Coefficients, model string, tp int, mode measurements.Mode, batch, isl, osl int) measurements.Row {
	t.Helper()
	r := measurements.EmptyRow()
	r.Dataset, r.GPU, r.Model, r.TP, r.Precision, r.Framework, r.Mode = "synthetic", "h100", model, tp, serving.BF16, "vLLM", mode
	r.Batch, r.ISL, r.OSL = batch, isl, osl
	r.OutputTokensPerS = 1 // a placeholder so Predict reports the metric
	sm, eng, err := Model(r, c)
	if err != nil {
		t.Fatalf("Model(%s tp %d): %v", model, tp, err)
	}
	pts, err := Predict(sm, eng, r)
	if err != nil || len(pts) != 1 {
		t.Fatalf("Predict(%s %s batch %d): %v, %d points", model, mode, batch, err, len(pts))
	}
	r.OutputTokensPerS = pts[0].Predicted
	if mode == measurements.Static {
		r.E2Ems = 1e3 * float64(batch*osl) / r.OutputTokensPerS
	}
	r.Source = fmt.Sprintf("synthetic:%s/%d/%s/%d/%d/%d", model, tp, mode, batch, isl, osl)
	if err := r.Validate(); err != nil {
		t.Fatalf("synthetic row is invalid: %v", err)
	}
	return r
}

// syntheticRows: static batches 1..256 and max-throughput points at two
// shapes, for each model.
func syntheticRows(t *testing.T, c serving.Coefficients, models []string, shapes [][2]int) []measurements.Row {
	t.Helper()
	var rows []measurements.Row
	for _, m := range models {
		tp := 1
		if strings.Contains(m, "70b") || strings.Contains(m, "72b") {
			tp = 4
		}
		for _, sh := range shapes {
			for _, b := range []int{1, 4, 16, 64, 256} {
				rows = append(rows, syntheticRow(t, c, m, tp, measurements.Static, b, sh[0], sh[1]))
			}
			rows = append(rows, syntheticRow(t, c, m, tp, measurements.MaxThroughput, 0, sh[0], sh[1]))
		}
	}
	return rows
}

// TestFitRecoversSyntheticModel: measurements made by the step model with
// known coefficients are fitted back. The fitted model predicts the held-out
// model's rows, and rows of shapes the fit never saw, within 2%; the
// coefficient that batch-1 decode pins down, MBU (weights streamed once per
// token), comes back within 5%.
func TestFitRecoversSyntheticModel(t *testing.T) {
	truth := trueCoefficients()
	fitModels := []string{"llama-2-7b", "llama-3.1-8b", "llama-3.1-70b"}
	rows := syntheticRows(t, truth, append(slices.Clone(fitModels), "qwen2-7b"), [][2]int{{128, 128}, {1024, 1024}})
	ps, results, skipped, err := Fit(rows, Options{Check: ModelSplit([]string{"qwen2-7b"})})
	if err != nil {
		t.Fatalf("Fit: %v", err)
	}
	if len(skipped) != 0 {
		t.Errorf("skipped rows: %v", skipped)
	}
	if len(ps) != 1 || ps[0].Name != "vllm" {
		t.Fatalf("got %d profiles, want one named vllm", len(ps))
	}
	c, entry := ps[0].Lookup("h100", "", serving.BF16)
	if entry != "h100/bf16" {
		t.Fatalf("Lookup entry: got %q, want h100/bf16", entry)
	}

	// Every row, fit and check, is predicted within 2%.
	var checks int
	for _, r := range results {
		if r.Check != (r.Row.Model == "qwen2-7b") {
			t.Errorf("%s: Check %v", r.Row.Source, r.Check)
		}
		if r.Check {
			checks++
		}
		if ape := r.APE(); ape > 0.02 {
			t.Errorf("%s (check %v): APE %.4f, want <= 0.02", r.Row.Source, r.Check, ape)
		}
	}
	if want := 2 * 6; checks != want {
		t.Errorf("check results: got %d, want %d (2 shapes × 6 rows of qwen2-7b)", checks, want)
	}

	// Shapes the fit never saw, on fit and held-out models.
	held := syntheticRows(t, truth, []string{"llama-3.1-8b", "qwen2-7b", "llama-3.1-70b"}, [][2]int{{512, 256}, {2048, 128}})
	for _, r := range held {
		sm, eng, err := Model(r, c)
		if err != nil {
			t.Fatal(err)
		}
		pts, err := Predict(sm, eng, r)
		if err != nil || len(pts) != 1 {
			t.Fatalf("%s: %v", r.Source, err)
		}
		if ape := pts[0].APE(); ape > 0.02 {
			t.Errorf("held-out %s: predicted %.4g, measured %.4g, APE %.4f, want <= 0.02", r.Source, pts[0].Predicted, pts[0].Measured, ape)
		}
	}

	if got, want := c.MBU, truth.MBU; math.Abs(got-want) > 0.05*want {
		t.Errorf("MBU: got %.4f, want %.4f ± 5%%", got, want)
	}
	if c.AttentionMFU != serving.DefaultCoefficients().AttentionMFU {
		t.Errorf("AttentionMFU: got %g, want the unfitted default %g", c.AttentionMFU, serving.DefaultCoefficients().AttentionMFU)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("fitted coefficients invalid: %v", err)
	}
	// The profile has its fallback entry and reads back.
	if _, e := ps[0].Lookup("a100-80gb", "", serving.BF16); e != "*" {
		t.Errorf("fallback entry: got %q, want *", e)
	}
	data, err := profiles.Marshal(ps[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := profiles.Parse(data, "fitted.yaml"); err != nil {
		t.Errorf("fitted profile does not parse: %v", err)
	}
}

// TestFitNoUsableRows: rows whose framework has no profile, and linear
// rows, leave nothing to fit: an error, and the skipped reasons counted.
func TestFitNoUsableRows(t *testing.T) {
	c := trueCoefficients()
	r := syntheticRow(t, c, "llama-3.1-8b", 1, measurements.Static, 8, 128, 128)
	r.Framework = "DeepSpeed-MII"
	lin := measurements.EmptyRow()
	lin.Dataset, lin.GPU, lin.Model, lin.TP, lin.Precision, lin.Mode, lin.Tokens, lin.StepMs = "synthetic", "h100", "llama-3.1-8b", 1, serving.BF16, measurements.Linear, 64, 0.5
	tests := []struct {
		name string
		rows []measurements.Row
		opt  Options
	}{
		{"no rows", nil, Options{}},
		{"unknown framework", []measurements.Row{r, r}, Options{}},
		{"linear only", []measurements.Row{lin}, Options{}},
		{"other profile asked", []measurements.Row{syntheticRow(t, c, "llama-3.1-8b", 1, measurements.Static, 8, 128, 128)}, Options{Profile: "trtllm"}},
		{"every row checked", []measurements.Row{syntheticRow(t, c, "llama-3.1-8b", 1, measurements.Static, 8, 128, 128)}, Options{Check: func(measurements.Row) bool { return true }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, _, _, err := Fit(tt.rows, tt.opt)
			if err == nil {
				t.Fatalf("Fit: got %d profiles and no error, want an error", len(ps))
			}
		})
	}
	_, _, skipped, _ := Fit([]measurements.Row{r, r, lin}, Options{})
	if got := skipped["framework DeepSpeed-MII has no profile"]; got != 2 {
		t.Errorf("skipped %v: got %d DeepSpeed-MII rows, want 2", skipped, got)
	}
}

// TestModelSplit: exactly the named models are check rows.
func TestModelSplit(t *testing.T) {
	split := ModelSplit([]string{"llama-3.1-8b", "qwen2-72b"})
	for _, m := range serving.Models() {
		want := m.ID == "llama-3.1-8b" || m.ID == "qwen2-72b"
		if got := split(measurements.Row{Model: m.ID}); got != want {
			t.Errorf("%s: got %v, want %v", m.ID, got, want)
		}
	}
	if ModelSplit(nil)(measurements.Row{Model: "llama-3.1-8b"}) {
		t.Error("ModelSplit(nil) holds a model out")
	}
}

// TestBuiltinSplit: the split holds out, per dataset, the models
// CheckModels names and no other, and no dataset is wholly held out.
func TestBuiltinSplit(t *testing.T) {
	byDS := map[string]map[string]bool{}
	for _, r := range measurements.Builtin() {
		if byDS[r.Dataset] == nil {
			byDS[r.Dataset] = map[string]bool{}
		}
		byDS[r.Dataset][r.Model] = true
	}
	for _, ds := range measurements.BuiltinDatasets() {
		check := CheckModels(ds)
		fit := 0
		for m := range byDS[ds] {
			want := slices.Contains(check, m)
			if got := BuiltinSplit(measurements.Row{Dataset: ds, Model: m}); got != want {
				t.Errorf("%s/%s: got check %v, want %v", ds, m, got, want)
			}
			if !want {
				fit++
			}
		}
		if fit == 0 {
			t.Errorf("%s: every model is held out", ds)
		}
	}
	if BuiltinSplit(measurements.Row{Dataset: "mine", Model: "llama-3.1-8b"}) {
		t.Error("a user dataset has check rows under BuiltinSplit")
	}
}

// TestQuantile: nearest rank, by hand.
func TestQuantile(t *testing.T) {
	v := []float64{5, 1, 4, 2, 3}
	for _, tt := range []struct{ q, want float64 }{{0.5, 3}, {0.9, 5}, {0, 1}, {1, 5}, {0.2, 1}, {0.21, 2}} {
		if got := Quantile(v, tt.q); got != tt.want {
			t.Errorf("Quantile(%v, %g): got %g, want %g", v, tt.q, got, tt.want)
		}
	}
	if v[0] != 5 {
		t.Error("Quantile sorted its argument")
	}
	if !math.IsNaN(Quantile(nil, 0.5)) {
		t.Error("Quantile(nil): want NaN")
	}
}

func builtinProfiles(t *testing.T, names ...string) []*profiles.Profile {
	t.Helper()
	var ps []*profiles.Profile
	for _, n := range names {
		p, err := profiles.Builtin(n)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

// TestAccuracyRegression: the headline errors recorded in docs/accuracy.md
// still hold with the shipped profiles: every recorded headline is
// recomputed (Evaluate with the built-in profiles and split) and none got
// worse by more than rounding (the report keeps 4 decimals), and every
// recomputed headline is recorded.
func TestAccuracyRegression(t *testing.T) {
	doc, err := os.ReadFile("../docs/accuracy.md")
	if err != nil {
		t.Fatal(err)
	}
	recorded := ParseHeadlines(string(doc))
	if len(recorded) == 0 {
		t.Fatal("docs/accuracy.md has no headline markers")
	}
	results := Evaluate(measurements.Builtin(), builtinProfiles(t, "vllm", "trtllm", "mlperf"), BuiltinSplit)
	got := map[string]Headline{}
	for _, h := range Headlines(results) {
		got[h.Profile+"/"+string(h.Metric)] = h
	}
	seen := map[string]bool{}
	for _, want := range recorded {
		k := want.Profile + "/" + string(want.Metric)
		seen[k] = true
		h, ok := got[k]
		if !ok {
			t.Errorf("%s: recorded headline (median APE %.4f) is not recomputed", k, want.MedianAPE)
			continue
		}
		if h.MedianAPE > want.MedianAPE+0.0005 {
			t.Errorf("%s: median APE got %.4f, recorded %.4f", k, h.MedianAPE, want.MedianAPE)
		}
		if h.N != want.N {
			t.Errorf("%s: check points got %d, recorded %d", k, h.N, want.N)
		}
	}
	for k := range got {
		if !seen[k] {
			t.Errorf("%s: recomputed headline is not in docs/accuracy.md", k)
		}
	}
}

// TestAccuracyAim: the aim for the check-part median error of throughput
// on the vLLM and TensorRT-LLM profiles is 10%, as recorded in
// docs/accuracy.md.
func TestAccuracyAim(t *testing.T) {
	doc, err := os.ReadFile("../docs/accuracy.md")
	if err != nil {
		t.Fatal(err)
	}
	hs := ParseHeadlines(string(doc))
	for _, prof := range []string{"vllm", "trtllm"} {
		t.Run(prof, func(t *testing.T) {
			i := slices.IndexFunc(hs, func(h Headline) bool { return h.Profile == prof && h.Metric == Throughput })
			if i < 0 {
				t.Fatalf("no %s %s headline in docs/accuracy.md", prof, Throughput)
			}
			if got := hs[i].MedianAPE; got > 0.10 {
				t.Errorf("%s check-part median APE of %s: got %.4f, want <= 0.10", prof, Throughput, got)
			}
		})
	}
}

// TestParseHeadlinesRoundTrip: a marker written by HeadlineMarker reads
// back, and lines that only look alike do not.
func TestParseHeadlinesRoundTrip(t *testing.T) {
	hs := []Headline{{Profile: "vllm", Metric: Throughput, N: 530, MedianAPE: 0.1222}, {Profile: "my-engine", Metric: TTFT, N: 1, MedianAPE: 0}}
	var doc strings.Builder
	doc.WriteString("# title\n<!-- headline profile=x -->\n| vllm | output_tokens_per_s | 5 | 8.8% |\n")
	for _, h := range hs {
		doc.WriteString("  " + HeadlineMarker(h) + "\n")
	}
	got := ParseHeadlines(doc.String())
	if !slices.Equal(got, hs) {
		t.Errorf("ParseHeadlines: got %+v, want %+v", got, hs)
	}
}

// TestBuiltinProfilesAreFresh: refitting the built-in datasets gives the
// shipped profiles byte for byte; if not, profiles/builtin (and
// docs/accuracy.md) are stale: rerun the command docs/accuracy.md names.
func TestBuiltinProfilesAreFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("refits every built-in dataset")
	}
	ps, _, _, err := Fit(measurements.Builtin(), Options{Check: BuiltinSplit})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
		t.Run(p.Name, func(t *testing.T) {
			got, err := profiles.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			shipped, err := profiles.Builtin(p.Name)
			if err != nil {
				t.Fatalf("fitted profile %s is not shipped: %v", p.Name, err)
			}
			want, err := profiles.Marshal(shipped)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("profiles/builtin/%s.yaml is stale: refit gives\n%s\nshipped\n%s", p.Name, got, want)
			}
		})
	}
	if want := []string{"mlperf", "trtllm", "vllm"}; !slices.Equal(names, want) {
		t.Errorf("fitted profiles: got %v, want %v", names, want)
	}
}

// TestWriteAccuracyCarriesHeadlines: the report's markers are the
// headlines of the results it is given.
func TestWriteAccuracyCarriesHeadlines(t *testing.T) {
	truth := trueCoefficients()
	rows := syntheticRows(t, truth, []string{"llama-3.1-8b", "qwen2-7b"}, [][2]int{{128, 128}})
	ps, results, skipped, err := Fit(rows, Options{Check: ModelSplit([]string{"qwen2-7b"}), MaxEvaluations: 300})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	WriteAccuracy(&buf, ps, results, nil, skipped, "test")
	got := ParseHeadlines(buf.String())
	want := Headlines(results)
	if len(want) != 1 || want[0].Profile != "vllm" || want[0].N != 6 {
		t.Fatalf("Headlines: got %+v, want one vllm headline over 6 check points", want)
	}
	if len(got) != 1 || got[0].Profile != want[0].Profile || got[0].N != want[0].N || math.Abs(got[0].MedianAPE-want[0].MedianAPE) > 5e-5 {
		t.Errorf("report headlines: got %+v, want %+v", got, want)
	}
}
