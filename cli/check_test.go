package cli

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The scenarios in testdata/check-*.yaml deploy 8 GPUs ("big") and 4
// GPUs ("small") at $3 per GPU-hour; every expected verdict below follows
// from those numbers or from physical bounds (no TTFT under 1 ms across a
// network and a prefill), not from a previous run's output.

func TestCheckPass(t *testing.T) {
	r := run(t, "check", "testdata/check-pass.yaml")
	if code := ExitCode(r.err); code != ExitOK {
		t.Fatalf("exit %d, want 0: %v\n%s%s", code, r.err, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want one per assertion (5):\n%s", len(lines), r.stdout)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "PASS  check-pass expect[") {
			t.Errorf("got %q, want a PASS line", l)
		}
	}
	// The line shows the values of the metrics it read, for each strategy under all.
	if !strings.Contains(lines[0], "(big.gpus=8, small.gpus=4)") || !strings.Contains(lines[2], "big.chat.p95_ttft_ms=") ||
		!strings.Contains(lines[2], "small.chat.p95_ttft_ms=") {
		t.Errorf("values missing:\n%s", r.stdout)
	}
}

func TestCheckFail(t *testing.T) {
	r := run(t, "check", "-q", "testdata/check-fail.yaml")
	if code := ExitCode(r.err); code != ExitFailure {
		t.Fatalf("exit %d, want 1: %v\n%s", code, r.err, r.stdout)
	}
	tests := []string{
		"PASS  check-fail expect[0]: big.gpus == 8 and small.gpus == 4",
		// all.gpus >= 8 holds for big and fails for small: only small is shown.
		"FAIL  check-fail expect[3]: all.gpus >= 8  (small.gpus=4)",
		"FAIL  check-fail expect[4]: big.chat.p95_ttft_ms < 1ms  (big.chat.p95_ttft_ms=",
		"PASS  check-fail expect[5]:",
	}
	for _, want := range tests {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "2 of 6 checks failed") {
		t.Errorf("stderr: got %q, want the count of failures", r.stderr)
	}
}

func TestCheckBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		// Line 36 of the file holds spec.expect[3]; "(" is its 24th character.
		{[]string{"check", "testdata/check-syntax.yaml"},
			[]string{"spec.expect[3] (testdata/check-syntax.yaml:36): col 34: expected \")\" to close the \"(\" at col 24"}},
		{[]string{"check", "testdata/check-unknown.yaml"},
			[]string{`spec.expect[3] (testdata/check-unknown.yaml:36): col 18: unknown metric "smal.chat.p95_ttft_ms" (did you mean "small.chat.p95_ttft_ms"?)`}},
		{[]string{"check", "testdata/no-such.yaml"}, []string{"no-such.yaml"}},
		{[]string{"check", "testdata/check-pass.yaml", "--baseline", "testdata/no-such-dir"}, []string{"no baseline", "--update-baseline"}},
		{[]string{"check", "minimal", "--update-baseline"}, []string{"--update-baseline needs --baseline"}},
		{[]string{"check"}, []string{"at least one scenario", "usage:"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			r := run(t, tt.args...)
			if code := ExitCode(r.err); code != ExitInvalid {
				t.Fatalf("exit %d, want 2: %v", code, r.err)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

func TestCheckSyntaxErrorSimulatesNothing(t *testing.T) {
	// A bad assertion in the second scenario stops the first from running.
	r := run(t, "check", "testdata/check-pass.yaml", "testdata/check-syntax.yaml")
	if ExitCode(r.err) != ExitInvalid || r.stdout != "" || strings.Contains(r.stderr, "simulated") {
		t.Errorf("got exit %d, stdout %q, stderr %q; want exit 2 before any simulation", ExitCode(r.err), r.stdout, r.stderr)
	}
}

func readBaselineMetrics(t *testing.T, file string) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(mustReadFile(t, file), &doc); err != nil {
		t.Fatal(err)
	}
	m, _ := doc["metrics"].(map[string]any)
	return m
}

func TestCheckBaseline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "baselines")
	scen := "testdata/check-pass.yaml"
	r := run(t, "check", "-q", scen, "--baseline", dir, "--update-baseline")
	if r.err != nil {
		t.Fatalf("update: %v\n%s", r.err, r.stderr)
	}
	file := filepath.Join(dir, "check-pass.json")
	metrics := readBaselineMetrics(t, file)
	// Every metric is stored: as many as --list-metrics prints (less its header).
	list := run(t, "check", "-q", "--list-metrics", scen)
	if n := strings.Count(list.stdout, "\n") - 1; len(metrics) != n || n < 50 {
		t.Errorf("baseline has %d metrics, --list-metrics %d; want equal and all of them", len(metrics), n)
	}
	if metrics["big.gpus"] != 8.0 || metrics["small.cost_per_hour_usd"] != 12.0 {
		t.Errorf("big.gpus %v small.cost_per_hour_usd %v, want 8 and 12", metrics["big.gpus"], metrics["small.cost_per_hour_usd"])
	}
	if _, err := os.Stat(filepath.Join(dir, "tolerances.yaml")); err != nil {
		t.Errorf("no default tolerances.yaml written: %v", err)
	}

	// Same seed, same result: the baseline matches exactly.
	r = run(t, "check", "-q", scen, "--baseline", dir)
	if r.err != nil || !strings.Contains(r.stdout, "PASS  check-pass baseline:") {
		t.Fatalf("unchanged: got %v\n%s", r.err, r.stdout)
	}

	tamper := func(name string, factor float64) {
		t.Helper()
		data := string(mustReadFile(t, file))
		old := metrics[name].(float64)
		from := `"` + name + `": ` + strconv.FormatFloat(old, 'g', -1, 64)
		if !strings.Contains(data, from) {
			t.Fatalf("baseline lacks %q", from)
		}
		data = strings.Replace(data, from, `"`+name+`": `+strconv.FormatFloat(old*factor, 'g', -1, 64), 1)
		if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A baseline p95 half the current one: the run is 100% worse, beyond 5%.
	tamper("big.chat.p95_ttft_ms", 0.5)
	// A baseline p95 twice the current one: the run is better, which passes.
	tamper("small.chat.p95_ttft_ms", 2)
	junit := filepath.Join(t.TempDir(), "report.xml")
	r = run(t, "check", "-q", scen, "--baseline", dir, "--junit", junit)
	if code := ExitCode(r.err); code != ExitFailure {
		t.Fatalf("tampered: exit %d, want 1\n%s", code, r.stdout)
	}
	if !strings.Contains(r.stdout, "FAIL  check-pass baseline: big.chat.p95_ttft_ms = ") || !strings.Contains(r.stdout, "(+100.0%)") ||
		strings.Contains(r.stdout, "small.chat.p95_ttft_ms =") {
		t.Errorf("want one baseline failure, for big.chat.p95_ttft_ms at +100%%:\n%s", r.stdout)
	}
	doc := parseJUnit(t, junit)
	if doc.Tests != 6 || doc.Failures != 1 || len(doc.Suites) != 1 {
		t.Fatalf("junit: tests %d failures %d suites %d, want 6 (5 assertions + 1 baseline metric), 1, 1", doc.Tests, doc.Failures, len(doc.Suites))
	}
	last := doc.Suites[0].Cases[5]
	if last.Name != "baseline big.chat.p95_ttft_ms" || last.Classname != "fleetsim.check-pass.baseline" || last.Failure == nil ||
		last.Failure.Type != "baseline" || !strings.Contains(last.Failure.Message, "big.chat.p95_ttft_ms") {
		t.Errorf("junit baseline case: got %+v", last)
	}

	// A looser tolerance for that metric lets it pass.
	tol := "metrics:\n  - match: \"*.p95_ttft_ms\"\n    relative: 1.5\n"
	if err := os.WriteFile(filepath.Join(dir, "tolerances.yaml"), []byte(tol), 0o644); err != nil {
		t.Fatal(err)
	}
	if r = run(t, "check", "-q", scen, "--baseline", dir); r.err != nil {
		t.Errorf("with 150%% tolerance: got %v, want a pass\n%s", r.err, r.stdout)
	}
	if err := os.WriteFile(filepath.Join(dir, "tolerances.yaml"), []byte("metrics: [{match: '*', relative: -1}]"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r = run(t, "check", "-q", scen, "--baseline", dir); ExitCode(r.err) != ExitInvalid {
		t.Errorf("bad tolerances: got exit %d, want 2", ExitCode(r.err))
	}

	// --update-baseline rewrites the tampered file back to this run's values.
	if r = run(t, "check", "-q", scen, "--baseline", dir, "--update-baseline"); r.err != nil {
		t.Fatal(r.err)
	}
	again := readBaselineMetrics(t, file)
	if again["big.chat.p95_ttft_ms"] != metrics["big.chat.p95_ttft_ms"] || len(again) != len(metrics) {
		t.Errorf("update did not restore the baseline: got %v, want %v", again["big.chat.p95_ttft_ms"], metrics["big.chat.p95_ttft_ms"])
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("got %d files in the baseline directory, want 2 (no temporaries)", len(entries))
	}
}

type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Tests int    `xml:"tests,attr"`
		Time  string `xml:"time,attr"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, file string) junitDoc {
	t.Helper()
	var doc junitDoc
	if err := xml.Unmarshal(mustReadFile(t, file), &doc); err != nil {
		t.Fatalf("junit is not XML: %v", err)
	}
	return doc
}

func TestCheckJUnit(t *testing.T) {
	junit := filepath.Join(t.TempDir(), "report.xml")
	r := run(t, "check", "-q", "testdata/check-pass.yaml", "testdata/check-fail.yaml", "--junit", junit)
	if ExitCode(r.err) != ExitFailure {
		t.Fatalf("exit %d, want 1", ExitCode(r.err))
	}
	doc := parseJUnit(t, junit)
	// 5 + 6 assertions; check-fail's expect[3] and expect[4] fail.
	if doc.Tests != 11 || doc.Failures != 2 || doc.Errors != 0 || len(doc.Suites) != 2 {
		t.Fatalf("got tests %d failures %d errors %d suites %d, want 11 2 0 2", doc.Tests, doc.Failures, doc.Errors, len(doc.Suites))
	}
	for _, s := range doc.Suites {
		if s.Time == "" || s.Tests != len(s.Cases) {
			t.Errorf("suite %s: time %q tests %d cases %d", s.Name, s.Time, s.Tests, len(s.Cases))
		}
		for i, c := range s.Cases {
			if c.Name == "" || c.Classname != "fleetsim."+s.Name+".expect" || c.Time == "" {
				t.Errorf("suite %s case %d: got %+v, want name, classname and time", s.Name, i, c)
			}
			wantFail := s.Name == "check-fail" && (i == 3 || i == 4)
			if (c.Failure != nil) != wantFail {
				t.Errorf("suite %s case %s: failure %v, want %v", s.Name, c.Name, c.Failure != nil, wantFail)
			}
		}
	}
	if got := doc.Suites[1].Cases[3].Name; got != "expect[3]: all.gpus >= 8" {
		t.Errorf("case name: got %q", got)
	}

	// Bad input still leaves a report, with the problem as an error.
	r = run(t, "check", "-q", "testdata/check-syntax.yaml", "--junit", junit)
	if ExitCode(r.err) != ExitInvalid {
		t.Fatalf("exit %d, want 2", ExitCode(r.err))
	}
	doc = parseJUnit(t, junit)
	if doc.Errors != 1 || doc.Suites[0].Cases[0].Error == nil || !strings.Contains(doc.Suites[0].Cases[0].Error.Message, "col 34") {
		t.Errorf("got %+v, want one error naming col 34", doc)
	}
}

func TestCheckListMetrics(t *testing.T) {
	// Listing works even where an assertion names an unknown metric.
	r := run(t, "check", "-q", "--list-metrics", "testdata/check-unknown.yaml")
	if r.err != nil {
		t.Fatal(r.err)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if lines[0] != "# check-unknown (seed 1)" {
		t.Errorf("header: got %q", lines[0])
	}
	var names []string
	for _, l := range lines[1:] {
		names = append(names, strings.Fields(l)[0])
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Errorf("not sorted: %s before %s", names[i-1], names[i])
		}
	}
	for _, want := range []string{"big.gpus  ", "small.gpus  ", "big.chat.p95_ttft_ms  ", "small.chat.completion_rate  ", "big.slo_attainment  "} {
		if !strings.Contains(r.stdout, "\n"+want) {
			t.Errorf("list lacks %q", want)
		}
	}
	values := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		values[f[0]] = f[1]
	}
	// 8 and 4 GPUs at $3 per GPU-hour, as the scenario says.
	if values["big.gpus"] != "8" || values["small.gpus"] != "4" || values["small.cost_per_hour_usd"] != "12" {
		t.Errorf("values: big.gpus %q small.gpus %q small.cost_per_hour_usd %q, want 8, 4, 12",
			values["big.gpus"], values["small.gpus"], values["small.cost_per_hour_usd"])
	}
}

func TestCheckBuiltinAndSeed(t *testing.T) {
	// minimal has no assertions: nothing fails. Different seeds record
	// different seeds in the baseline.
	dir := t.TempDir()
	r := run(t, "check", "-q", "minimal", "--seed", "5", "--baseline", dir, "--update-baseline")
	if r.err != nil {
		t.Fatal(r.err)
	}
	var doc struct {
		Seed uint64 `json:"seed"`
	}
	if err := json.Unmarshal(mustReadFile(t, filepath.Join(dir, "minimal.json")), &doc); err != nil || doc.Seed != 5 {
		t.Errorf("seed: got %d (%v), want 5", doc.Seed, err)
	}
	r = run(t, "check", "minimal", "--seed", "6", "--baseline", dir)
	if !strings.Contains(r.stderr, "recorded with seed 5, this run uses seed 6") {
		t.Errorf("want a note on the seed mismatch, got %q", r.stderr)
	}
}

// With --replications every metric becomes an interval over the seeds: a
// metric fixed by the scenario (GPUs, price) has width 0 and keeps its
// verdict, while a claim that only one seed supports (arrivals of a
// Poisson process differing by less than one request) no longer holds.
func TestCheckReplications(t *testing.T) {
	src, err := os.ReadFile("testdata/check-pass.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	s = s[:strings.Index(s, "  expect:")] + `  expect:
    - big.gpus == 8 and small.gpus == 4
    - all.chat.p95_ttft_ms < 20s
    - big.chat.requests_arrived < big.chat.requests_arrived + 0.5
`
	path := filepath.Join(t.TempDir(), "rep.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	one := run(t, "check", "-q", path)
	if code := ExitCode(one.err); code != ExitOK {
		t.Fatalf("one seed: exit %d, want 0 (a value is less than itself plus 0.5):\n%s", code, one.stdout)
	}
	rep := run(t, "check", "-q", path, "--replications", "4")
	if code := ExitCode(rep.err); code != ExitFailure {
		t.Fatalf("4 seeds: exit %d, want 1:\n%s%s", code, rep.stdout, rep.stderr)
	}
	lines := strings.Split(strings.TrimSpace(rep.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3:\n%s", len(lines), rep.stdout)
	}
	if !strings.HasPrefix(lines[0], "PASS") || !strings.Contains(lines[0], "big.gpus(±0)=8") {
		t.Errorf("fixed metric: got %q, want a PASS with a zero-width interval", lines[0])
	}
	if !strings.HasPrefix(lines[1], "PASS") || !strings.Contains(lines[1], "p95_ttft_ms(±") {
		t.Errorf("TTFT bound: got %q, want a PASS showing the interval", lines[1])
	}
	if !strings.HasPrefix(lines[2], "FAIL") {
		t.Errorf("seed-noise claim: got %q, want FAIL", lines[2])
	}
	bad := run(t, "check", path, "--replications", "0")
	if code := ExitCode(bad.err); code != ExitInvalid {
		t.Errorf("--replications 0: exit %d, want 2", code)
	}
}
