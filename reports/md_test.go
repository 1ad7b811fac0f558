package reports

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/results"
	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/world"
)

// update rewrites the golden files: go test ./reports -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixtures are results written by `fleetsim run NAME --output json` (seed 1);
// they are frozen so that the report goldens change only when the reports do.
var fixtures = []string{"two-regions", "regional-outage"}

func loadFixture(t *testing.T, name string) results.Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".result.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r results.Result
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

// golden compares got with testdata/file, or rewrites it under -update.
func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: output differs from the golden file (%d bytes, want %d); review with -update and git diff", file, len(got), len(want))
	}
}

func TestMarkdownGolden(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Markdown(&buf, loadFixture(t, name), "plots"); err != nil {
				t.Fatal(err)
			}
			golden(t, name+".report.md", buf.Bytes())
		})
	}
}

// simulate runs a built-in scenario as `fleetsim run` does.
func simulate(t *testing.T, name string) results.Result {
	t.Helper()
	s, err := scenarios.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	w, err := world.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := fleet.Run(w, 0, fleet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mdTables parses the Markdown tables under each "## " heading: heading ->
// rows of cells (header row first, the alignment row dropped).
func mdTables(t *testing.T, md string) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	section := ""
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "## ") {
			section = strings.TrimPrefix(line, "## ")
			continue
		}
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|:") || strings.HasPrefix(line, "|-") {
			continue
		}
		out[section] = append(out[section], splitRow(line))
	}
	return out
}

// splitRow splits a table line on the pipes that are not escaped.
func splitRow(line string) []string {
	var cells []string
	var cur strings.Builder
	for i := 1; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return cells
}

