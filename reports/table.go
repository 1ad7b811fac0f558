package reports

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/fleetsim/fleetsim/results"
)

// Table writes the side-by-side comparison: one column per strategy, one
// row per figure, grouped by workload, followed by the verdicts.
func Table(w io.Writer, r results.Result) error {
	fmt.Fprintf(w, "scenario %s, seed %d, window %s from %02.0f:00 UTC\n", r.Scenario, r.Seed, hours(r.Run.WindowS), r.Run.StartHourUTC)
	if len(r.Strategies) == 0 {
		return nil
	}
	head := []any{"metric"}
	for _, s := range r.Strategies {
		head = append(head, s.Name+" ("+s.Kind+")")
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: perColumn(len(head))}),
	)
	t.Header(head...)
	row := func(name string, f func(s *results.Strategy) string) {
		cells := []any{name}
		for i := range r.Strategies {
			cells = append(cells, f(&r.Strategies[i]))
		}
		t.Append(cells...)
	}
	row("GPUs", func(s *results.Strategy) string { return fmt.Sprint(s.GPUs) })
	row("cost $/hour", func(s *results.Strategy) string { return fmt.Sprintf("%.0f", s.CostPerHourUSD) })
	row("cost $/M tokens", func(s *results.Strategy) string { return fmt.Sprintf("%.3f", s.CostPerMillionTokensUSD) })
	row("GPU utilization", func(s *results.Strategy) string { return pct(s.Utilization) })
	row("GPU power kW / energy $/hour", func(s *results.Strategy) string {
		return fmt.Sprintf("%.1f / %.2f", s.MeanPowerKW, s.EnergyCostPerHourUSD)
	})
	row("prefix cache hits / preemptions", func(s *results.Strategy) string {
		return fmt.Sprintf("%s / %d", pct(s.PrefixHitRate), s.Preemptions)
	})
	row("egress GB / $/hour", func(s *results.Strategy) string {
		return fmt.Sprintf("%.1f / %.2f", s.EgressGB, s.EgressCostPerHourUSD)
	})
	row("total cost $/hour (GPU+energy+egress)", func(s *results.Strategy) string { return fmt.Sprintf("%.1f", s.TotalCostPerHourUSD) })
	if anyStrategy(r.Strategies, func(s *results.Strategy) bool { return s.CarbonKg > 0 }) {
		row("carbon kg CO2e", func(s *results.Strategy) string { return fmt.Sprintf("%.1f", s.CarbonKg) })
	}
	if anyStrategy(r.Strategies, func(s *results.Strategy) bool { return s.CostSavedPerHourUSD != 0 }) {
		row("autoscaling saved $/hour", func(s *results.Strategy) string { return fmt.Sprintf("%.1f", s.CostSavedPerHourUSD) })
	}
	row("SLOs met", func(s *results.Strategy) string { return fmt.Sprintf("%d/%d", s.SLOsMet, s.SLOs) })
	for wi, wl := range r.Strategies[0].Workloads {
		get := func(s *results.Strategy) *results.Workload { return &s.Workloads[wi] }
		p := wl.Name + " "
		if wl.Kind == "agent" {
			row(p+"task p50/p95/p99 s", func(s *results.Strategy) string { return triple(*get(s).TaskS, 1) })
			row(p+"task network/queue/compute/tool s", func(s *results.Strategy) string {
				b := get(s).TaskBreakdownS
				return fmt.Sprintf("%.1f / %.1f / %.1f / %.1f", b.Network, b.Queueing, b.Compute, b.Tool)
			})
			row(p+"call TTFT p50/p95/p99 ms", func(s *results.Strategy) string { return triple(get(s).TTFTMs, 0) })
			row(p+"sessions done/failed/dropped", func(s *results.Strategy) string {
				c := get(s).Sessions
				return fmt.Sprintf("%d / %d / %d", c.Completed, c.Failed, c.Dropped)
			})
		} else {
			row(p+"TTFT p50/p95/p99 ms", func(s *results.Strategy) string { return triple(get(s).TTFTMs, 0) })
			row(p+"TPOT p50/p95 ms", func(s *results.Strategy) string {
				x := get(s).TPOTMs
				return fmt.Sprintf("%.1f / %.1f", x.P50, x.P95)
			})
			row(p+"e2e p50/p95/p99 s", func(s *results.Strategy) string { return triple(scale(get(s).E2EMs, 1e-3), 1) })
			row(p+"requests done/failed/dropped", func(s *results.Strategy) string {
				c := get(s).Requests
				return fmt.Sprintf("%d / %d / %d", c.Completed, c.Failed+c.TimedOut, c.Dropped)
			})
		}
		row(p+"spilled", func(s *results.Strategy) string { return pct(ratio(get(s).Spilled, get(s).Requests.Arrived)) })
		if anyStrategy(r.Strategies, func(s *results.Strategy) bool { return s.Workloads[wi].ColdStartMisses > 0 }) {
			row(p+"SLO misses at cold sites", func(s *results.Strategy) string { return fmt.Sprint(get(s).ColdStartMisses) })
		}
		for si, slo := range wl.SLOs {
			name := fmt.Sprintf("%sSLO %s p%s <= %s", p, slo.Metric, trimFloat(slo.Percentile), duration(slo.MaxMs))
			row(name, func(s *results.Strategy) string {
				x := get(s).SLOs[si]
				mark := "miss"
				if x.Met {
					mark = "ok"
				}
				return fmt.Sprintf("%s %s", pct(x.Attainment), mark)
			})
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, v := range Verdicts(r) {
		fmt.Fprintln(w, v)
	}
	return faultTable(w, r)
}

// faultTable writes, when the scenario has faults, one block of rows per
// fault: how the work that started in its window fared in each strategy.
func faultTable(w io.Writer, r results.Result) error {
	if len(r.Strategies) == 0 || len(r.Strategies[0].Faults) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nduring each fault (work that started in its window):")
	head := []any{"fault / metric"}
	for _, s := range r.Strategies {
		head = append(head, s.Name)
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: perColumn(len(head))}),
	)
	t.Header(head...)
	for fi, f := range r.Strategies[0].Faults {
		get := func(s *results.Strategy) *results.Fault { return &s.Faults[fi] }
		row := func(name string, cell func(f *results.Fault) string) {
			cells := []any{name}
			for i := range r.Strategies {
				cells = append(cells, cell(get(&r.Strategies[i])))
			}
			t.Append(cells...)
		}
		p := fmt.Sprintf("%s (%s, %s-%s) ", f.Name, f.Kind, clock(f.StartS), clock(f.EndS))
		row(p+"replicas down / tokens lost", func(f *results.Fault) string {
			return fmt.Sprintf("%d / %d", f.ReplicasDown, f.LostTokens)
		})
		for wi, wl := range f.Workloads {
			q := p + wl.Name + " "
			row(q+"done/failed/timed out/retries", func(f *results.Fault) string {
				c := f.Workloads[wi].Requests
				return fmt.Sprintf("%d / %d / %d / %d", c.Completed, c.Failed, c.TimedOut, c.Retries)
			})
			if wl.TaskS != nil {
				row(q+"task p50/p95/p99 s", func(f *results.Fault) string { return triple(*f.Workloads[wi].TaskS, 1) })
				row(q+"sessions done/failed", func(f *results.Fault) string {
					c := f.Workloads[wi].Sessions
					return fmt.Sprintf("%d / %d", c.Completed, c.Failed)
				})
			} else {
				row(q+"TTFT p50/p95/p99 ms", func(f *results.Fault) string { return triple(f.Workloads[wi].TTFTMs, 0) })
				row(q+"e2e p50/p95/p99 s", func(f *results.Fault) string {
					return triple(scale(f.Workloads[wi].E2EMs, 1e-3), 1)
				})
			}
			for si, slo := range wl.SLOs {
				row(fmt.Sprintf("%sSLO %s p%s <= %s", q, slo.Metric, trimFloat(slo.Percentile), duration(slo.MaxMs)), func(f *results.Fault) string {
					x := f.Workloads[wi].SLOs[si]
					mark := "miss"
					if x.Met {
						mark = "ok"
					}
					return fmt.Sprintf("%s %s", pct(x.Attainment), mark)
				})
			}
		}
	}
	return t.Render()
}

