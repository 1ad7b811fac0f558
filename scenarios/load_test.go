package scenarios

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestLoadValid loads every testdata/valid-*.yaml: each must load without
// a problem, remember where it came from, and pass Validate again (the
// scenario Load returns is the defaulted one).
func TestLoadValid(t *testing.T) {
	files, err := filepath.Glob("testdata/valid-*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/valid-*.yaml: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(f)
			if err != nil {
				t.Fatalf("Load: got error\n%v\nwant none", err)
			}
			if got := s.SourcePath(); got != f {
				t.Errorf("SourcePath() = %q, want %q", got, f)
			}
			if err := s.Validate(); err != nil {
				t.Errorf("Validate after Load: got\n%v\nwant nil", err)
			}
		})
	}
}

// TestLoadInvalid is the catalogue of invalid files. Each row names a file
// and substrings its error must contain: the file name with the line of
// the mistake (read off the file, whose last line comment says where the
// mistakes are), the field path and the gist of the message.
func TestLoadInvalid(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"invalid-faults.yaml", []string{
			`invalid-faults.yaml:25: spec.workloads[chat].retry.timeout: must be > 0`,
			`invalid-faults.yaml:31: spec.faults[meteor].kind: unknown kind "meteorStrike"`,
			`invalid-faults.yaml:32: spec.faults[half].fraction: a nodeLoss needs fraction or count`,
			`invalid-faults.yaml:36: spec.faults[slow].addRttMs: a linkDegraded needs addRttMs or loss`,
			`invalid-faults.yaml:39: spec.faults[slow].to: unknown place "atlantis"`,
			`invalid-faults.yaml:45: spec.faults[search-out].tool: unknown tool "search"`,
		}},
		{"invalid-trace.yaml", []string{
			`invalid-trace.yaml:15: spec.users[nyc].load[0].peakRatePerS: workload "a" replays a trace`,
			`invalid-trace.yaml:21: spec.workloads[a].trace: give either chat distributions or a trace, not both`,
			`invalid-trace.yaml:26: spec.workloads[b].trace.format: unknown format "parquet"`,
			`invalid-trace.yaml:26: spec.workloads[b].trace.onError: unknown value "ignore"`,
			`invalid-trace.yaml:26: spec.workloads[b].trace.rateScale: must be in (0, 1e6], got -2`,
			`invalid-trace.yaml:30: spec.workloads[c].trace.format: a chat workload replays request traces`,
		}},
		{"invalid-unknown-field.yaml", []string{
			`invalid-unknown-field.yaml:8: spec.run.bogus: unknown field "bogus"`,
			`invalid-unknown-field.yaml:16: spec.regions[us-east].clusters[c1].gpuPools[0].pricePerGpuHourUSD: unknown field "pricePerGpuHourUSD" (did you mean "pricePerGPUHourUSD"?)`,
		}},
		{"invalid-wrong-type.yaml", []string{
			`invalid-wrong-type.yaml:14: spec.regions[us-east].clusters[c1].gpuPools[0].count: cannot use "abc" as an integer`,
			`invalid-wrong-type.yaml:20: spec.users[nyc].load[0].peakRatePerS: cannot use "lots" as a number`,
		}},
		{"invalid-type-errors.yaml", []string{
			`invalid-type-errors.yaml:8: spec.run.seed: cannot use -1 as a non-negative integer`,
			`invalid-type-errors.yaml:26: spec.workloads[chat].chat.promptTokens.quantiles[1]: cannot use "x" as a number`,
			`invalid-type-errors.yaml:28: spec.workloads[chat].slos: cannot use a mapping as a list`,
		}},
		{"invalid-fraction.yaml", []string{
			`invalid-fraction.yaml:14: spec.regions[us-east].clusters[c1].gpuPools[0].count: must be a whole number, got 1.5`,
		}},
		{"invalid-negative-count.yaml", []string{
			`invalid-negative-count.yaml:14: spec.regions[us-east].clusters[c1].gpuPools[0].count: must be >= 0, got -3`,
		}},
		{"invalid-unknown-region.yaml", []string{
			`invalid-unknown-region.yaml:18: spec.users[nyc].place: unknown place "mars"`,
			`invalid-unknown-region.yaml:33: spec.strategies[central].deployments[0].sites[0]: unknown site "atlantis"`,
		}},
		{"invalid-unknown-gpu.yaml", []string{
			`invalid-unknown-gpu.yaml:13: spec.regions[us-east].clusters[c1].gpuPools[0].gpu: unknown GPU "h900"`,
		}},
		{"invalid-unknown-model.yaml", []string{
			`invalid-unknown-model.yaml:33: spec.strategies[central].deployments[0].model: unknown model "llama-9-1t"`,
		}},
		{"invalid-empty-workloads.yaml", []string{
			`invalid-empty-workloads.yaml:21: spec.workloads: at least one workload is required`,
			`invalid-empty-workloads.yaml:20: spec.users[nyc].load[0].workload: unknown workload "chat"`,
		}},
		{"invalid-slo-percentile.yaml", []string{
			`invalid-slo-percentile.yaml:28: spec.workloads[chat].slos[0].percentile: impossible SLO percentile 100`,
			`invalid-slo-percentile.yaml:29: spec.workloads[chat].slos[1].percentile: impossible SLO percentile 0`,
			`invalid-slo-percentile.yaml:30: spec.workloads[chat].slos[2].percentile: impossible SLO percentile 150`,
		}},
		{"invalid-duration-1000-years.yaml", []string{
			// 1000 years of 365.25 days is 365250 days.
			`invalid-duration-1000-years.yaml:7: spec.run.duration: must be at most 366d, got 365250d`,
		}},
		{"invalid-duration-no-unit.yaml", []string{
			`invalid-duration-no-unit.yaml:7: spec.run.duration: invalid duration "30": missing unit: write "30s" or "250ms"`,
		}},
		{"invalid-duration-list.yaml", []string{
			`invalid-duration-list.yaml:7: spec.run.duration: invalid duration: want a string such as "30s", got a list`,
		}},
		{"invalid-time-zone.yaml", []string{
			`invalid-time-zone.yaml:10: spec.regions[us-east].timeZone: unknown time zone "Mars/Olympus_Mons"`,
		}},
		{"invalid-dangling-reference.yaml", []string{
			`invalid-dangling-reference.yaml:20: spec.users[nyc].load[0].workload: unknown workload "chatt"`,
			`invalid-dangling-reference.yaml:22: spec.workloads[chat]: no user group sends this workload`,
		}},
		{"invalid-centralized-two-sites.yaml", []string{
			`invalid-centralized-two-sites.yaml:30: spec.strategies[central].kind: a centralized strategy places every deployment on one and the same site, got 2 sites: us-east, eu-west`,
		}},
		{"invalid-edge-on-core.yaml", []string{
			`invalid-edge-on-core.yaml:33: spec.strategies[central].deployments[0].sites[0]: an edge strategy places replicas at edge sites only, but "us-east" is a core site`,
		}},
		{"invalid-capacity.yaml", []string{
			// 2 nodes of 8 GPUs (the gpusPerNode default) = 16 < 32.
			`invalid-capacity.yaml:33: spec.strategies[central].deployments[0].gpus: needs 32 h100 GPUs at sites us-east, which have 16`,
		}},
		{"invalid-api-version.yaml", []string{
			`invalid-api-version.yaml:1: apiVersion: unsupported "fleetsim/v2", want "fleetsim/v1alpha1"`,
		}},
		{"invalid-missing-api-version.yaml", []string{
			`invalid-missing-api-version.yaml:1: apiVersion: missing, want "fleetsim/v1alpha1"`,
		}},
		{"invalid-duplicate-name.yaml", []string{
			`invalid-duplicate-name.yaml:21: spec.users[nyc].name: duplicate user group name "nyc": names must be unique (first at line 17)`,
		}},
		{"invalid-duplicate-key.yaml", []string{
			`invalid-duplicate-key.yaml:8: spec.run.duration: duplicate key "duration" (first at line 7)`,
		}},
		{"invalid-dist.yaml", []string{
			`invalid-dist.yaml:25: spec.workloads[chat].chat.promptTokens.mean: required by an exponential distribution`,
			`invalid-dist.yaml:25: spec.workloads[chat].chat.promptTokens.median: not used by an exponential distribution`,
			`invalid-dist.yaml:26: spec.workloads[chat].chat.outputTokens.dist: unknown distribution "gamma"`,
		}},
		{"invalid-zero-gpus-per-node.yaml", []string{
			`invalid-zero-gpus-per-node.yaml:14: spec.regions[us-east].clusters[c1].gpuPools[0].gpusPerNode: must be >= 1, got 0`,
		}},
		{"invalid-place-and-latlon.yaml", []string{
			`invalid-place-and-latlon.yaml:17: spec.users[nyc]: give either place or lat and lon, not both`,
		}},
		{"invalid-kind-block.yaml", []string{
			`invalid-kind-block.yaml:22: spec.workloads[chat].agent: required when kind is agent`,
			`invalid-kind-block.yaml:24: spec.workloads[chat].chat: not allowed when kind is agent`,
		}},
		{"invalid-missing-field.yaml", []string{
			`invalid-missing-field.yaml:13: spec.regions[us-east].clusters[c1].gpuPools[0].count: required field missing`,
		}},
		{"invalid-task-slo-on-chat.yaml", []string{
			`invalid-task-slo-on-chat.yaml:28: spec.workloads[chat].slos[0].metric: task applies to agent workloads only`,
		}},
		{"invalid-three-mistakes.yaml", []string{
			`invalid-three-mistakes.yaml:15: spec.regions[us-east].clusters[c1].gpuPools[0].pricePerGPUHourUSD: must be >= 0, got -1`,
			`invalid-three-mistakes.yaml:28: spec.workloads[chat].slos[0].percentile: impossible SLO percentile 100`,
			`invalid-three-mistakes.yaml:33: spec.strategies[central].deployments[0].tensorParallel: must be 1, 2, 4 or 8, got 3`,
		}},
		{"invalid-not-yaml.yaml", []string{`invalid-not-yaml.yaml:3: not valid YAML`}},
		{"invalid-not-mapping.yaml", []string{`invalid-not-mapping.yaml:1: not a scenario: want a mapping`}},
		{"invalid-empty.yaml", []string{`invalid-empty.yaml: empty file`}},
		// The second document starts after the first one's 33 lines.
		{"invalid-multi-document.yaml", []string{`invalid-multi-document.yaml:34: more than one YAML document`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s, err := Load(filepath.Join("testdata", tt.file))
			if err == nil {
				t.Fatalf("Load: got no error and scenario %q, want an error", s.Metadata.Name)
			}
			if s != nil {
				t.Errorf("Load: got a scenario with the error, want nil")
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Errorf("Load: got error of type %T, want Problems", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
	// Every invalid file is in the table.
	files, _ := filepath.Glob("testdata/invalid-*.yaml")
	listed := map[string]bool{}
	for _, tt := range tests {
		listed[tt.file] = true
	}
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s has no row in the table", f)
		}
	}
}

// TestAllProblemsReported checks that a file with three independent
// mistakes gives exactly three problems, not just the first.
func TestAllProblemsReported(t *testing.T) {
	_, err := Load("testdata/invalid-three-mistakes.yaml")
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("got %v (%T), want Problems", err, err)
	}
	wantPaths := []string{
		"spec.regions[us-east].clusters[c1].gpuPools[0].pricePerGPUHourUSD",
		"spec.workloads[chat].slos[0].percentile",
		"spec.strategies[central].deployments[0].tensorParallel",
	}
	if len(ps) != len(wantPaths) {
		t.Fatalf("got %d problems:\n%v\nwant %d", len(ps), err, len(wantPaths))
	}
	for i, p := range ps {
		if p.Path != wantPaths[i] {
			t.Errorf("problem %d: got path %q, want %q", i, p.Path, wantPaths[i])
		}
	}
	var first Problem
	if !errors.As(err, &first) || first.Line != 15 {
		t.Errorf("errors.As(err, &Problem): got %+v, want the first problem, on line 15", first)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join("testdata", "no-such-file.yaml")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want an error naming %s", err, path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want one that wraps os.ErrNotExist", err)
	}
	if _, err := Load("testdata"); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("Load(directory): got %v, want an error saying it is a directory", err)
	}
}

