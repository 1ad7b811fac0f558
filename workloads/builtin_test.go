package workloads

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/workloads/internal/shapes"
)

func TestBuiltinNames(t *testing.T) {
	want := []string{
		"azure-code-output", "azure-code-prompt", "azure-conv-output", "azure-conv-prompt",
		"swebench-initial-prompt", "swebench-output", "swebench-step-gap-s", "swebench-steps",
		"swebench-tool-result",
	}
	var got []string
	for _, b := range Builtins() {
		got = append(got, b.Name)
		if b.Unit == "" || b.Description == "" || !strings.Contains(b.Source, "MIT") && !strings.Contains(b.Source, "CC-BY") {
			t.Errorf("%s: unit %q, description %q, source %q; want all set and a license in the source", b.Name, b.Unit, b.Description, b.Source)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Builtins() names = %v, want %v (sorted)", got, want)
	}
	for _, name := range want {
		d, ok := Builtin(strings.ToUpper(name))
		if !ok {
			t.Errorf("Builtin(%q) not found, want found (case-insensitive)", strings.ToUpper(name))
			continue
		}
		pw, isPw := d.(Piecewise)
		if !isPw {
			t.Errorf("Builtin(%q) is a %T, want a Piecewise", name, d)
			continue
		}
		if err := pw.Validate(); err != nil {
			t.Errorf("Builtin(%q): invalid table: %v", name, err)
		}
		if q0 := d.Quantile(0); q0 < 0 {
			t.Errorf("Builtin(%q).Quantile(0) = %v, want >= 0 (counts and durations)", name, q0)
		}
	}
	if _, ok := Builtin("azure-conv"); ok {
		t.Errorf("Builtin(\"azure-conv\") found, want not found")
	}
}

func TestBuiltinReturnsCopy(t *testing.T) {
	d, _ := Builtin("swebench-steps")
	want := d.Quantile(0.5)
	d.(Piecewise).Q[50] = -1
	d2, _ := Builtin("swebench-steps")
	if got := d2.Quantile(0.5); got != want {
		t.Errorf("after changing a returned table, median = %v, want %v", got, want)
	}
}

// TestBuiltinFacts compares each shape with the facts stated in the shared
// data READMEs, which were computed from the full files. The copies read by
// the generator are subsets (Azure: the first ~45 of 60 minutes; SWE-bench:
// 425 of 500 tasks), so the figures differ a little; each tolerance is the
// difference measured on the subset rounded up, and a wrong column or unit
// would miss by far more. Table means are the mean of the piecewise-linear
// inverse CDF.
func TestBuiltinFacts(t *testing.T) {
	cases := []struct {
		name   string
		stat   string // "p50", "p90", "p99", "max" or "mean"
		readme float64
		relTol float64
	}{
		{"azure-conv-prompt", "p50", 1020, 0.01},
		{"azure-conv-prompt", "p99", 4142, 0.01},
		{"azure-conv-prompt", "mean", 1155, 0.03},
		// The subset misses the last ~15 minutes; its median output is 116.
		{"azure-conv-output", "p50", 129, 0.11},
		{"azure-conv-output", "p99", 601, 0.01},
		{"azure-conv-output", "mean", 211, 0.05},
		{"azure-code-prompt", "p50", 1469, 0.01},
		{"azure-code-prompt", "p99", 7436, 0.01},
		{"azure-code-prompt", "mean", 2048, 0.01},
		{"azure-code-output", "p50", 13, 0.01},
		{"azure-code-output", "p99", 251, 0.02},
		{"azure-code-output", "mean", 27.9, 0.02},
		{"swebench-steps", "p50", 36, 0.03},
		{"swebench-steps", "p90", 66, 0.04},
		{"swebench-steps", "mean", 40.3, 0.03},
		{"swebench-steps", "max", 145, 0.001},
		{"swebench-output", "p50", 89, 0.02},
		{"swebench-output", "p90", 681, 0.04},
		{"swebench-step-gap-s", "p50", 4, 0.001},
		{"swebench-step-gap-s", "p90", 13, 0.001},
	}
	for _, tc := range cases {
		t.Run(tc.name+" "+tc.stat, func(t *testing.T) {
			d, ok := Builtin(tc.name)
			if !ok {
				t.Fatalf("Builtin(%q) not found", tc.name)
			}
			var got float64
			switch tc.stat {
			case "p50":
				got = d.Quantile(0.5)
			case "p90":
				got = d.Quantile(0.9)
			case "p99":
				got = d.Quantile(0.99)
			case "max":
				got = d.Quantile(1)
			case "mean":
				got = d.Mean()
			}
			if math.Abs(got-tc.readme) > tc.relTol*tc.readme {
				t.Errorf("%s = %v, want %v ± %v %% (data README)", tc.stat, got, tc.readme, 100*tc.relTol)
			}
		})
	}
}

// sharedData returns the shared data folder: $FLEETSIM_SHARED_DATA, or
// ../shared/data beside the repository.
func sharedData() string {
	if d := os.Getenv("FLEETSIM_SHARED_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "data")
}

// TestBuiltinTablesMatchGenerator regenerates builtin_gen.go from the data
// and fails if the committed file differs, so the tables cannot drift from
// the data or the generator. It skips where the data folder is absent.
func TestBuiltinTablesMatchGenerator(t *testing.T) {
	dir := sharedData()
	if _, err := os.Stat(filepath.Join(dir, "azure_llm_trace_2023")); err != nil {
		t.Skipf("shared data not found at %s (set FLEETSIM_SHARED_DATA): %v", dir, err)
	}
	shp, _, err := shapes.Extract(dir)
	if err != nil {
		t.Fatalf("extract shapes: %v", err)
	}
	got, err := shapes.Render(shp)
	if err != nil {
		t.Fatalf("render shapes: %v", err)
	}
	want, err := os.ReadFile("builtin_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("builtin_gen.go differs from what the generator makes from %s; run `go generate ./workloads` and review the diff", dir)
	}
	// The table mean tracks the sample mean: the fine upper tail keeps the
	// last segments from inflating it (0.6 % is the largest gap, on the
	// 425-point swebench-initial-prompt).
	for _, s := range shp {
		var sum float64
		for _, v := range s.Values {
			sum += v
		}
		sample := sum / float64(len(s.Values))
		d, _ := Builtin(s.Name)
		if got := d.Mean(); math.Abs(got-sample) > 0.01*sample {
			t.Errorf("%s: table mean = %v, want the sample mean %v ± 1 %%", s.Name, got, sample)
		}
	}
}