// clock writes seconds from the window's start as h:mm.
func clock(s float64) string {
	m := int(s / 60)
	return fmt.Sprintf("%d:%02d", m/60, m%60)
}

// Verdicts are one-line comparisons of the strategies on the figures that
// decide placement: agent-task and chat-request p95, cost and SLOs.
func Verdicts(r results.Result) []string {
	if len(r.Strategies) < 2 {
		return nil
	}
	var out []string
	best := func(what string, f func(s *results.Strategy) (float64, bool), unit string, lowerBetter bool) {
		bi := -1
		var bv float64
		var all []string
		for i := range r.Strategies {
			v, ok := f(&r.Strategies[i])
			if !ok {
				continue
			}
			if math.IsInf(v, 1) {
				all = append(all, r.Strategies[i].Name+" unbounded (over 5% lost)")
				continue
			}
			all = append(all, fmt.Sprintf("%s %s%s", r.Strategies[i].Name, trimFloat(v), unit))
			if bi < 0 || (lowerBetter && v < bv) || (!lowerBetter && v > bv) {
				bi, bv = i, v
			}
		}
		if bi < 0 && len(all) > 0 {
			out = append(out, fmt.Sprintf("%-28s none (%s)", what+":", strings.Join(all, ", ")))
		}
		if bi >= 0 {
			out = append(out, fmt.Sprintf("%-28s %s (%s)", what+":", r.Strategies[bi].Name, strings.Join(all, ", ")))
		}
	}
	// A p95 over completed work says nothing if more than 5% never
	// completed: such a strategy's p95 over all arrivals is unbounded.
	lost := func(c *results.Counts) bool {
		return c != nil && c.Arrived > 0 && float64(c.Failed+c.TimedOut+c.Dropped) > 0.05*float64(c.Arrived)
	}
	for wi, wl := range r.Strategies[0].Workloads {
		if wl.Kind == "agent" {
			best("lowest "+wl.Name+" p95 task", func(s *results.Strategy) (float64, bool) {
				t := s.Workloads[wi].TaskS
				if lost(s.Workloads[wi].Sessions) {
					return math.Inf(1), true
				}
				return round3(t.P95), t != nil && t.Count > 0
			}, "s", true)
		} else {
			best("lowest "+wl.Name+" p95 e2e", func(s *results.Strategy) (float64, bool) {
				x := s.Workloads[wi].E2EMs
				if lost(&s.Workloads[wi].Requests) {
					return math.Inf(1), true
				}
				return round3(x.P95 / 1000), x.Count > 0
			}, "s", true)
		}
	}
	best("most SLOs met", func(s *results.Strategy) (float64, bool) { return float64(s.SLOsMet), true }, "", false)
	best("cheapest per token", func(s *results.Strategy) (float64, bool) {
		return round3(s.CostPerMillionTokensUSD), s.Tokens > 0
	}, " $/M", true)
	return out
}