// TestLoadTooLarge checks that the size is checked before the file is
// read: the file is a 64 GiB sparse file, which the test would not survive
// reading.
func TestLoadTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.yaml")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 64<<30); err != nil {
		t.Skipf("cannot make a sparse file here: %v", err)
	}
	start := time.Now()
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "more than the limit of 8 MiB") {
		t.Fatalf("got %v, want a size error", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Load took %v, want it to refuse at once", d)
	}

	// Parse refuses the same limit, one byte over.
	big := make([]byte, MaxFileSize+1)
	if _, err := Parse("big.yaml", big); err == nil || !strings.Contains(err.Error(), "more than the limit") {
		t.Errorf("Parse(8 MiB + 1): got %v, want a size error", err)
	}
}

// TestHugeList checks the limit of 10,000 entries in a list.
func TestHugeList(t *testing.T) {
	data, err := os.ReadFile("testdata/valid-chat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{MaxListLen, MaxListLen + 1} {
		q := make([]string, n)
		for i := range q {
			q[i] = "1"
		}
		text := strings.Replace(string(data), "{dist: exponential, mean: 250}",
			"{dist: empirical, quantiles: ["+strings.Join(q, ", ")+"]}", 1)
		_, err := Parse("huge.yaml", []byte(text))
		tooMany := err != nil && strings.Contains(err.Error(), "spec.workloads[chat].chat.outputTokens.quantiles: has 10001 entries, more than the limit of 10000")
		if want := n > MaxListLen; tooMany != want {
			t.Errorf("%d quantiles: got error %v, want a list-size error: %v", n, err, want)
		}
	}
}

