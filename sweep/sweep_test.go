package sweep

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/scenarios"
)

const testSweep = `apiVersion: fleetsim/v1alpha1
kind: Sweep
metadata: {name: rate-and-seed}
scenario: minimal
parameters:
  - path: spec.users[us-east-users].load[chat].peakRatePerS
    values: [2, 5]
  - path: spec.run.seed
    values: [1, 2, 3]
`

func parseTest(t *testing.T) *File {
	t.Helper()
	f, err := Parse("sweep.yaml", []byte(testSweep))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestPointsAndApply: the grid is the cartesian product (last parameter
// fastest), and applying a point sets exactly the addressed fields.
func TestPointsAndApply(t *testing.T) {
	f := parseTest(t)
	pts := f.Points()
	if len(pts) != 6 || strings.Join(pts[1].Values, ",") != "2,2" || strings.Join(pts[5].Values, ",") != "5,3" {
		t.Fatalf("points %+v", pts)
	}
	base := []byte("spec:\n  run: {seed: 9}\n  users:\n    - name: us-east-users\n      load:\n        - {workload: chat, peakRatePerS: 1}\n        - {workload: other, peakRatePerS: 1}\n")
	out, err := f.Apply(base, pts[5])
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.Contains(s, "seed: 3") || !strings.Contains(s, "peakRatePerS: 5") || strings.Count(s, "peakRatePerS: 1") != 1 {
		t.Errorf("applied:\n%s", s)
	}
	f.Parameters[0].Path = "spec.users[nobody].load[chat].peakRatePerS"
	if _, err := f.Apply(base, pts[0]); err == nil || !strings.Contains(err.Error(), "matches nothing") {
		t.Errorf("a path that matches nothing: got %v", err)
	}
}

// TestParseErrors names the problem.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"kind: Scenario\nscenario: x\nparameters: [{path: a, values: [1]}]\n", `kind: must be "Sweep"`},
		{"kind: Sweep\nparameters: [{path: a, values: [1]}]\n", "scenario: required"},
		{"kind: Sweep\nscenario: x\nparameters: [{path: 'a[]', values: [1]}]\n", "empty selector"},
		{"kind: Sweep\nscenario: x\nparameters: [{path: a, values: []}]\n", "at least one value"},
		{"kind: Sweep\nscenario: x\nbogus: 1\n", "field bogus not found"},
		{"", "empty sweep file"},
	} {
		if _, err := Parse("s.yaml", []byte(c.yaml)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.yaml, err, c.want)
		}
	}
}

// TestResumeAfterInterruption: a sweep stopped after two points, then
// resumed, simulates each remaining point exactly once, and its results
// are byte-identical to an uninterrupted run with one worker.
func TestResumeAfterInterruption(t *testing.T) {
	f := parseTest(t)
	dir := t.TempDir()
	started := 0
	done, err := Run(f, "sweep.yaml", Options{Out: dir, Workers: 1, Stop: func() bool { started++; return started > 2 }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 2 {
		t.Fatalf("first run did %v, want 2 points", done)
	}
	// A crash mid-write leaves only a temporary file, which resume ignores.
	if err := os.WriteFile(filepath.Join(dir, "points", ".00002-dead.json.tmp-1"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := Run(f, "sweep.yaml", Options{Out: dir, Workers: 2, Resume: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 4 || again[0] != 2 {
		t.Fatalf("resume did %v, want points 2-5", again)
	}
	serial := t.TempDir()
	if _, err := Run(f, "sweep.yaml", Options{Out: serial, Workers: 1}, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Points() {
		a, err1 := os.ReadFile(filepath.Join(dir, "points", p.ID()+".json"))
		b, err2 := os.ReadFile(filepath.Join(serial, "points", p.ID()+".json"))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("point %d differs between resumed-parallel and serial runs (%v, %v)", p.Index, err1, err2)
		}
	}
	var buf bytes.Buffer
	n, err := Collect([]string{dir}, &buf)
	if err != nil || n != 6 {
		t.Fatalf("collect: %d points, %v", n, err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 1+6 || rows[0][1] != "spec.users[us-east-users].load[chat].peakRatePerS" {
		t.Errorf("csv rows %d (%v), header %v", len(rows), err, rows[0])
	}
}

// TestShards: two shards cover every point once, and collect merges them.
func TestShards(t *testing.T) {
	f := parseTest(t)
	a, b := t.TempDir(), t.TempDir()
	da, err := Run(f, "sweep.yaml", Options{Out: a, Workers: 2, Shard: 0, Shards: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Run(f, "sweep.yaml", Options{Out: b, Workers: 2, Shard: 1, Shards: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(da)+len(db) != 6 || da[0] != 0 || db[0] != 1 {
		t.Fatalf("shards did %v and %v", da, db)
	}
	var buf bytes.Buffer
	if n, err := Collect([]string{a, b}, &buf); err != nil || n != 6 {
		t.Fatalf("collect: %d, %v", n, err)
	}
}

// TestJobDecodes: the emitted Indexed Job decodes strictly with the
// Kubernetes batch/v1 types and runs one shard per completion index.
func TestJobDecodes(t *testing.T) {
	j, err := Job(JobOptions{Name: "s", Shards: 4, Image: "fleetsim:local", SweepConfigMap: "cm", ResultsClaim: "pvc"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := JobYAML(j)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeJob(data)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, data)
	}
	if *got.Spec.Completions != 4 || string(*got.Spec.CompletionMode) != "Indexed" ||
		!strings.Contains(strings.Join(got.Spec.Template.Spec.Containers[0].Args, " "), "--shard $(JOB_COMPLETION_INDEX) --shards 4") {
		t.Errorf("job %+v", got.Spec)
	}
	if _, err := DecodeJob(append(data, []byte("bogusField: 1\n")...)); err == nil {
		t.Errorf("an unknown field decoded without error")
	}
}

// TestUsersScalePath: the knob "this workload's users times k" is a path
// like any other, and every point of such a sweep is a valid scenario
// whose workload carries the swept scale.
func TestUsersScalePath(t *testing.T) {
	f, err := Parse("sweep.yaml", []byte(`apiVersion: fleetsim/v1alpha1
kind: Sweep
metadata: {name: agent-growth}
scenario: global-agentic
parameters:
  - path: spec.workloads[coding-agent].usersScale
    values: [0.5, 1, 2, 4]
`))
	if err != nil {
		t.Fatal(err)
	}
	src, ok := scenarios.BuiltinYAML("global-agentic")
	if !ok {
		t.Fatal("no global-agentic")
	}
	for _, p := range f.Points() {
		out, err := f.Apply(src, p)
		if err != nil {
			t.Fatal(err)
		}
		s, err := scenarios.Parse("point", out)
		if err != nil {
			t.Fatalf("point %d: %v", p.Index, err)
		}
		for _, w := range s.Spec.Workloads {
			want := 0.0
			if w.Name == "coding-agent" {
				want, _ = strconv.ParseFloat(p.Values[0], 64)
			}
			if w.UsersScale != want {
				t.Errorf("point %d: %s.usersScale = %v, want %v", p.Index, w.Name, w.UsersScale, want)
			}
		}
	}
}
