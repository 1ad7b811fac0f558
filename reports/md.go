package reports

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/fleetsim/fleetsim/results"
)

// row is one line of a report table: a label and one cell per column.
type row struct {
	Label string
	Cells []string
}

// table is a titled report table.
type table struct {
	Title string
	Head  []string
	Rows  []row
	// Text says every column holds text (left-aligned); otherwise the
	// columns after the label hold figures (right-aligned).
	Text bool
}

// runTable lists the run's parameters.
func runTable(r results.Result) table {
	t := table{Head: []string{"parameter", "value"}, Text: true}
	add := func(k, v string) { t.Rows = append(t.Rows, row{k, []string{v}}) }
	add("scenario", r.Scenario)
	add("seed", fmt.Sprint(r.Seed))
	add("window", fmt.Sprintf("%s from %02.0f:00 UTC", hours(r.Run.WindowS), r.Run.StartHourUTC))
	add("warm-up", hours(r.Run.WarmupS))
	add("drain limit", hours(r.Run.DrainS))
	add("strategies", fmt.Sprint(len(r.Strategies)))
	add("result schema", r.SchemaVersion)
	return t
}

// strategyTable lists the strategies with their kind and description.
func strategyTable(r results.Result) table {
	t := table{Head: []string{"strategy", "kind", "description"}, Text: true}
	for _, s := range r.Strategies {
		t.Rows = append(t.Rows, row{s.Name, []string{s.Kind, s.Description}})
	}
	return t
}

// comparisonTable is the side-by-side comparison, with the rows and the
// wording of the terminal table (Table).
func comparisonTable(r results.Result) table {
	t := table{Head: []string{"metric"}}
	for _, s := range r.Strategies {
		t.Head = append(t.Head, s.Name+" ("+s.Kind+")")
	}
	if len(r.Strategies) == 0 {
		return t
	}
	add := func(name string, f func(s *results.Strategy) string) {
		x := row{Label: name}
		for i := range r.Strategies {
			x.Cells = append(x.Cells, f(&r.Strategies[i]))
		}
		t.Rows = append(t.Rows, x)
	}
	add("GPUs", func(s *results.Strategy) string { return fmt.Sprint(s.GPUs) })
	add("cost $/hour", func(s *results.Strategy) string { return fmt.Sprintf("%.0f", s.CostPerHourUSD) })
	add("cost $/M tokens", func(s *results.Strategy) string { return fmt.Sprintf("%.3f", s.CostPerMillionTokensUSD) })
	add("GPU utilization", func(s *results.Strategy) string { return pct(s.Utilization) })
	add("GPU power kW / energy $/hour", func(s *results.Strategy) string {
		return fmt.Sprintf("%.1f / %.2f", s.MeanPowerKW, s.EnergyCostPerHourUSD)
	})
	add("prefix cache hits / preemptions", func(s *results.Strategy) string {
		return fmt.Sprintf("%s / %d", pct(s.PrefixHitRate), s.Preemptions)
	})
	add("egress GB / $/hour", func(s *results.Strategy) string {
		return fmt.Sprintf("%.1f / %.2f", s.EgressGB, s.EgressCostPerHourUSD)
	})
	add("total cost $/hour (GPU+energy+egress)", func(s *results.Strategy) string { return fmt.Sprintf("%.1f", s.TotalCostPerHourUSD) })
	if anyStrategy(r.Strategies, func(s *results.Strategy) bool { return s.CarbonKg > 0 }) {
		add("carbon kg CO2e", func(s *results.Strategy) string { return fmt.Sprintf("%.1f", s.CarbonKg) })
	}
	if anyStrategy(r.Strategies, func(s *results.Strategy) bool { return s.CostSavedPerHourUSD != 0 }) {
		add("autoscaling saved $/hour", func(s *results.Strategy) string { return fmt.Sprintf("%.1f", s.CostSavedPerHourUSD) })
	}
	add("SLOs met", func(s *results.Strategy) string { return fmt.Sprintf("%d/%d", s.SLOsMet, s.SLOs) })
	for wi, wl := range r.Strategies[0].Workloads {
		// get returns an empty workload where a strategy lacks this one
		// (results of one scenario always have them all).
		get := func(s *results.Strategy) *results.Workload {
			if wi < len(s.Workloads) {
				return &s.Workloads[wi]
			}
			return &results.Workload{}
		}
		p := wl.Name + " "
		if wl.Kind == "agent" {
			add(p+"task p50/p95/p99 s", func(s *results.Strategy) string {
				if get(s).TaskS == nil {
					return "-"
				}
				return triple(*get(s).TaskS, 1)
			})
			add(p+"task network/queue/compute/tool s", func(s *results.Strategy) string {
				b := get(s).TaskBreakdownS
				if b == nil {
					return "-"
				}
				return fmt.Sprintf("%.1f / %.1f / %.1f / %.1f", b.Network, b.Queueing, b.Compute, b.Tool)
			})
			add(p+"call TTFT p50/p95/p99 ms", func(s *results.Strategy) string { return triple(get(s).TTFTMs, 0) })
			add(p+"sessions done/failed/dropped", func(s *results.Strategy) string {
				c := get(s).Sessions
				if c == nil {
					return "-"
				}
				return fmt.Sprintf("%d / %d / %d", c.Completed, c.Failed, c.Dropped)
			})
		} else {
			add(p+"TTFT p50/p95/p99 ms", func(s *results.Strategy) string { return triple(get(s).TTFTMs, 0) })
			add(p+"TPOT p50/p95 ms", func(s *results.Strategy) string {
				x := get(s).TPOTMs
				return fmt.Sprintf("%.1f / %.1f", x.P50, x.P95)
			})
			add(p+"e2e p50/p95/p99 s", func(s *results.Strategy) string { return triple(scale(get(s).E2EMs, 1e-3), 1) })
			add(p+"requests done/failed/dropped", func(s *results.Strategy) string {
				c := get(s).Requests
				return fmt.Sprintf("%d / %d / %d", c.Completed, c.Failed+c.TimedOut, c.Dropped)
			})
		}
		add(p+"spilled", func(s *results.Strategy) string { return pct(ratio(get(s).Spilled, get(s).Requests.Arrived)) })
		if anyStrategy(r.Strategies, func(s *results.Strategy) bool { return get(s).ColdStartMisses > 0 }) {
			add(p+"SLO misses at cold sites", func(s *results.Strategy) string { return fmt.Sprint(get(s).ColdStartMisses) })
		}
		for si, slo := range wl.SLOs {
			add(sloLabel(p, slo), func(s *results.Strategy) string {
				if si >= len(get(s).SLOs) {
					return "-"
				}
				return sloCell(get(s).SLOs[si])
			})
		}
	}
	return t
}

