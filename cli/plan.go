package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/planner"
	"github.com/fleetsim/fleetsim/reports"
	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/world"
)

type planFlags struct {
	headroom     float64
	out          string
	maxEvals     int
	replications int
	seed         uint64
	quiet        bool
}

func newPlanCommand(streams Streams) *cobra.Command {
	f := &planFlags{}
	cmd := &cobra.Command{
		Use:   "plan [SCENARIO]",
		Short: "Find the cheapest replicas per site that meet every SLO, per strategy",
		Long: `For each strategy of SCENARIO (default ` + DefaultScenario + `), find the cheapest
replicas per site (within each site's GPUs) that meet every workload's SLOs.

An analytic stage sizes each site for its peak hour: load goes to the nearest
eligible site, one replica sustains what the serving model's steady state gives
within the tightest TPOT objective, planned at 70% of that plus --headroom. A
simulation stage then checks the proposal over the scenario's window and repairs
it: it adds replicas where queues are longest until every SLO is met, then removes
them one at a time while every SLO stays met. The final plan is simulated with
--replications independent seeds for a confidence interval.

Exit status 3 when a strategy cannot meet its SLOs within the sites' GPUs (the
reason says which constraint and by how much); no plan file is written then.
--out writes the plan (kind: Plan), which ` + "`fleetsim run --plan`" + ` reads.`,
		Args: argsRange(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := DefaultScenario
			if len(args) == 1 {
				name = args[0]
			}
			return planScenario(name, f, streams)
		},
	}
	cmd.Flags().Float64Var(&f.headroom, "headroom", 0, "spare capacity on top of the peak, as a fraction (0.2 = 20%)")
	cmd.Flags().StringVarP(&f.out, "out", "o", "", "write the plan file (YAML, kind: Plan) here, atomically")
	cmd.Flags().IntVar(&f.maxEvals, "max-evals", 16, "simulations per strategy in the repair stage")
	cmd.Flags().IntVar(&f.replications, "replications", 3, "independent seeds the final plan is simulated with")
	cmd.Flags().Uint64Var(&f.seed, "seed", 1, "first seed of the planning simulations")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print nothing on stderr")
	return cmd
}

type strategyPlan struct {
	prob *planner.Problem
	res  planner.Result
	err  error
}

func planScenario(name string, f *planFlags, streams Streams) error {
	if f.headroom < 0 || f.headroom > 10 || math.IsNaN(f.headroom) {
		return usageError{err: fmt.Errorf("--headroom must be in [0, 10], got %v", f.headroom), use: "fleetsim plan [SCENARIO]"}
	}
	s, err := scenarios.Open(name)
	if err != nil {
		return invalid(err)
	}
	w, err := world.Build(s)
	if err != nil {
		return invalid(err)
	}
	start := time.Now()
	plans := make([]strategyPlan, len(w.Strategies))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for si := range w.Strategies {
		wg.Add(1)
		go func(si int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p, err := planner.Pose(w, si, f.headroom)
			sp := strategyPlan{prob: p, err: err}
			if err == nil {
				sp.res, sp.err = planner.Search(p.Slots, p.Proposal, planner.SimEvaluator{P: p},
					planner.Options{MaxEvals: f.maxEvals, Replications: f.replications, Seed: f.seed})
			}
			plans[si] = sp
		}(si)
	}
	wg.Wait()
	if !f.quiet {
		evals := 0
		for _, p := range plans {
			evals += p.res.Evals
		}
		fmt.Fprintf(streams.Err, "planned %d strategies of %s in %.1fs (%d simulations)\n", len(plans), w.Name, time.Since(start).Seconds(), evals)
	}
	writePlanTable(streams.Out, w.Name, plans)
	var bad []string
	for si, p := range plans {
		if p.err != nil {
			bad = append(bad, fmt.Sprintf("strategy %s: %v", w.Strategies[si].Name, p.err))
		}
	}
	if len(bad) > 0 {
		var infeasible bool
		for _, p := range plans {
			infeasible = infeasible || errors.Is(p.err, planner.ErrInfeasible)
		}
		err := errors.New(strings.Join(bad, "\n"))
		if infeasible {
			return infeasibleError{err}
		}
		return err
	}
	if f.out != "" {
		pf := planner.PlanFile{APIVersion: scenarios.APIVersion, Kind: planner.PlanKind,
			Metadata: planner.PlanMetadata{Name: w.Name + "-plan", Scenario: name, Headroom: f.headroom}}
		for _, p := range plans {
			pf.Strategies = append(pf.Strategies, planner.Planned(p.prob, p.res))
		}
		data, err := pf.Marshal()
		if err != nil {
			return err
		}
		return reports.WriteFile(f.out, func(out io.Writer) error { _, err := out.Write(data); return err })
	}
	return nil
}

