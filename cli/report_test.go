package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/results"
)

func TestReportMarkdownToStdout(t *testing.T) {
	r := run(t, "report", "minimal", "--format", "md")
	if r.err != nil {
		t.Fatalf("report: %v\n%s", r.err, r.stderr)
	}
	for _, want := range []string{"# fleetsim report: minimal", "## Comparison", "| GPUs | 8 |"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// Without --out there is nowhere for plots: no links.
	if strings.Contains(r.stdout, "plots/") {
		t.Error("stdout links plots, but none were written")
	}
}

func TestReportHTMLOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	r := run(t, "report", "minimal", "--format", "html", "--out", dir)
	if r.err != nil {
		t.Fatalf("report: %v\n%s", r.err, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, "<svg ") {
		t.Errorf("report.html is not an HTML page with inline plots")
	}
	if r.stdout != "" {
		t.Errorf("stdout: got %q, want nothing (the report went to --out)", r.stdout)
	}
}

// TestReportFromResultJSON: a result written by `run --output json` gives
// the same report as the scenario itself, and md --out writes the plots.
func TestReportFromResultJSON(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "minimal.json")
	if r := run(t, "run", "minimal", "--output", "json", "--out", res); r.err != nil {
		t.Fatalf("run: %v", r.err)
	}
	fromScenario := run(t, "report", "minimal", "--format", "csv")
	fromJSON := run(t, "report", res, "--format", "csv")
	if fromScenario.err != nil || fromJSON.err != nil {
		t.Fatalf("report: %v / %v", fromScenario.err, fromJSON.err)
	}
	if fromJSON.stdout != fromScenario.stdout {
		t.Errorf("csv from the result JSON differs from csv of the scenario:\n%s\n---\n%s", fromJSON.stdout, fromScenario.stdout)
	}
	// The json format gives back the result document.
	j := run(t, "report", res, "--format", "json")
	var got results.Result
	if err := json.Unmarshal([]byte(j.stdout), &got); err != nil || got.Scenario != "minimal" {
		t.Errorf("json format: got scenario %q (%v), want minimal", got.Scenario, err)
	}
	out := filepath.Join(dir, "md")
	if r := run(t, "report", res, "--format", "md", "--out", out); r.err != nil {
		t.Fatalf("report md: %v", r.err)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	svgs, _ := filepath.Glob(filepath.Join(out, "plots", "*.svg"))
	if len(svgs) == 0 || strings.Count(string(md), "](plots/") != len(svgs) {
		t.Errorf("got %d plot files and %d links, want the same number, above zero", len(svgs), strings.Count(string(md), "](plots/"))
	}
}

func TestReportBadInput(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "x.json")
	os.WriteFile(notJSON, []byte("not json"), 0o644)
	otherSchema := filepath.Join(dir, "other.json")
	os.WriteFile(otherSchema, []byte(`{"schemaVersion": "fleetsim.result/v0", "strategies": []}`), 0o644)
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not a scenario", []string{"report", text}, "not a scenario"},
		{"no such scenario", []string{"report", "no-such-scenario"}, "no-such-scenario"},
		{"broken json", []string{"report", notJSON}, "result"},
		{"other schema", []string{"report", otherSchema}, "schemaVersion"},
		{"missing json", []string{"report", filepath.Join(dir, "missing.json")}, "missing.json"},
		{"html without out", []string{"report", "minimal", "--format", "html"}, "--out"},
		{"unknown format", []string{"report", "minimal", "--format", "pdf"}, "--format"},
		{"no input", []string{"report"}, "arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.args...)
			if got := ExitCode(r.err); got != ExitInvalid {
				t.Fatalf("exit code: got %d, want %d (err %v)", got, ExitInvalid, r.err)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr: got %q, want it to mention %q", r.stderr, tt.want)
			}
		})
	}
	// A usage error prints the usage line.
	r := run(t, "report", "minimal", "--format", "html")
	if !strings.Contains(r.stderr, "usage: fleetsim report") {
		t.Errorf("html without --out: stderr %q lacks the usage line", r.stderr)
	}
}
