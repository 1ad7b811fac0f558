package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/calibrate"
	"github.com/fleetsim/fleetsim/measurements"
	"github.com/fleetsim/fleetsim/profiles"
	"github.com/fleetsim/fleetsim/serving"
)

// myEngineCoefficients make the synthetic measurements: a perfect fit exists.
func myEngineCoefficients() serving.Coefficients {
	c := serving.DefaultCoefficients()
	c.LinearMFU, c.MBU, c.KVMBU, c.StepOverheadS, c.SeqOverheadS = 0.4, 0.8, 0.6, 3e-3, 40e-6
	return c
}

// writeSyntheticMeasurements writes static-batch rows of an engine
// fleetsim does not know ("myengine") for two models on an H100, each
// measured figure being the step model's prediction with
// myEngineCoefficients.
func writeSyntheticMeasurements(t *testing.T, path string) []measurements.Row {
	t.Helper()
	c := myEngineCoefficients()
	var rows []measurements.Row
	for _, model := range []string{"llama-3.1-8b", "qwen2-7b"} {
		for _, shape := range [][2]int{{128, 128}, {1024, 1024}} {
			for _, batch := range []int{1, 8, 64, 256} {
				r := measurements.EmptyRow()
				r.Dataset, r.GPU, r.Model, r.TP, r.Precision, r.Framework, r.Mode = "mine", "h100", model, 1, serving.BF16, "myengine", measurements.Static
				r.Batch, r.ISL, r.OSL, r.OutputTokensPerS = batch, shape[0], shape[1], 1
				sm, eng, err := calibrate.Model(r, c)
				if err != nil {
					t.Fatal(err)
				}
				pts, err := calibrate.Predict(sm, eng, r)
				if err != nil || len(pts) != 1 {
					t.Fatalf("Predict: %v", err)
				}
				r.OutputTokensPerS = pts[0].Predicted
				r.E2Ems = 1e3 * float64(batch*shape[1]) / r.OutputTokensPerS
				rows = append(rows, r)
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := measurements.WriteCSV(f, rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestCalibrateCustomProfile: calibrating an unknown engine's measurements
// writes a profile that profiles.Resolve reads back, whose coefficients
// reproduce the measurements; with a model held out, the accuracy report
// carries a headline for it.
func TestCalibrateCustomProfile(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "mine.csv")
	rows := writeSyntheticMeasurements(t, data)
	out := filepath.Join(dir, "x.yaml")
	report := filepath.Join(dir, "accuracy.md")

	r := run(t, "calibrate", data, "--out", out, "--profile", "custom", "--check-models", "qwen2-7b", "--accuracy", report)
	if r.err != nil {
		t.Fatalf("exit %d: %v\n%s", ExitCode(r.err), r.err, r.stderr)
	}
	p, err := profiles.Resolve(out, "")
	if err != nil {
		t.Fatalf("Resolve(%s): %v", out, err)
	}
	if p.Name != "custom" {
		t.Errorf("profile name: got %q, want custom", p.Name)
	}
	c, entry := p.Lookup("h100", "llama-3.1-8b", serving.BF16)
	if entry != "h100/bf16" {
		t.Fatalf("Lookup: got entry %q, want h100/bf16", entry)
	}
	// The fitted coefficients reproduce every row, held-out model included,
	// within 2%.
	for _, row := range rows {
		sm, eng, err := calibrate.Model(row, c)
		if err != nil {
			t.Fatal(err)
		}
		pts, err := calibrate.Predict(sm, eng, row)
		if err != nil || len(pts) != 1 {
			t.Fatal(err)
		}
		if ape := pts[0].APE(); ape > 0.02 {
			t.Errorf("%s batch %d %d/%d: APE %.4f, want <= 0.02", row.Model, row.Batch, row.ISL, row.OSL, ape)
		}
	}
	if e := p.Entries[len(p.Entries)-1]; e.GPU != "h100" || e.Fit == nil || e.Fit.Rows != 8 || e.Fit.CheckRows != 8 {
		t.Errorf("h100 entry fit record: got %+v, want 8 fit and 8 check rows", e.Fit)
	}

	doc, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	hs := calibrate.ParseHeadlines(string(doc))
	if len(hs) == 0 {
		t.Fatalf("report has no headline:\n%s", doc)
	}
	if hs[0].Profile != "custom" || hs[0].Metric != calibrate.Throughput || hs[0].N != 8 || hs[0].MedianAPE > 0.02 {
		t.Errorf("headline: got %+v, want custom output_tokens_per_s over 8 check points, median <= 0.02", hs[0])
	}
	if !strings.Contains(r.stdout, "custom") {
		t.Errorf("stdout does not list the fitted profile:\n%s", r.stdout)
	}
}

// TestCalibrateErrors: missing or invalid measurement files exit 2 and
// write no profile.
func TestCalibrateErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte(strings.Join(measurements.Header(), ",")+"\nmine,h1000,llama-3.1-8b,1,bf16,x,static,1,1,1,,,,,,10,,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x.yaml")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"calibrate", filepath.Join(dir, "missing.csv"), "--out", out}, "missing.csv"},
		{[]string{"calibrate", bad, "--out", out}, "bad.csv:2"},
	} {
		r := run(t, tt.args...)
		if got := ExitCode(r.err); got != ExitInvalid {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tt.args, got, ExitInvalid, r.stderr)
		}
		if !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: stderr %q does not name %q", tt.args, r.stderr, tt.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: wrote %s", tt.args, out)
		}
	}
}