var numberRE = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?`)

// TestMarkdownNumbersTraceToJSON renders the Markdown report of a small
// simulated scenario and checks that every number in its run and
// comparison tables is the JSON field it stands for, converted to the unit
// the row names and rounded to the shown decimals. The expectations come
// from the row labels (units) and the JSON fields, not from the renderer:
// a row the test does not know fails it.
func TestMarkdownNumbersTraceToJSON(t *testing.T) {
	for _, name := range []string{"minimal", "two-regions"} {
		t.Run(name, func(t *testing.T) {
			r := simulate(t, name)
			var buf bytes.Buffer
			if err := Markdown(&buf, r, ""); err != nil {
				t.Fatal(err)
			}
			// Round-trip through JSON: the report must match what
			// `fleetsim run --output json` would have written.
			var jb bytes.Buffer
			if err := JSON(&jb, r); err != nil {
				t.Fatal(err)
			}
			var j results.Result
			if err := json.Unmarshal(jb.Bytes(), &j); err != nil {
				t.Fatal(err)
			}
			tables := mdTables(t, buf.String())
			checkRunTable(t, tables["Run"], j)
			checkComparison(t, tables["Comparison"], j)
		})
	}
}

func f(v float64, dec int) string { return strconv.FormatFloat(v, 'f', dec, 64) }

func checkRunTable(t *testing.T, rows [][]string, j results.Result) {
	t.Helper()
	want := map[string][]string{
		"seed":       {strconv.FormatUint(j.Seed, 10)},
		"strategies": {strconv.Itoa(len(j.Strategies))},
		// window: hours when at least one, else minutes; then the start hour.
		"window":        {windowNumber(j.Run.WindowS), f(j.Run.StartHourUTC, 0), "00"},
		"warm-up":       {windowNumber(j.Run.WarmupS)},
		"drain limit":   {windowNumber(j.Run.DrainS)},
		"scenario":      numberRE.FindAllString(j.Scenario, -1),
		"result schema": numberRE.FindAllString(j.SchemaVersion, -1),
	}
	if len(rows) < 2 {
		t.Fatalf("run table has %d rows", len(rows))
	}
	for _, row := range rows[1:] {
		w, ok := want[row[0]]
		if !ok {
			t.Errorf("run table row %q: not traced to the JSON", row[0])
			continue
		}
		if got := numberRE.FindAllString(row[1], -1); strings.Join(got, ",") != strings.Join(w, ",") {
			t.Errorf("run table %s: got numbers %v, want %v", row[0], got, w)
		}
	}
}

func windowNumber(s float64) string {
	if s >= 3600 {
		return strconv.FormatFloat(s/3600, 'f', -1, 64)
	}
	return strconv.FormatFloat(s/60, 'f', -1, 64)
}

func checkComparison(t *testing.T, rows [][]string, j results.Result) {
	t.Helper()
	if len(rows) < 2 {
		t.Fatalf("comparison table has %d rows", len(rows))
	}
	if got, want := len(rows[0]), len(j.Strategies)+1; got != want {
		t.Fatalf("comparison header has %d columns, want %d", got, want)
	}
	for _, row := range rows[1:] {
		label := row[0]
		for si := range j.Strategies {
			s := &j.Strategies[si]
			want, ok := expectedNumbers(label, s)
			if !ok {
				t.Errorf("comparison row %q: not traced to the JSON", label)
				break
			}
			if got := numberRE.FindAllString(row[si+1], -1); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s / %s: got numbers %v, want %v (from the JSON)", s.Name, label, got, want)
			}
		}
	}
}

var sloLabelRE = regexp.MustCompile(`^SLO (\w+) p([0-9.]+) <= ([0-9.]+)(ms|s|m)$`)

// expectedNumbers is what a comparison row should show for s, from the JSON.
func expectedNumbers(label string, s *results.Strategy) ([]string, bool) {
	pct := func(v float64) string { return f(100*v, 1) }
	switch label {
	case "GPUs":
		return []string{strconv.Itoa(s.GPUs)}, true
	case "cost $/hour":
		return []string{f(s.CostPerHourUSD, 0)}, true
	case "cost $/M tokens":
		return []string{f(s.CostPerMillionTokensUSD, 3)}, true
	case "GPU utilization":
		return []string{pct(s.Utilization)}, true
	case "GPU power kW / energy $/hour":
		return []string{f(s.MeanPowerKW, 1), f(s.EnergyCostPerHourUSD, 2)}, true
	case "prefix cache hits / preemptions":
		return []string{pct(s.PrefixHitRate), strconv.FormatInt(s.Preemptions, 10)}, true
	case "egress GB / $/hour":
		return []string{f(s.EgressGB, 1), f(s.EgressCostPerHourUSD, 2)}, true
	case "total cost $/hour (GPU+energy+egress)":
		return []string{f(s.TotalCostPerHourUSD, 1)}, true
	case "carbon kg CO2e":
		return []string{f(s.CarbonKg, 1)}, true
	case "autoscaling saved $/hour":
		return []string{f(s.CostSavedPerHourUSD, 1)}, true
	case "SLOs met":
		return []string{strconv.Itoa(s.SLOsMet), strconv.Itoa(s.SLOs)}, true
	}
	for wi := range s.Workloads {
		w := &s.Workloads[wi]
		rest, ok := strings.CutPrefix(label, w.Name+" ")
		if !ok {
			continue
		}
		p3 := func(x results.Summary, k float64, dec int) []string {
			return []string{f(x.P50*k, dec), f(x.P95*k, dec), f(x.P99*k, dec)}
		}
		switch rest {
		case "TTFT p50/p95/p99 ms", "call TTFT p50/p95/p99 ms":
			return p3(w.TTFTMs, 1, 0), true
		case "TPOT p50/p95 ms":
			return []string{f(w.TPOTMs.P50, 1), f(w.TPOTMs.P95, 1)}, true
		case "e2e p50/p95/p99 s":
			return p3(w.E2EMs, 1e-3, 1), true
		case "task p50/p95/p99 s":
			return p3(*w.TaskS, 1, 1), true
		case "task network/queue/compute/tool s":
			b := w.TaskBreakdownS
			return []string{f(b.Network, 1), f(b.Queueing, 1), f(b.Compute, 1), f(b.Tool, 1)}, true
		case "requests done/failed/dropped":
			c := w.Requests
			return []string{strconv.FormatInt(c.Completed, 10), strconv.FormatInt(c.Failed+c.TimedOut, 10), strconv.FormatInt(c.Dropped, 10)}, true
		case "sessions done/failed/dropped":
			c := w.Sessions
			return []string{strconv.FormatInt(c.Completed, 10), strconv.FormatInt(c.Failed, 10), strconv.FormatInt(c.Dropped, 10)}, true
		case "spilled":
			v := 0.0
			if w.Requests.Arrived > 0 {
				v = float64(w.Spilled) / float64(w.Requests.Arrived)
			}
			return []string{pct(v)}, true
		case "SLO misses at cold sites":
			return []string{strconv.FormatInt(w.ColdStartMisses, 10)}, true
		}
		// An SLO row: the label's percentile and threshold must be the
		// SLO's, and the cell its attainment.
		m := sloLabelRE.FindStringSubmatch(rest)
		if m == nil {
			return nil, false
		}
		for _, slo := range w.SLOs {
			p, _ := strconv.ParseFloat(m[2], 64)
			v, _ := strconv.ParseFloat(m[3], 64)
			v *= map[string]float64{"ms": 1, "s": 1000, "m": 60000}[m[4]]
			if slo.Metric == m[1] && p == slo.Percentile && math.Abs(v-slo.MaxMs) < 1e-9*slo.MaxMs+1e-9 {
				return []string{pct(slo.Attainment)}, true
			}
		}
		return nil, false
	}
	return nil, false
}

func TestMDTextEscapes(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain-name", "plain-name"},
		{"a|b", `a\|b`},
		{"<script>x</script>", "&lt;script>x&lt;/script>"},
		{"p95 <= 500ms", "p95 <= 500ms"},
		{"a < b", "a < b"},
		{"&amp; & x", "&amp;amp; & x"},
		{"line\nbreak", "line break"},
		{`back\slash`, `back\\slash`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := mdText(tt.in); got != tt.want {
				t.Errorf("mdText(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestMarkdownHostileNames: names with markup and pipes neither inject
// HTML nor add table columns.
func TestMarkdownHostileNames(t *testing.T) {
	r := loadFixture(t, "two-regions")
	r.Scenario = "<img src=x onerror=alert(1)>"
	r.Strategies[0].Name = `<script>alert("x")</script>|extra`
	var buf bytes.Buffer
	if err := Markdown(&buf, r, "plots"); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	// Code blocks (the verdicts) show their text literally: drop them.
	md = regexp.MustCompile("(?s)\n```+\n.*?\n```+\n").ReplaceAllString(md, "\n")
	for _, bad := range []string{"<script", "<img"} {
		if strings.Contains(md, bad) {
			t.Errorf("markdown contains %q unescaped", bad)
		}
	}
	tables := mdTables(t, md)
	for _, row := range tables["Comparison"] {
		if got, want := len(row), len(r.Strategies)+1; got != want {
			t.Fatalf("comparison row %q: got %d cells, want %d", row[0], got, want)
		}
	}
}

// TestWriteMarkdownReport: report.md links exactly the plot files written
// beside it.
func TestWriteMarkdownReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	r := loadFixture(t, "regional-outage")
	written, err := WriteMarkdownReport(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`\]\((plots/[a-z0-9-]+\.svg)\)`).FindAllStringSubmatch(string(md), -1)
	files, _ := filepath.Glob(filepath.Join(dir, "plots", "*.svg"))
	if got, want := len(links), len(files); got != want || got == 0 {
		t.Fatalf("got %d links, want one per plot file (%d)", got, want)
	}
	for _, l := range links {
		if _, err := os.Stat(filepath.Join(dir, l[1])); err != nil {
			t.Errorf("link %s: %v", l[1], err)
		}
	}
	if got, want := len(written), len(files)+1; got != want {
		t.Errorf("got %d paths written, want %d", got, want)
	}
}

func readTestdata(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatalf("%v (run go test ./reports -run Golden -update)", err)
	}
	return b
}
