package reports

import (
	"bytes"
	"fmt"
	"gonum.org/v1/plot/cmpimg"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
)

// goldenPlots are one figure of each kind, from the regional-outage
// fixture (it has chat and agent workloads, three strategies and hourly
// site figures).
var goldenPlots = []string{
	"cdf-2-coding-agent-task",
	"breakdown-2-coding-agent",
	"cost-1-chat",
	"sites-2-regional",
	"map-3-edge",
}

func TestPlotsGolden(t *testing.T) {
	plots, err := Plots(loadFixture(t, "regional-outage"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]byte{}
	for _, p := range plots {
		byName[p.Name] = p.SVG
	}
	for _, name := range goldenPlots {
		t.Run(name, func(t *testing.T) {
			got, ok := byName[name]
			if !ok {
				t.Fatalf("no plot %s", name)
			}
			file := "plot-" + name + ".svg"
			if *update {
				golden(t, file, got)
				return
			}
			want := readTestdata(t, file)
			if !equalSVG(got, want) {
				t.Errorf("%s differs from testdata/%s; review with -update and git diff", name, file)
			}
		})
	}
}

// TestPlotsSet: the figures a result has data for, by kind. regional-outage
// has 2 workloads (chat, coding-agent) and 3 strategies: 2 CDFs per
// workload, 1 breakdown (one agent workload), 1 cost plot per workload,
// and per strategy 1 site plot and 1 map: 4+1+2+3+3 = 13.
// two-regions has 1 chat workload and 3 strategies: 2+0+1+3+3 = 9.
func TestPlotsSet(t *testing.T) {
	tests := []struct {
		fixture string
		want    map[string]int
	}{
		{"regional-outage", map[string]int{"cdf": 4, "breakdown": 1, "cost": 2, "sites": 3, "map": 3}},
		{"two-regions", map[string]int{"cdf": 2, "breakdown": 0, "cost": 1, "sites": 3, "map": 3}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			plots, err := Plots(loadFixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			seen := map[string]bool{}
			for _, p := range plots {
				kind, _, _ := strings.Cut(p.Name, "-")
				got[kind]++
				if seen[p.Name] {
					t.Errorf("plot name %s twice", p.Name)
				}
				seen[p.Name] = true
				if !bytes.HasPrefix(p.SVG, []byte("<?xml")) || !bytes.Contains(p.SVG, []byte("</svg>")) {
					t.Errorf("%s: not a complete SVG document", p.Name)
				}
			}
			for _, k := range []string{"cdf", "breakdown", "cost", "sites", "map"} {
				if got[k] != tt.want[k] {
					t.Errorf("%s plots: got %d, want %d", k, got[k], tt.want[k])
				}
			}
		})
	}
}

// TestPlotsDeterministic: the same result gives the same SVG bytes,
// whatever GOMAXPROCS.
func TestPlotsDeterministic(t *testing.T) {
	r := loadFixture(t, "regional-outage")
	var first []Plot
	for _, procs := range []int{1, 4} {
		prev := runtime.GOMAXPROCS(procs)
		plots, err := Plots(r)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = plots
			continue
		}
		if len(plots) != len(first) {
			t.Fatalf("GOMAXPROCS=%d: got %d plots, want %d", procs, len(plots), len(first))
		}
		for i := range plots {
			if !bytes.Equal(plots[i].SVG, first[i].SVG) {
				t.Errorf("GOMAXPROCS=%d: %s differs between runs", procs, plots[i].Name)
			}
		}
	}
}

// TestPlotsEscapeNames: names with markup appear escaped in the SVG text.
func TestPlotsEscapeNames(t *testing.T) {
	r := loadFixture(t, "two-regions")
	r.Strategies[0].Name = `<script>alert(1)</script>`
	plots, err := Plots(r)
	if err != nil {
		t.Fatal(err)
	}
	escaped := false
	for _, p := range plots {
		if bytes.Contains(p.SVG, []byte("<script")) {
			t.Errorf("%s: contains an unescaped <script", p.Name)
		}
		escaped = escaped || bytes.Contains(p.SVG, []byte("&lt;script&gt;"))
	}
	if !escaped {
		t.Error("the strategy name appears escaped in no plot; want it in legends and labels")
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"coding-agent", "coding-agent"},
		{"Chat EU/US", "chat-eu-us"},
		{"<script>", "script"},
		{"../../etc", "etc"},
		{"日本", "x"},
		{strings.Repeat("a", 60), strings.Repeat("a", 40)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := slug(tt.in); got != tt.want {
				t.Errorf("slug(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// equalSVG compares two SVG images with gonum.org/v1/plot/cmpimg.
func equalSVG(a, b []byte) bool {
	ok, err := cmpimg.Equal("svg", a, b)
	return err == nil && ok
}

// TestParetoFrontier: hand-made points; a point is on the frontier when no
// other is cheaper and faster at once.
func TestParetoFrontier(t *testing.T) {
	tests := []struct {
		name string
		xys  plotter.XYs
		want []int
	}{
		{"one", plotter.XYs{{X: 1, Y: 1}}, []int{0}},
		// 0 is beaten by 1 (cheaper and faster); 2 is slower but cheapest.
		{"dominated", plotter.XYs{{X: 5, Y: 5}, {X: 4, Y: 3}, {X: 1, Y: 9}}, []int{2, 1}},
		// Same cost: only the faster counts; equal points count once.
		{"ties", plotter.XYs{{X: 2, Y: 4}, {X: 2, Y: 3}, {X: 2, Y: 3}, {X: 6, Y: 1}}, []int{1, 3}},
		{"all on it", plotter.XYs{{X: 3, Y: 1}, {X: 2, Y: 2}, {X: 1, Y: 3}}, []int{2, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := paretoFrontier(tt.xys)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