func perColumn(n int) []tw.Align {
	a := make([]tw.Align, n)
	a[0] = tw.AlignLeft
	for i := 1; i < n; i++ {
		a[i] = tw.AlignRight
	}
	return a
}

func triple(s results.Summary, dec int) string {
	if s.Count == 0 {
		return "-"
	}
	f := "%." + fmt.Sprint(dec) + "f"
	return fmt.Sprintf(f+" / "+f+" / "+f, s.P50, s.P95, s.P99)
}

func scale(s results.Summary, k float64) results.Summary {
	s.Mean, s.P50, s.P95, s.P99, s.Max = s.Mean*k, s.P50*k, s.P95*k, s.P99*k, s.Max*k
	return s
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func trimFloat(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

func hours(s float64) string {
	if s >= 3600 {
		return trimFloat(s/3600) + "h"
	}
	return trimFloat(s/60) + "m"
}

func duration(ms float64) string {
	switch {
	case ms >= 60000:
		return trimFloat(ms/60000) + "m"
	case ms >= 1000:
		return trimFloat(ms/1000) + "s"
	}
	return trimFloat(ms) + "ms"
}

// anyStrategy says whether f holds for some strategy.
func anyStrategy(ss []results.Strategy, f func(*results.Strategy) bool) bool {
	for i := range ss {
		if f(&ss[i]) {
			return true
		}
	}
	return false
}