// TestWhere checks field paths against lines read off testdata/valid-agentic.yaml.
func TestWhere(t *testing.T) {
	const f = "testdata/valid-agentic.yaml"
	s, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want string
	}{
		{"spec.run.seed", f + ":15"},
		{"spec.network.measured[0].rttMs", f + ":21"},
		{"spec.regions[frankfurt]", f + ":34"},
		{"spec.regions[frankfurt].clusters[edge-1].gpuPools[0].count", f + ":38"},
		{"spec.users[eu].curve.hourly[5]", f + ":63"},
		{"spec.workloads[coder].agent.tools[1].tool", f + ":85"},
		{"spec.strategies[regional].routing.maxQueuePerReplica", f + ":102"},
		// Not in the file: the nearest enclosing field that is.
		{"spec.strategies[regional].deployments[0].maxBatch", f + ":101"},
		{"spec.users[us].timeZone", f + ":53"},
		{"", f + ":3"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := s.Where(tt.path); got != tt.want {
				t.Errorf("Where(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
	if got := (&Scenario{}).Where("spec"); got != "" {
		t.Errorf("Where on a scenario built in Go = %q, want \"\"", got)
	}
}

func TestProblemError(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{"a.yaml", 7, "spec.run.duration", "must be > 0"}, "a.yaml:7: spec.run.duration: must be > 0"},
		{Problem{"a.yaml", 0, "spec.run", "x"}, "a.yaml: spec.run: x"},
		{Problem{"a.yaml", 0, "", "empty file"}, "a.yaml: empty file"},
		{Problem{"", 3, "spec", "x"}, "line 3: spec: x"},
		{Problem{"", 0, "spec", "x"}, "spec: x"},
	}
	for _, tt := range tests {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.p, got, tt.want)
		}
	}
	ps := Problems{tests[0].p, tests[1].p}
	if got, want := ps.Error(), tests[0].want+"\n"+tests[1].want; got != want {
		t.Errorf("Problems.Error() = %q, want %q", got, want)
	}
}