func sloLabel(prefix string, slo results.SLO) string {
	return fmt.Sprintf("%sSLO %s p%s <= %s", prefix, slo.Metric, trimFloat(slo.Percentile), duration(slo.MaxMs))
}

func sloCell(x results.SLO) string {
	mark := "miss"
	if x.Met {
		mark = "ok"
	}
	return fmt.Sprintf("%s %s", pct(x.Attainment), mark)
}

// faultTables are, when the scenario has faults, one table per fault: how
// the work that started in its window fared in each strategy (the rows of
// the terminal table's fault block).
func faultTables(r results.Result) []table {
	if len(r.Strategies) == 0 {
		return nil
	}
	var out []table
	for fi, f := range r.Strategies[0].Faults {
		t := table{
			Title: fmt.Sprintf("%s (%s, %s-%s)", f.Name, f.Kind, clock(f.StartS), clock(f.EndS)),
			Head:  []string{"metric"},
		}
		for _, s := range r.Strategies {
			t.Head = append(t.Head, s.Name)
		}
		add := func(name string, cell func(f *results.Fault) string) {
			x := row{Label: name}
			for i := range r.Strategies {
				s := &r.Strategies[i]
				if fi >= len(s.Faults) {
					x.Cells = append(x.Cells, "-")
					continue
				}
				x.Cells = append(x.Cells, cell(&s.Faults[fi]))
			}
			t.Rows = append(t.Rows, x)
		}
		add("replicas down / tokens lost", func(f *results.Fault) string {
			return fmt.Sprintf("%d / %d", f.ReplicasDown, f.LostTokens)
		})
		for wi, wl := range f.Workloads {
			get := func(f *results.Fault) *results.FaultWorkload {
				if wi < len(f.Workloads) {
					return &f.Workloads[wi]
				}
				return &results.FaultWorkload{}
			}
			q := wl.Name + " "
			add(q+"done/failed/timed out/retries", func(f *results.Fault) string {
				c := get(f).Requests
				return fmt.Sprintf("%d / %d / %d / %d", c.Completed, c.Failed, c.TimedOut, c.Retries)
			})
			if wl.TaskS != nil {
				add(q+"task p50/p95/p99 s", func(f *results.Fault) string {
					if get(f).TaskS == nil {
						return "-"
					}
					return triple(*get(f).TaskS, 1)
				})
				add(q+"sessions done/failed", func(f *results.Fault) string {
					c := get(f).Sessions
					if c == nil {
						return "-"
					}
					return fmt.Sprintf("%d / %d", c.Completed, c.Failed)
				})
			} else {
				add(q+"TTFT p50/p95/p99 ms", func(f *results.Fault) string { return triple(get(f).TTFTMs, 0) })
				add(q+"e2e p50/p95/p99 s", func(f *results.Fault) string { return triple(scale(get(f).E2EMs, 1e-3), 1) })
			}
			for si, slo := range wl.SLOs {
				add(sloLabel(q, slo), func(f *results.Fault) string {
					if si >= len(get(f).SLOs) {
						return "-"
					}
					return sloCell(get(f).SLOs[si])
				})
			}
		}
		out = append(out, t)
	}
	return out
}

