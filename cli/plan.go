package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/planner"
	"github.com/fleetsim/fleetsim/reports"
	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/serving"
	"github.com/fleetsim/fleetsim/world"
)

type planFlags struct {
	free         bool
	headroom     float64
	survive      bool
	degraded     float64
	vary         []string
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
	cmd.Flags().BoolVar(&f.free, "free", true, "also plan "+planner.FreeStrategyName+": every deployment of the scenario at every site with its GPUs, sites chosen by a linear program")
	cmd.Flags().Float64Var(&f.headroom, "headroom", 0, "spare capacity on top of the peak, as a fraction (0.2 = 20%)")
	cmd.Flags().StringVarP(&f.out, "out", "o", "", "write the plan file (YAML, kind: Plan) here, atomically")
	cmd.Flags().IntVar(&f.maxEvals, "max-evals", 16, "simulations per strategy in the repair stage")
	cmd.Flags().IntVar(&f.replications, "replications", 3, "independent seeds the final plan is simulated with")
	cmd.Flags().Uint64Var(&f.seed, "seed", 1, "first seed of the planning simulations")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print nothing on stderr")
	cmd.Flags().BoolVar(&f.survive, "survive", false, "the plan must also meet the SLOs with any one of its sites down (default: spec.planning.survive)")
	cmd.Flags().Float64Var(&f.degraded, "degraded-slo-factor", 0, "SLO max multiplier while a site is down (default: spec.planning.degradedSLOFactor, else 1)")
	cmd.Flags().StringArrayVar(&f.vary, "vary", nil, "re-plan under a change and compare: demand=1.5, price=1.3, price:SITE=1.3, gpu=h200 (repeatable)")
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
	if pl := s.Spec.Planning; pl != nil {
		if f.headroom == 0 {
			f.headroom = pl.Headroom
		}
		if !f.survive {
			f.survive = pl.Survive == "oneSiteDown"
		}
		if f.degraded == 0 {
			f.degraded = pl.DegradedSLOFactor
		}
	}
	if f.degraded == 0 {
		f.degraded = 1
	}
	var variants []variant
	for _, v := range f.vary {
		vr, err := parseVariant(v)
		if err != nil {
			return usageError{err: err, use: "fleetsim plan [SCENARIO] --vary demand=1.5"}
		}
		variants = append(variants, vr)
	}
	if f.free {
		planner.AddFreeStrategy(s)
	}
	w, err := world.Build(s)
	if err != nil {
		return invalid(err)
	}
	start := time.Now()
	plans := planAll(w, f)
	if !f.quiet {
		evals := 0
		for _, p := range plans {
			evals += p.res.Evals
		}
		fmt.Fprintf(streams.Err, "planned %d strategies of %s in %.1fs (%d simulations)\n", len(plans), w.Name, time.Since(start).Seconds(), evals)
	}
	writePlanTable(streams.Out, w.Name, plans)
	if len(variants) > 0 {
		if err := writeSensitivity(streams.Out, name, plans, variants, f); err != nil {
			return err
		}
	}
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
		if f.survive {
			pf.Metadata.Survive = "oneSiteDown"
		}
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
	t.Header("strategy", "replicas per site", "GPUs", "$/hour", "$/month", "tightest SLO (share of objective; attainment ± 95% CI)", "binding")
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
		tight, worst := "", -1.0
		for _, s := range p.res.SLOs {
			if t := planner.Tightness(s.SLOResult); t > worst {
				worst = t
				tight = fmt.Sprintf("%s %s p%g: %.0f%% of objective, attained %.2f%% ± %.2f", s.Workload, s.Metric, s.Percentile, 100*t, 100*s.Attainment, 100*s.HalfWidth)
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

// planAll plans every strategy of w, two at a time.
func planAll(w *fleet.World, f *planFlags) []strategyPlan {
	plans := make([]strategyPlan, len(w.Strategies))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for si := range w.Strategies {
		wg.Add(1)
		go func(si int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			pose := planner.Pose
			if f.survive {
				pose = planner.PoseSurvivable
			}
			p, err := pose(w, si, f.headroom)
			if err == nil && f.survive {
				err = p.CheckSurvivable()
			}
			sp := strategyPlan{prob: p, err: err}
			if err == nil {
				var ev planner.Evaluator = planner.SimEvaluator{P: p}
				if f.survive {
					ev = planner.SurviveEvaluator{P: p, Factor: f.degraded}
				}
				sp.res, sp.err = planner.Search(p.Slots, p.Proposal, ev,
					planner.Options{MaxEvals: f.maxEvals, Replications: f.replications, Seed: f.seed})
			}
			plans[si] = sp
		}(si)
	}
	wg.Wait()
	return plans
}

// variant is one --vary change to a scenario.
type variant struct {
	label string
	apply func(s *scenarios.Scenario) error
}

// parseVariant reads demand=F, price=F, price:SITE=F or gpu=ID.
func parseVariant(v string) (variant, error) {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		return variant{}, fmt.Errorf("--vary %q: want KEY=VALUE (demand=1.5, price=1.3, price:SITE=1.3, gpu=h200)", v)
	}
	num := func() (float64, error) {
		x, err := strconv.ParseFloat(val, 64)
		if err != nil || !(x > 0) || x > 1000 {
			return 0, fmt.Errorf("--vary %q: %q must be a factor in (0, 1000]", v, val)
		}
		return x, nil
	}
	switch {
	case k == "demand":
		x, err := num()
		if err != nil {
			return variant{}, err
		}
		return variant{label: "demand ×" + val, apply: func(s *scenarios.Scenario) error {
			for i := range s.Spec.Users {
				for j := range s.Spec.Users[i].Load {
					s.Spec.Users[i].Load[j].PeakRatePerS *= x
				}
			}
			for i := range s.Spec.Workloads {
				if t := s.Spec.Workloads[i].Trace; t != nil {
					t.RateScale = max(t.RateScale, 1) * x
				}
			}
			return nil
		}}, nil
	case k == "price" || strings.HasPrefix(k, "price:"):
		x, err := num()
		if err != nil {
			return variant{}, err
		}
		site := strings.TrimPrefix(strings.TrimPrefix(k, "price"), ":")
		label := "prices ×" + val
		if site != "" {
			label = site + " price ×" + val
		}
		return variant{label: label, apply: func(s *scenarios.Scenario) error {
			found := site == ""
			for i := range s.Spec.Regions {
				r := &s.Spec.Regions[i]
				if site != "" && r.Name != site {
					continue
				}
				found = true
				for c := range r.Clusters {
					for g := range r.Clusters[c].GPUPools {
						r.Clusters[c].GPUPools[g].PricePerGPUHourUSD *= x
					}
				}
			}
			if !found {
				return fmt.Errorf("--vary %s: no region %q", v, site)
			}
			return nil
		}}, nil
	case k == "gpu":
		if _, ok := serving.LookupGPU(val); !ok {
			return variant{}, fmt.Errorf("--vary %q: unknown GPU %q", v, val)
		}
		// The sites' pools of the replaced types become pools of the new
		// type, with the same counts and prices.
		return variant{label: "GPU " + val + " (same pools and prices)", apply: func(s *scenarios.Scenario) error {
			old := map[string]bool{}
			for i := range s.Spec.Strategies {
				for j := range s.Spec.Strategies[i].Deployments {
					d := &s.Spec.Strategies[i].Deployments[j]
					if g, ok := serving.LookupGPU(d.GPU); ok {
						old[g.ID] = true
					}
					d.GPU = val
				}
			}
			for i := range s.Spec.Regions {
				for c := range s.Spec.Regions[i].Clusters {
					for g := range s.Spec.Regions[i].Clusters[c].GPUPools {
						pool := &s.Spec.Regions[i].Clusters[c].GPUPools[g]
						if id, ok := serving.LookupGPU(pool.GPU); ok && old[id.ID] {
							pool.GPU = val
						}
					}
				}
			}
			return nil
		}}, nil
	}
	return variant{}, fmt.Errorf("--vary %q: unknown change %q (demand, price, price:SITE, gpu)", v, k)
}

// writeSensitivity re-plans the scenario under each variant and shows how
// each strategy's cost and the recommendation move.
func writeSensitivity(out io.Writer, name string, base []strategyPlan, variants []variant, f *planFlags) error {
	fmt.Fprintln(out, "\nsensitivity (cost $/hour of each strategy's plan; - when infeasible):")
	t := tablewriter.NewTable(out, tablewriter.WithHeaderAutoFormat(tw.Off))
	head := []any{"change"}
	for _, p := range base {
		head = append(head, p.prob.World.Strategies[p.prob.Strategy].Name)
	}
	head = append(head, "recommendation")
	t.Header(head...)
	row := func(label string, plans []strategyPlan) {
		cells := []any{label}
		best, bestCost := "none", math.Inf(1)
		for _, p := range plans {
			if p.err != nil {
				cells = append(cells, "-")
				continue
			}
			cells = append(cells, fmt.Sprintf("%.1f", p.res.CostPerHour))
			if p.res.CostPerHour < bestCost {
				best, bestCost = p.prob.World.Strategies[p.prob.Strategy].Name, p.res.CostPerHour
			}
		}
		t.Append(append(cells, best)...)
	}
	row("as given", base)
	for _, v := range variants {
		s, err := scenarios.Open(name)
		if err != nil {
			return invalid(err)
		}
		if err := v.apply(s); err != nil {
			return usageError{err: err, use: "fleetsim plan [SCENARIO] --vary ..."}
		}
		if f.free {
			planner.AddFreeStrategy(s)
		}
		w, err := world.Build(s)
		if err != nil {
			cells := []any{v.label}
			for range base {
				cells = append(cells, "-")
			}
			t.Append(append(cells, "invalid: "+firstLine(err))...)
			continue
		}
		row(v.label, planAll(w, f))
	}
	return t.Render()
}