// TestValidateInGo validates a scenario built in Go: problems carry paths
// but no file or line.
func TestValidateInGo(t *testing.T) {
	s, err := Load("testdata/valid-chat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s.origin = nil
	s.Spec.Regions[0].Clusters[0].GPUPools[0].Count = -3
	s.Spec.Run.Duration = 0
	err = s.Validate()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("got %v, want Problems", err)
	}
	want := map[string]string{
		"spec.regions[us-east].clusters[c1].gpuPools[0].count": "must be >= 0, got -3",
		"spec.run.duration": "must be > 0, got 0s",
	}
	for _, p := range ps {
		if p.File != "" || p.Line != 0 {
			t.Errorf("problem %q: got file %q line %d, want none", p.Path, p.File, p.Line)
		}
		if w, ok := want[p.Path]; ok && p.Msg == w {
			delete(want, p.Path)
		}
	}
	for path, msg := range want {
		t.Errorf("missing problem %s: %s in\n%v", path, msg, err)
	}
}

// TestSetDefaults checks each default against the doc comment of its
// field in types.go (the contract: "Default 8", "Default \"24h\""), so
// that a change of either shows up here.
func TestSetDefaults(t *testing.T) {
	docs := fieldDocs(t)
	s, err := Load("testdata/valid-chat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Clear what the file sets, and default again.
	s.Spec.Run.Duration = 0
	s.Spec.Strategies[0].Deployments[0].TensorParallel = 0
	s.SetDefaults()
	a, err := Load("testdata/valid-agentic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := &a.Spec.Workloads[1]
	w.Connection, w.Agent.ToolCallMode, w.Agent.Orchestrator, w.Agent.MaxContextTokens = "", "", "", 0
	w.Agent.Tools[1].Probability = nil
	a.SetDefaults()

	sp := s.Spec
	dep := sp.Strategies[0].Deployments[0]
	u := sp.Users[0]
	tests := []struct {
		field     string // Type.Field in types.go
		doc       string // what follows "Default " in its doc comment
		got, want any
	}{
		{"Run.Duration", `"24h"`, sp.Run.Duration, Duration(24 * 3600)},
		{"Run.Warmup", `"0s"`, sp.Run.Warmup, Duration(0)},
		{"Run.Drain", `"1h"`, sp.Run.Drain, Duration(3600)},
		{"Run.StartHourUTC", `0`, sp.Run.StartHourUTC, 0.0},
		{"Run.Date", `"2026-01-15"`, sp.Run.Date, "2026-01-15"},
		{"Run.Seed", `1`, *sp.Run.Seed, uint64(1)},
		{"Network.FiberKmPerMs", `200`, *sp.Network.FiberKmPerMs, 200.0},
		{"Network.SameSiteRTTMs", `2`, *sp.Network.SameSiteRTTMs, 2.0},
		{"Network.JitterMs", `exponential with mean 1`, *sp.Network.JitterMs, Dist{Dist: "exponential", Mean: ptr(1.0)}},
		{"Network.HandshakeRTTs", `2`, *sp.Network.HandshakeRTTs, 2},
		{"Network.BandwidthMbps", `1000`, sp.Network.BandwidthMbps, 1000.0},
		{"Network.AccessBandwidthMbps", `50`, sp.Network.AccessBandwidthMbps, 50.0},
		{"Network.BytesPerToken", `4`, sp.Network.BytesPerToken, 4.0},
		{"Region.Kind", `from the catalog, else "core"`, sp.Regions[0].Kind, "core"},
		{"GPUPool.GPUsPerNode", `8`, sp.Regions[0].Clusters[0].GPUPools[0].GPUsPerNode, 8},
		{"UserGroup.AccessRTTMs", `10`, *u.AccessRTTMs, 10.0},
		{"Curve.PeakHourLocal", `14`, *u.Curve.PeakHourLocal, 14.0},
		{"Curve.TroughRatio", `0.25`, *u.Curve.TroughRatio, 0.25},
		{"Workload.Connection", `: perRequest for chat`, sp.Workloads[0].Connection, "perRequest"},
		{"Workload.Connection", `: perRequest for chat, persistent for agents`, w.Connection, "persistent"},
		{"Agent.ToolCallMode", `sequential`, w.Agent.ToolCallMode, "sequential"},
		{"Agent.Orchestrator", `client`, w.Agent.Orchestrator, "client"},
		{"Agent.MaxContextTokens", `128000`, w.Agent.MaxContextTokens, 128000},
		{"ToolCall.Probability", `1`, *w.Agent.Tools[1].Probability, 1.0},
		{"Deployment.Precision", `bf16`, dep.Precision, "bf16"},
		{"Deployment.TensorParallel", `1`, dep.TensorParallel, 1},
		{"Deployment.MaxBatch", `256`, dep.MaxBatch, 256},
		{"Deployment.Split", `demand`, dep.Split, "demand"},
		{"Deployment.Serves", `all`, dep.Serves, []string{"chat"}},
		{"Routing.Policy", `nearest`, sp.Strategies[0].Routing.Policy, "nearest"},
		{"Routing.SpillOverWait", `"2s"`, *sp.Strategies[0].Routing.SpillOverWait, Duration(2)},
		{"Routing.MaxQueuePerReplica", `512`, sp.Strategies[0].Routing.MaxQueuePerReplica, 512},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			doc, ok := docs[tt.field]
			if !ok {
				t.Fatalf("types.go has no field %s", tt.field)
			}
			if !strings.Contains(doc, "Default "+tt.doc) && !strings.Contains(doc, "Default"+tt.doc) {
				t.Errorf("types.go documents %s as %q, want it to say Default %s", tt.field, doc, tt.doc)
			}
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("%s after SetDefaults: got %v, want %v", tt.field, tt.got, tt.want)
			}
		})
	}
	// A value the file sets is kept.
	if p := *a.Spec.Workloads[1].Agent.Tools[0].Probability; p != 0.5 {
		t.Errorf("probability set to 0.5: got %v after SetDefaults", p)
	}
	// Left to the network model: no default here.
	if sp.Network.BaseRTTMs != nil || sp.Network.PathInflation != nil {
		t.Errorf("baseRttMs, pathInflation: got %v, %v, want nil", sp.Network.BaseRTTMs, sp.Network.PathInflation)
	}
}