// Markdown writes a report for pull requests: title, run parameters, the
// strategies, the side-by-side comparison, the verdicts, one table per
// fault, and, when plotDir is not empty, a link to each figure of Plots as
// plotDir/NAME.svg (the caller writes the files; WriteMarkdownReport does
// both). User-provided names are escaped so that they cannot break a
// table or inject HTML.
func Markdown(w io.Writer, r results.Result, plotDir string) error {
	bw := &errWriter{w: w}
	bw.printf("# fleetsim report: %s\n\n", mdText(r.Scenario))
	if r.Description != "" {
		bw.printf("%s\n\n", mdText(r.Description))
	}
	bw.printf("## Run\n\n")
	mdTable(bw, runTable(r))
	if len(r.Strategies) > 0 {
		bw.printf("\n## Strategies\n\n")
		mdTable(bw, strategyTable(r))
		bw.printf("\n## Comparison\n\n")
		mdTable(bw, comparisonTable(r))
	}
	if v := Verdicts(r); len(v) > 0 {
		bw.printf("\n## Verdicts\n\n")
		fence := codeFence(v)
		bw.printf("%s\n%s\n%s\n", fence, strings.Join(v, "\n"), fence)
	}
	if fts := faultTables(r); len(fts) > 0 {
		bw.printf("\n## Faults\n\nWork that started in each fault's window, per strategy.\n")
		for _, t := range fts {
			bw.printf("\n### %s\n\n", mdText(t.Title))
			mdTable(bw, t)
		}
	}
	if plotDir != "" {
		figs := figures(r)
		if len(figs) > 0 {
			bw.printf("\n## Plots\n\n")
		}
		for _, f := range figs {
			link := path.Join(plotDir, f.name+".svg")
			bw.printf("### %s\n\n![%s](%s)\n\n", mdText(f.title), mdAlt(f.title), link)
		}
	}
	return bw.err
}

// mdTable writes t as a GitHub-flavoured Markdown table, the label column
// left-aligned and the others right-aligned.
func mdTable(w *errWriter, t table) {
	cells := make([]string, len(t.Head))
	for i, h := range t.Head {
		cells[i] = mdText(h)
	}
	w.printf("| %s |\n", strings.Join(cells, " | "))
	for i := range cells {
		cells[i] = "---:"
	}
	cells[0] = ":---"
	if t.Text {
		for i := range cells {
			cells[i] = ":---"
		}
	}
	w.printf("|%s|\n", strings.Join(cells, "|"))
	for _, x := range t.Rows {
		out := []string{mdText(x.Label)}
		for _, c := range x.Cells {
			out = append(out, mdText(c))
		}
		w.printf("| %s |\n", strings.Join(out, " | "))
	}
}

// mdText makes s safe inside a Markdown table cell or heading: pipes are
// escaped, line breaks become spaces, and '<' or '&' that could start an
// HTML tag or entity (CommonMark: '<' before a letter, '/', '!' or '?';
// '&' before a letter or '#') become entities. "<=" stays as it is.
func mdText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		var next byte
		if i+1 < len(s) {
			next = s[i+1]
		}
		letter := (next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z')
		switch {
		case c == '|':
			b.WriteString(`\|`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n' || c == '\r':
			b.WriteByte(' ')
		case c == '<' && (letter || next == '/' || next == '!' || next == '?'):
			b.WriteString("&lt;")
		case c == '&' && (letter || next == '#'):
			b.WriteString("&amp;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// mdAlt makes s safe as image alt text.
func mdAlt(s string) string {
	return strings.NewReplacer("[", "(", "]", ")").Replace(mdText(s))
}

// codeFence returns a backtick fence longer than any run of backticks in lines.
func codeFence(lines []string) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for _, c := range l {
			if c == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}

// WriteMarkdownReport writes dir/report.md with its figures as
// dir/plots/NAME.svg, each file atomically (WriteFile); dir and dir/plots
// are created. It returns the paths written, the report first.
func WriteMarkdownReport(dir string, r results.Result) ([]string, error) {
	plots, err := Plots(r)
	if err != nil {
		return nil, err
	}
	var written []string
	if len(plots) > 0 {
		if err := os.MkdirAll(filepath.Join(dir, "plots"), 0o755); err != nil {
			return nil, fmt.Errorf("write report: %w", err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	md := filepath.Join(dir, "report.md")
	if err := WriteFile(md, func(w io.Writer) error { return Markdown(w, r, "plots") }); err != nil {
		return nil, err
	}
	written = append(written, md)
	for _, p := range plots {
		file := filepath.Join(dir, "plots", p.Name+".svg")
		if err := WriteFile(file, func(w io.Writer) error { _, err := w.Write(p.SVG); return err }); err != nil {
			return written, err
		}
		written = append(written, file)
	}
	return written, nil
}
