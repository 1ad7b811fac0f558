package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/results"
	"github.com/fleetsim/fleetsim/scenarios"
)

type runOut struct {
	stdout, stderr string
	err            error
}

func run(t *testing.T, args ...string) runOut {
	t.Helper()
	return runCtx(t, context.Background(), args...)
}

// runCtx is run with a context the command stops on.
func runCtx(t *testing.T, ctx context.Context, args ...string) runOut {
	t.Helper()
	t.Setenv("FLEETSIM_CONFIG", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no user settings leak into tests
	var out, errb bytes.Buffer
	err := RunContext(ctx, args, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return runOut{out.String(), errb.String(), err}
}

// TestDeterminism: the same scenario and seed give byte-identical stdout
// in every format, whatever GOMAXPROCS and the number of strategies run at
// once.
func TestDeterminism(t *testing.T) {
	name := "global-agentic"
	if testing.Short() {
		name = "minimal"
	}
	for _, format := range []string{"json", "table"} {
		var first string
		for _, procs := range []int{1, 4} {
			prev := runtime.GOMAXPROCS(procs)
			r := run(t, "run", name, "--output", format, "--parallel", "0")
			runtime.GOMAXPROCS(prev)
			if r.err != nil {
				t.Fatalf("run %s: %v\n%s", name, r.err, r.stderr)
			}
			if first == "" {
				first = r.stdout
				continue
			}
			if r.stdout != first {
				t.Errorf("%s output differs between GOMAXPROCS=1 and %d", format, procs)
			}
		}
		if testing.Short() {
			r := run(t, "run", name, "--output", format, "--parallel", "1")
			if r.stdout != first {
				t.Errorf("%s output differs with --parallel 1", format)
			}
		}
	}
}

func TestSeedChangesOutputAndIsRecorded(t *testing.T) {
	a := run(t, "run", "minimal", "--output", "json", "--seed", "11")
	b := run(t, "run", "minimal", "--output", "json", "--seed", "12")
	if a.err != nil || b.err != nil {
		t.Fatal(a.err, b.err)
	}
	if a.stdout == b.stdout {
		t.Error("seeds 11 and 12 gave identical results")
	}
	var res results.Result
	if err := json.Unmarshal([]byte(a.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Seed != 11 || res.SchemaVersion != results.SchemaVersion {
		t.Errorf("seed %d schema %q, want 11 and %q", res.Seed, res.SchemaVersion, results.SchemaVersion)
	}
}

// TestEveryBuiltinRuns loads, builds and runs every built-in scenario and
// checks the accounting of its result.
func TestEveryBuiltinRuns(t *testing.T) {
	for _, b := range scenarios.Builtins() {
		if testing.Short() && b.Name == "global-agentic" {
			continue // TestDeterminism covers it in full runs
		}
		t.Run(b.Name, func(t *testing.T) {
			r := run(t, "run", b.Name, "--output", "json")
			if r.err != nil {
				t.Fatalf("%v\n%s", r.err, r.stderr)
			}
			var res results.Result
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatal(err)
			}
			if len(res.Strategies) == 0 {
				t.Fatal("no strategies")
			}
			for _, s := range res.Strategies {
				for _, w := range s.Workloads {
					c := w.Requests
					if c.Arrived == 0 || c.Arrived != c.Completed+c.Failed+c.TimedOut+c.Dropped+c.InFlight {
						t.Errorf("%s/%s: requests %+v do not add up", s.Name, w.Name, c)
					}
					if w.Sessions != nil {
						c := *w.Sessions
						if c.Arrived != c.Completed+c.Failed+c.TimedOut+c.Dropped+c.InFlight {
							t.Errorf("%s/%s: sessions %+v do not add up", s.Name, w.Name, c)
						}
					}
				}
			}
		})
	}
}

func TestNoArgumentsRunsDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the full default scenario")
	}
	r := run(t)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !strings.Contains(r.stdout, "scenario global-agentic") || !strings.Contains(r.stdout, "centralized") {
		t.Errorf("no default table in output:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "events/s") || !strings.Contains(r.stderr, "events/s") {
		t.Error("timing must go to stderr only")
	}
}

// TestValidateInvalidCatalogue: every invalid testdata scenario fails
// validation with exit code 2 and a message naming its file and line.
func TestValidateInvalidCatalogue(t *testing.T) {
	files, err := filepath.Glob("../scenarios/testdata/invalid-*.yaml")
	if err != nil || len(files) < 10 {
		t.Fatalf("found %d invalid scenarios (%v), want a catalogue", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := run(t, "validate", f)
			if got := ExitCode(r.err); got != ExitInvalid {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", got, ExitInvalid, r.stderr)
			}
			if !strings.Contains(r.stderr, filepath.Base(f)+":") {
				t.Errorf("message does not name the file:\n%s", r.stderr)
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine") {
				t.Errorf("panic on bad input:\n%s", r.stderr)
			}
		})
	}
	r := run(t, "validate", "no/such/file.yaml")
	if ExitCode(r.err) != ExitInvalid || !strings.Contains(r.stderr, "no/such/file.yaml") {
		t.Errorf("missing file: exit %d, stderr %q", ExitCode(r.err), r.stderr)
	}
}

func TestValidateValid(t *testing.T) {
	files, _ := filepath.Glob("../scenarios/testdata/valid-*.yaml")
	args := append([]string{"validate", "minimal"}, files...)
	r := run(t, args...)
	if r.err != nil {
		t.Fatalf("%v\n%s", r.err, r.stderr)
	}
	if got := strings.Count(r.stdout, ": ok"); got != len(args)-1 {
		t.Errorf("%d ok lines, want %d:\n%s", got, len(args)-1, r.stdout)
	}
}

// TestOutAtomic: --out writes the whole file, and a failed run leaves an
// existing file untouched and no temporary file behind.
func TestOutAtomic(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "result.json")
	r := run(t, "run", "minimal", "--output", "json", "--out", out)
	if r.err != nil || r.stdout != "" {
		t.Fatalf("err %v, stdout %q", r.err, r.stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil || !json.Valid(b) {
		t.Fatalf("output file is not valid JSON: %v", err)
	}
	if err := os.WriteFile(out, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "run", "../scenarios/testdata/invalid-negative-count.yaml", "--out", out)
	if ExitCode(r.err) != ExitInvalid {
		t.Fatalf("exit %d, want %d", ExitCode(r.err), ExitInvalid)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep" {
		t.Errorf("failed run changed the output file to %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the output file", len(entries))
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--bogus"},
		{"run", "a", "b"},
		{"validate"},
		{"run", "minimal", "--output", "yaml"},
		{"rtt"},
	} {
		r := run(t, args...)
		if got := ExitCode(r.err); got != ExitInvalid {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, got, ExitInvalid, r.stderr)
		}
		if strings.Count(r.stderr, r.err.Error()) != 1 {
			t.Errorf("%v: the error must be printed once:\n%s", args, r.stderr)
		}
	}
}

func TestScenariosListAndShow(t *testing.T) {
	r := run(t, "scenarios")
	if r.err != nil || !strings.Contains(r.stdout, "global-agentic") || !strings.Contains(r.stdout, "minimal") {
		t.Fatalf("list: %v\n%s", r.err, r.stdout)
	}
	r = run(t, "scenarios", "show", "global-agentic")
	want, _ := scenarios.BuiltinYAML("global-agentic")
	if r.err != nil || r.stdout != string(want) {
		t.Errorf("show printed something else than the embedded file (err %v)", r.err)
	}
	// What show prints is a scenario that validates as a file.
	path := filepath.Join(t.TempDir(), "copy.yaml")
	if err := os.WriteFile(path, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "validate", path); r.err != nil {
		t.Errorf("shown scenario does not validate: %v\n%s", r.err, r.stderr)
	}
	if r := run(t, "scenarios", "show", "nope"); ExitCode(r.err) != ExitInvalid {
		t.Errorf("unknown built-in: exit %d", ExitCode(r.err))
	}
}

func TestRTTCSV(t *testing.T) {
	in := filepath.Join(t.TempDir(), "pairs.csv")
	// New York - London and a same-place pair.
	body := "src_lat,src_lon,dst_lat,dst_lon\n40.71,-74.01,51.51,-0.13\n10,10,10,10\n"
	if err := os.WriteFile(in, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "rtt", "--csv", in)
	if r.err != nil {
		t.Fatal(r.err, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || lines[0] != "src_lat,src_lon,dst_lat,dst_lon,rtt_ms" {
		t.Fatalf("output:\n%s", r.stdout)
	}
	if !strings.HasPrefix(lines[1], "40.71,-74.01,51.51,-0.13,") || !strings.HasPrefix(lines[2], "10,10,10,10,") {
		t.Errorf("rows not echoed in order:\n%s", r.stdout)
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("src_lat,src_lon,dst_lat,dst_lon\n1,2,3,4\n95,0,0,0\n"), 0o644)
	r = run(t, "rtt", "--csv", bad)
	if ExitCode(r.err) != ExitInvalid || r.stdout != "" || !strings.Contains(r.stderr, "line 3") {
		t.Errorf("bad row: exit %d, stdout %q, stderr %q", ExitCode(r.err), r.stdout, r.stderr)
	}
	r = run(t, "rtt", "us-east", "eu-west", "48.85,2.35")
	if r.err != nil || !strings.Contains(r.stdout, "eu-west") || !strings.Contains(r.stdout, "48.85,2.35") {
		t.Errorf("matrix: %v\n%s", r.err, r.stdout)
	}
}

func TestSchemaIsJSON(t *testing.T) {
	r := run(t, "schema")
	if r.err != nil || !json.Valid([]byte(r.stdout)) {
		t.Fatalf("schema: %v", r.err)
	}
}

func TestSettingsFromEnvironment(t *testing.T) {
	t.Setenv("FLEETSIM_OUTPUT", "json")
	var out, errb bytes.Buffer
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if err := Run([]string{"run", "minimal"}, Streams{Out: &out, Err: &errb}); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out.Bytes()) {
		t.Error("FLEETSIM_OUTPUT=json did not select JSON")
	}
	// A flag beats the environment.
	out.Reset()
	if err := Run([]string{"run", "minimal", "--output", "table"}, Streams{Out: &out, Err: &errb}); err != nil {
		t.Fatal(err)
	}
	if json.Valid(out.Bytes()) {
		t.Error("--output table lost to FLEETSIM_OUTPUT")
	}
}

// TestTrace: --trace writes one row per finished or dropped call, with
// causal timestamps, matching the result's counts.
func TestTrace(t *testing.T) {
	dir := t.TempDir()
	tr := filepath.Join(dir, "trace.csv")
	r := run(t, "run", "minimal", "--output", "json", "--trace", tr)
	if r.err != nil {
		t.Fatal(r.err)
	}
	var res results.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(tr)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	num := func(row []string, name string) float64 {
		v, err := strconv.ParseFloat(row[col[name]], 64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	var measured int64
	for _, row := range rows[1:] {
		if row[col["measured"]] == "true" {
			measured++
		}
		if row[col["dropped"]] == "true" {
			continue
		}
		ts := []float64{num(row, "issued_s"), num(row, "at_server_s"), num(row, "admitted_s"), num(row, "first_token_s"), num(row, "finished_s")}
		for i := 1; i < len(ts); i++ {
			if ts[i] < ts[i-1] {
				t.Fatalf("row %v: timestamps out of order", row)
			}
		}
	}
	c := res.Strategies[0].Workloads[0].Requests
	if measured != c.Completed+c.Dropped {
		t.Errorf("trace has %d measured rows, result completed %d + dropped %d", measured, c.Completed, c.Dropped)
	}
	// Tracing does not change the result.
	plain := run(t, "run", "minimal", "--output", "json")
	if plain.stdout != r.stdout {
		t.Error("--trace changed the result")
	}
}