// fieldDocs reads the doc comment of every struct field in types.go,
// keyed "Type.Field", with white space collapsed.
func fieldDocs(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "types.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return false
		}
		for _, fld := range st.Fields.List {
			for _, name := range fld.Names {
				docs[ts.Name.Name+"."+name.Name] = strings.Join(strings.Fields(fld.Doc.Text()), " ")
			}
		}
		return false
	})
	return docs
}

// TestSetDefaultsIdempotent applies SetDefaults twice to every valid file.
func TestSetDefaultsIdempotent(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid-*.yaml")
	for _, f := range files {
		s1, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		s2, _ := Load(f)
		s2.SetDefaults()
		if !reflect.DeepEqual(s1, s2) {
			t.Errorf("%s: SetDefaults twice differs from once", f)
		}
	}
}

// TestDefaultsFromCatalog checks that a catalog region takes its
// coordinates, kind, zone and time zone from the catalog, and a user group
// its time zone and zone from its place.
func TestDefaultsFromCatalog(t *testing.T) {
	s, err := Load("testdata/valid-agentic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Region{}
	for _, r := range s.Spec.Regions {
		byName[r.Name] = r
	}
	// topology's catalog: eu-west is Amsterdam (core, eu); frankfurt is an
	// edge metro in Europe/Berlin.
	tests := []struct {
		name                 string
		kind, zone, timeZone string
	}{
		{"eu-west", "core", "eu", "Europe/Amsterdam"},
		{"frankfurt", "edge", "eu", "Europe/Berlin"},
	}
	for _, tt := range tests {
		r := byName[tt.name]
		if r.Kind != tt.kind || r.Zone != tt.zone || r.TimeZone != tt.timeZone || r.Lat == nil || r.Lon == nil {
			t.Errorf("region %s: got kind %q zone %q tz %q lat %v lon %v, want %q %q %q with coordinates",
				tt.name, r.Kind, r.Zone, r.TimeZone, r.Lat, r.Lon, tt.kind, tt.zone, tt.timeZone)
		}
	}
	if u := s.Spec.Users[1]; u.TimeZone != "Europe/Berlin" || u.Zone != "eu" || u.Lat != nil {
		t.Errorf("user group eu (place frankfurt): got tz %q zone %q lat %v, want Europe/Berlin, eu and no coordinates", u.TimeZone, u.Zone, u.Lat)
	}
}

// BenchmarkParseHugeList measures the worst case the size limit allows: an
// 8 MiB file that is one list of about 4 million numbers, which Parse
// refuses for its length.
func BenchmarkParseHugeList(b *testing.B) {
	data, err := os.ReadFile("testdata/valid-chat.yaml")
	if err != nil {
		b.Fatal(err)
	}
	n := (MaxFileSize - len(data) - 100) / 2
	q := strings.Repeat("1,", n-1) + "1"
	text := []byte(strings.Replace(string(data), "{dist: exponential, mean: 250}", "{dist: empirical, quantiles: ["+q+"]}", 1))
	if len(text) > MaxFileSize {
		b.Fatalf("built %d bytes, more than the limit", len(text))
	}
	for b.Loop() {
		if _, err := Parse("huge.yaml", text); err == nil || !strings.Contains(err.Error(), "more than the limit of 10000") {
			b.Fatalf("got %v, want a list-size error", err)
		}
	}
}
