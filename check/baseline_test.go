package check

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRegressed(t *testing.T) {
	// allowed = absolute + relative * |base|; here 1 + 0.1*100 = 11.
	tol := Tolerance{Relative: 0.1, Absolute: 1}
	allowed := tol.Allowed(100)
	if allowed != 11 {
		t.Fatalf("Allowed(100): got %v, want 11", allowed)
	}
	tests := []struct {
		worse Direction
		cur   float64
		want  bool
	}{
		{HigherIsWorse, 111, false}, // exactly the allowance
		{HigherIsWorse, 111.5, true},
		{HigherIsWorse, 50, false}, // better
		{LowerIsWorse, 89, false},
		{LowerIsWorse, 88.5, true},
		{LowerIsWorse, 200, false},
		{AnyChange, 111.5, true},
		{AnyChange, 88.5, true},
		{AnyChange, 105, false},
		{Ignored, 1e9, false},
	}
	for _, tt := range tests {
		t.Run(tt.worse.String(), func(t *testing.T) {
			if got := regressed(tt.worse, 100, tt.cur, allowed); got != tt.want {
				t.Errorf("regressed(%v, 100, %v): got %v, want %v", tt.worse, tt.cur, got, tt.want)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	cur := Collect(fixture())
	base := NewBaseline("fx", 1, cur)
	for _, d := range Compare(base, cur, DefaultTolerances()) {
		if d.Status != Within {
			t.Errorf("%s: got %v comparing a result with its own baseline, want ok", d.Name, d.Status)
		}
	}
	// Make the baseline better than the result on some metrics and worse
	// on others; only "better baseline beyond tolerance" regresses.
	base.Metrics["central.chat.p95_ttft_ms"] = 280      // now 300: +7.1% > 5%: regressed
	base.Metrics["edge.chat.p95_ttft_ms"] = 145         // now 150: +3.4% <= 5%: ok
	base.Metrics["central.chat.completion_rate"] = 0.99 // now 0.95: -0.04, allowed 5% of 0.99 = 0.0495: ok
	base.Metrics["edge.chat.completion_rate"] = 1.1     // now 1: -0.1 > 0.055: regressed
	base.Metrics["central.gpus"] = 16                   // now 8: fewer GPUs is better: ok
	base.Metrics["central.chat.requests_arrived"] = 250 // now 200: any change beyond 12.5: regressed
	base.Metrics["gone.gpus"] = 1                       // not in the result: missing
	delete(base.Metrics, "edge.agent.p99_task_s")       // new
	got := map[string]Status{}
	diffs := Compare(base, cur, DefaultTolerances())
	for i, d := range diffs {
		if i > 0 && diffs[i-1].Name >= d.Name {
			t.Errorf("diffs not sorted: %s before %s", diffs[i-1].Name, d.Name)
		}
		if d.Status != Within {
			got[d.Name] = d.Status
		}
	}
	want := map[string]Status{
		"central.chat.p95_ttft_ms":      Regressed,
		"edge.chat.completion_rate":     Regressed,
		"central.chat.requests_arrived": Regressed,
		"gone.gpus":                     Missing,
		"edge.agent.p99_task_s":         New,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// A rule loosens latency and ignores arrivals.
	tol, err := ParseTolerances("t.yaml", []byte(`
metrics:
  - match: "*.p95_ttft_ms"
    relative: 0.10
  - match: "*.requests_*"
    worse: none
  - match: "*"
    absolute: 1
`))
	if err != nil {
		t.Fatal(err)
	}
	got = map[string]Status{}
	for _, d := range Compare(base, cur, tol) {
		if d.Failed() {
			got[d.Name] = d.Status
		}
	}
	// ttft now within 10%; arrivals ignored; completion_rate -0.1 <= absolute 1.
	want = map[string]Status{"gone.gpus": Missing}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with rules: got %v, want %v", got, want)
	}
}

func TestParseTolerances(t *testing.T) {
	tol, err := ParseTolerances("t.yaml", []byte(`
default: {relative: 0.02, absolute: 0.5}
metrics:
  - match: "*.p99_*"
    relative: 0.2
  - match: "central.*"
    worse: lower
  - match: "*.p99_ttft_ms"
    relative: 0.9
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want Tolerance
	}{
		{"edge.gpus", Tolerance{Relative: 0.02, Absolute: 0.5}},
		{"edge.chat.p99_ttft_ms", Tolerance{Relative: 0.2, Absolute: 0.5}}, // first match wins
		{"central.gpus", Tolerance{Relative: 0.02, Absolute: 0.5, Worse: LowerIsWorse}},
	}
	for _, tt := range tests {
		if got := tol.For(tt.name); got != tt.want {
			t.Errorf("For(%s): got %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if got := DefaultTolerances().For("x"); got != (Tolerance{Relative: 0.05}) {
		t.Errorf("default: got %+v, want 5%% relative", got)
	}
	if _, err := ParseTolerances("d.yaml", []byte(DefaultTolerancesYAML)); err != nil {
		t.Errorf("the default tolerance file does not parse: %v", err)
	}
}

func TestParseTolerancesErrors(t *testing.T) {
	tests := []struct{ data, want string }{
		{"default: {relative: -1}", "default.relative: must be >= 0"},
		{"metrics: [{match: '*', absolute: -2}]", "metrics[0].absolute: must be >= 0"},
		{"metrics: [{relative: 1}]", "metrics[0].match: required"},
		{"metrics: [{match: '[', relative: 1}]", "metrics[0].match: bad glob"},
		{"metrics: [{match: '*', worse: up}]", "metrics[0].worse: must be higher, lower, either or none"},
		{"default: {match: x}", "default.match: not allowed"},
		{"defaults: {relative: 1}", "field defaults not found"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := ParseTolerances("t.yaml", []byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "t.yaml") {
				t.Errorf("got %v, want t.yaml: ...%s...", err, tt.want)
			}
		})
	}
}

func TestBaselineRoundTrip(t *testing.T) {
	dir := t.TempDir()
	file := BaselinePath(dir, "fx")
	if _, err := ReadBaseline(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing baseline: got %v, want fs.ErrNotExist", err)
	}
	b := NewBaseline("fx", 7, Collect(fixture()))
	if err := WriteBaseline(file, b); err != nil {
		t.Fatal(err)
	}
	got, err := ReadBaseline(file)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, b) {
		t.Errorf("round trip changed the baseline")
	}
	if len(got.Metrics) != len(Collect(fixture()).Metrics()) {
		t.Errorf("got %d metrics, want all %d", len(got.Metrics), len(Collect(fixture()).Metrics()))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("got %d files in the directory, want only the baseline (no temporary left)", len(entries))
	}
	if err := os.WriteFile(file, []byte(`{"schemaVersion": "other"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBaseline(file); err == nil || !strings.Contains(err.Error(), "schemaVersion") {
		t.Errorf("wrong version: got %v", err)
	}
	tol, err := LoadTolerances(filepath.Join(dir, "none"))
	if err != nil || !reflect.DeepEqual(tol, DefaultTolerances()) {
		t.Errorf("no tolerance file: got %+v, %v, want the defaults", tol, err)
	}
}