// writePlanTable prints each strategy's plan, the cost-versus-latency
// frontier and a recommendation.
func writePlanTable(out io.Writer, scenario string, plans []strategyPlan) {
	fmt.Fprintf(out, "plan for %s: cheapest replicas per site meeting every SLO\n", scenario)
	t := tablewriter.NewTable(out, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("strategy", "replicas per site", "GPUs", "$/hour", "$/month", "tightest SLO (attainment ± 95% CI)", "binding")
	type point struct {
		name string
		cost float64
		lat  float64 // worst SLO value / objective
	}
	var pts []point
	for _, p := range plans {
		name := p.prob.World.Strategies[p.prob.Strategy].Name
		if p.err != nil {
			_ = t.Append(name, "-", "-", "-", "-", "infeasible", firstLine(p.err))
			continue
		}
		var sites []string
		gpus := 0
		for i, sl := range p.prob.Slots {
			n := p.res.Allocation[i]
			gpus += n * sl.TP
			if n > 0 {
				sites = append(sites, fmt.Sprintf("%s %d×%dx%s", sl.Site, n, sl.TP, sl.GPU))
			}
		}
		tight, worst := "", 0.0
		margin := math.Inf(1)
		for _, s := range p.res.SLOs {
			if m := s.Attainment - s.Percentile/100; m < margin {
				margin = m
				tight = fmt.Sprintf("%s %s p%g: %.2f%% ± %.2f", s.Workload, s.Metric, s.Percentile, 100*s.Attainment, 100*s.HalfWidth)
			}
			if s.MaxMs > 0 && !math.IsInf(s.ValueMs, 0) {
				worst = math.Max(worst, s.ValueMs/s.MaxMs)
			}
		}
		_ = t.Append(name, strings.Join(sites, ", "), fmt.Sprint(gpus), fmt.Sprintf("%.1f", p.res.CostPerHour),
			fmt.Sprintf("%.0f", p.res.CostPerHour*planner.HoursPerMonth), tight, p.res.Binding)
		pts = append(pts, point{name, p.res.CostPerHour, worst})
	}
	_ = t.Render()
	if len(pts) == 0 {
		return
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].cost < pts[j].cost })
	fmt.Fprintln(out, "cost versus latency (latency: the worst SLO value as a share of its objective; lower is better):")
	bestLat := math.Inf(1)
	for _, pt := range pts {
		mark := ""
		if pt.lat < bestLat {
			bestLat, mark = pt.lat, "  (on the frontier)"
		}
		fmt.Fprintf(out, "  %-24s $%8.1f/hour  latency %.2f%s\n", pt.name, pt.cost, pt.lat, mark)
	}
	c := pts[0]
	msg := fmt.Sprintf("recommendation: %s, the cheapest plan that meets every SLO ($%.1f/hour, $%.0f/month)", c.name, c.cost, c.cost*planner.HoursPerMonth)
	if len(pts) > 1 {
		n := pts[1]
		msg += fmt.Sprintf("; the next, %s, costs %.0f%% more", n.name, 100*(n.cost/c.cost-1))
		if n.lat < c.lat {
			msg += fmt.Sprintf(" and runs closer to its objectives (%.2f against %.2f), which is what the extra cost buys", n.lat, c.lat)
		} else {
			msg += " and is no faster against its objectives, so it buys nothing"
		}
	}
	fmt.Fprintln(out, msg+".")
}
