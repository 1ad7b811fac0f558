package planner

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/serving"
)

// DefaultUtilization is the share of a replica's sustainable throughput the
// analytic stage plans to use at the peak. Assumption, not measured: it
// leaves a margin for Poisson bursts and prefill spikes, which the
// simulation stage then checks and corrects.
const DefaultUtilization = 0.7

// Problem is one strategy of a world, posed for the planner.
type Problem struct {
	World    *fleet.World
	Strategy int
	Slots    []Slot
	// SlotOf maps (deployment, placement) to a slot index.
	SlotOf [][]int
	// Proposal is the analytic stage's allocation.
	Proposal Allocation
	// Notes explain the analytic stage (demand, capacity per replica).
	Notes []string
	// mu is each deployment's sustainable calls per second per replica.
	mu []float64
	// survive keeps two sites open per group in site selection.
	survive bool
}

// Pose turns strategy si of w into a planning problem: a slot per
// deployment and site, the site's GPUs of the deployment's type as the
// limit (shared by the deployments that use them), and the analytic
// stage's proposal. headroom (0.2 = 20%) is spare capacity on top of the
// peak. It returns an error wrapping ErrInfeasible when the peak cannot
// fit, or an SLO is below what the network alone allows.
func Pose(w *fleet.World, si int, headroom float64) (*Problem, error) {
	return pose(w, si, headroom, false)
}

// PoseSurvivable is Pose for a plan that must survive one site down: the
// planner's own strategy keeps at least two sites open for every group.
func PoseSurvivable(w *fleet.World, si int, headroom float64) (*Problem, error) {
	return pose(w, si, headroom, true)
}

func pose(w *fleet.World, si int, headroom float64, survive bool) (*Problem, error) {
	st := &w.Strategies[si]
	p := &Problem{World: w, Strategy: si, survive: survive}
	for _, d := range st.Deployments {
		var row []int
		for _, pl := range d.Placements {
			site := &w.Sites[pl.Site]
			capGPUs := site.GPUs[d.GPU]
			p.Slots = append(p.Slots, Slot{
				Deployment: d.Model + "/" + d.GPU, Site: site.Name, GPU: d.GPU, TP: d.TP,
				PricePerReplicaHour: float64(d.TP) * pl.PricePerGPUHourUSD,
				Max:                 capGPUs / d.TP, Pool: site.Name + "/" + d.GPU, Capacity: capGPUs,
			})
			row = append(row, len(p.Slots)-1)
		}
		p.SlotOf = append(p.SlotOf, row)
	}
	p.mu = make([]float64, len(st.Deployments))
	for di := range st.Deployments {
		p.mu[di], _, _, _ = replicaRate(w, &st.Deployments[di])
	}
	if st.Name == FreeStrategyName {
		if err := p.selectSites(headroom); err != nil {
			return p, err
		}
	}
	peak, err := p.peakCalls(headroom)
	if err != nil {
		return p, err
	}
	if err := p.latencyFloor(); err != nil {
		return p, err
	}
	p.Proposal = make(Allocation, len(p.Slots))
	var problems []string
	for di, d := range st.Deployments {
		mu, isl, osl, n := replicaRate(w, &st.Deployments[di])
		p.Notes = append(p.Notes, fmt.Sprintf("%s: one replica sustains %.2f calls/s (%d sequences of %.0f+%.0f tokens)", d.Model+"/"+d.GPU, mu, n, isl, osl))
		for k := range d.Placements {
			i := p.SlotOf[di][k]
			lam := peak[i]
			if lam <= 0 {
				continue
			}
			p.Slots[i].Min = 1
			need := int(math.Ceil(lam * (1 + headroom) / (mu * DefaultUtilization)))
			p.Proposal[i] = max(need, 1)
			p.Notes = append(p.Notes, fmt.Sprintf("  %s: peak %.2f calls/s, %d replicas", p.Slots[i].Site, lam, p.Proposal[i]))
			if p.Proposal[i] > p.Slots[i].Max {
				problems = append(problems, fmt.Sprintf("site %s needs %d replicas of %s (%d GPUs) for its peak of %.2f calls/s, but has %d %s GPUs: short by %d GPUs",
					p.Slots[i].Site, p.Proposal[i], d.Model, p.Proposal[i]*d.TP, lam, p.Slots[i].Capacity, d.GPU, p.Proposal[i]*d.TP-p.Slots[i].Capacity))
			}
		}
	}
	if len(problems) > 0 {
		return p, fmt.Errorf("%w: %s", ErrInfeasible, strings.Join(problems, "; "))
	}
	return p, nil
}

// eligibleSlots returns the slots that may serve workload wi for user
// group ui (the deployment serves it, the site is in the residency zone),
// nearest first, as the router orders them.
func (p *Problem) eligibleSlots(wi, ui int) []int {
	w := p.World
	st := &w.Strategies[p.Strategy]
	wl := &w.Workloads[wi]
	u := &w.Users[ui]
	zone := wl.Zone
	if wl.ZoneFromUser {
		zone = u.Zone
	}
	var out []int
	for di, d := range st.Deployments {
		if !d.Serves[wi] {
			continue
		}
		for k, pl := range d.Placements {
			if zone != "" && w.Sites[pl.Site].Zone != zone {
				continue
			}
			if i := p.SlotOf[di][k]; p.Slots[i].Max > 0 {
				out = append(out, i)
			}
		}
	}
	// Nearest first, as the router orders sites.
	sort.SliceStable(out, func(a, b int) bool {
		return w.RTT.RTTMs(u.Loc, w.Sites[p.siteOf(out[a])].Loc) < w.RTT.RTTMs(u.Loc, w.Sites[p.siteOf(out[b])].Loc)
	})
	return out
}

func (p *Problem) siteOf(slot int) int {
	st := &p.World.Strategies[p.Strategy]
	for di, row := range p.SlotOf {
		for k, s := range row {
			if s == slot {
				return st.Deployments[di].Placements[k].Site
			}
		}
	}
	return -1
}

// peakCalls is each slot's peak rate of model calls. Every group's load
// goes to its nearest site with an eligible deployment (as the router sends
// it when there is no queue), hour by hour over the run's window; at each
// site, a workload's load goes to the deployment that serves the site's
// peak of it for the least money (the others get no replicas there, so the
// router finds that one). The peak is the busiest hour.
func (p *Problem) peakCalls(headroom float64) ([]float64, error) {
	w := p.World
	hours := max(int(math.Ceil(w.Run.Window.Seconds()/3600)), 1)
	type key struct{ site, wl int }
	demand := map[key][]float64{}
	var order []key
	for ui, u := range w.Users {
		for _, l := range u.Loads {
			r, ok := l.Arrivals.(interface{ Rate(float64) float64 })
			if !ok {
				continue
			}
			slots := p.eligibleSlots(l.Workload, ui)
			if len(slots) == 0 {
				return nil, fmt.Errorf("%w: no site of strategy %s may serve workload %s for users %s", ErrInfeasible,
					w.Strategies[p.Strategy].Name, w.Workloads[l.Workload].Name, u.Name)
			}
			k := key{p.siteOf(slots[0]), l.Workload}
			if demand[k] == nil {
				demand[k] = make([]float64, hours)
				order = append(order, k)
			}
			calls := callsPerArrival(&w.Workloads[l.Workload])
			for h := 0; h < hours; h++ {
				// The rate at the middle of hour h of the window.
				t := w.Run.Warmup.Seconds() + (float64(h)+0.5)*3600
				demand[k][h] += r.Rate(t) * calls
			}
		}
	}
	byHour := make([][]float64, len(p.Slots))
	for i := range byHour {
		byHour[i] = make([]float64, hours)
	}
	st := &w.Strategies[p.Strategy]
	for _, k := range order {
		pk := slices.Max(demand[k])
		best, bestCost := -1, math.Inf(1)
		for di, d := range st.Deployments {
			if !d.Serves[k.wl] {
				continue
			}
			for j, pl := range d.Placements {
				if pl.Site != k.site {
					continue
				}
				i := p.SlotOf[di][j]
				n := math.Max(math.Ceil(pk*(1+headroom)/(p.mu[di]*DefaultUtilization)), 1)
				if c := n * p.Slots[i].PricePerReplicaHour; c < bestCost {
					best, bestCost = i, c
				}
			}
		}
		for h, v := range demand[k] {
			byHour[best][h] += v
		}
	}
	peak := make([]float64, len(p.Slots))
	for i, hs := range byHour {
		peak[i] = slices.Max(hs)
	}
	return peak, nil
}

// callsPerArrival is the model calls one arrival makes: 1 for chat, the
// mean steps of an agent session.
func callsPerArrival(wl *fleet.Workload) float64 {
	if wl.Agent {
		return math.Max(wl.Steps.Mean(), 1)
	}
	return 1
}

// meanLengths is a workload's mean prompt and output tokens per call.
func meanLengths(wl *fleet.Workload) (isl, osl float64) {
	if !wl.Agent {
		return wl.Prompt.Mean(), wl.Output.Mean()
	}
	n := math.Max(wl.Steps.Mean(), 1)
	grow := wl.StepOutput.Mean() + wl.ToolResult.Mean()
	isl = math.Min(wl.InitialPrompt.Mean()+grow*(n-1)/2, float64(wl.MaxContext))
	return isl, wl.StepOutput.Mean()
}

// replicaRate is the calls per second one replica of d sustains on the
// mix of workloads it serves: the steady-state throughput of the serving
// model at the most concurrent sequences whose time per output token stays
// within the tightest TPOT objective (80% of it), divided by the mean
// output per call.
func replicaRate(w *fleet.World, d *fleet.Deployment) (mu, isl, osl float64, n int) {
	var sumI, sumO, k float64
	tpot := math.Inf(1)
	for wi, ok := range d.Serves {
		if !ok {
			continue
		}
		wl := &w.Workloads[wi]
		if wl.Trace != nil || wl.Sessions != nil {
			continue
		}
		i, o := meanLengths(wl)
		sumI, sumO, k = sumI+i, sumO+o, k+1
		for _, s := range wl.SLOs {
			if s.Metric == fleet.MetricTPOT {
				tpot = math.Min(tpot, 0.8*s.MaxS*1000)
			}
		}
	}
	if k == 0 {
		return 1, 0, 0, 1
	}
	isl, osl = sumI/k, math.Max(sumO/k, 1)
	sm, ok := d.Estimator.(*serving.StepModel)
	if !ok {
		return 1, isl, osl, 1
	}
	maxN := max(sm.MaxConcurrency(int(isl), int(osl)), 1)
	best := sm.Steady(1, int(isl), int(osl), d.TokenBudget)
	n = 1
	for c := 2; c <= maxN; c *= 2 {
		pr := sm.Steady(c, int(isl), int(osl), d.TokenBudget)
		if pr.TPOTMs > tpot {
			break
		}
		best, n = pr, c
	}
	return best.OutputTokensPerS / osl, isl, osl, n
}

// latencyFloor rejects SLOs that the network alone breaks: for a TTFT or
// end-to-end objective, the share of a workload's users whose nearest
// eligible site is farther (round trip, access link and connection
// handshakes) than the objective must be within what the percentile allows.
func (p *Problem) latencyFloor() error {
	w := p.World
	var problems []string
	for wi := range w.Workloads {
		wl := &w.Workloads[wi]
		for _, slo := range wl.SLOs {
			if slo.Metric != fleet.MetricTTFT && slo.Metric != fleet.MetricE2E {
				continue
			}
			var total, over, worst float64
			for ui, u := range w.Users {
				for _, l := range u.Loads {
					if l.Workload != wi {
						continue
					}
					slots := p.eligibleSlots(wi, ui)
					if len(slots) == 0 {
						continue
					}
					rtt := (w.RTT.RTTMs(u.Loc, w.Sites[p.siteOf(slots[0])].Loc) + u.AccessRTTMs) / 1000
					floor := rtt
					if !wl.Persistent {
						floor += float64(w.Net.HandshakeRTTs) * rtt
					}
					total += l.PeakRatePerS
					if floor > slo.MaxS {
						over += l.PeakRatePerS
						worst = math.Max(worst, floor-slo.MaxS)
					}
				}
			}
			if total > 0 && over/total > 1-slo.Percentile/100 {
				problems = append(problems, fmt.Sprintf("workload %s: %s p%g <= %gms cannot be met: %.0f%% of its load is farther from the nearest eligible site than the objective allows (by up to %.0f ms of network alone)",
					wl.Name, slo.Metric, slo.Percentile, slo.MaxS*1000, 100*over/total, worst*1000))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInfeasible, strings.Join(problems, "; "))
	}
	return nil
}

// SimEvaluator evaluates allocations by simulating the world's strategy
// with the allocation's replicas.
type SimEvaluator struct {
	P *Problem
}

// Evaluate runs the simulation with seed and reports SLOs, and per slot the
// queue p95 and utilization.
func (e SimEvaluator) Evaluate(a Allocation, seed uint64) (Outcome, error) {
	w := *e.P.World
	st := Apply(&w.Strategies[e.P.Strategy], e.P.SlotOf, a)
	w.Strategies = []fleet.Strategy{st}
	w.Run.Seed = seed
	res, err := fleet.Simulate(&w, 0)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{QueueP95Ms: make([]float64, len(a)), Utilization: make([]float64, len(a))}
	for _, wl := range res.Workloads {
		for _, s := range wl.SLOs {
			v := math.Inf(1)
			if s.ValueMs != nil {
				v = *s.ValueMs
			}
			out.SLOs = append(out.SLOs, SLOResult{Workload: wl.Name, Metric: s.Metric, Percentile: s.Percentile, MaxMs: s.MaxMs,
				Attainment: s.Attainment, Met: s.Met, ValueMs: v})
		}
	}
	for _, site := range res.Sites {
		for i, sl := range e.P.Slots {
			if sl.Site == site.Site && sl.Deployment == site.Model+"/"+site.GPU {
				out.QueueP95Ms[i] = site.QueueP95Ms
				out.Utilization[i] = site.Utilization
			}
		}
	}
	return out, nil
}

// Apply returns a copy of st whose placements have the allocation's replicas.
func Apply(st *fleet.Strategy, slotOf [][]int, a Allocation) fleet.Strategy {
	c := *st
	c.Deployments = slices.Clone(st.Deployments)
	for di := range c.Deployments {
		c.Deployments[di].Placements = slices.Clone(st.Deployments[di].Placements)
		for k := range c.Deployments[di].Placements {
			c.Deployments[di].Placements[k].Replicas = a[slotOf[di][k]]
		}
	}
	return c
}

// SurviveEvaluator evaluates an allocation as SimEvaluator does, and again
// with each site that holds replicas down for the whole window, where the
// SLOs may be looser by Factor (1: as tight). The outcome meets an SLO only
// if every case does; attainment is the worst case's, and queues and
// utilization the highest of any case.
type SurviveEvaluator struct {
	P      *Problem
	Factor float64
}

// Evaluate runs the normal case and one case per site down.
func (e SurviveEvaluator) Evaluate(a Allocation, seed uint64) (Outcome, error) {
	base := SimEvaluator{P: e.P}
	out, err := base.Evaluate(a, seed)
	if err != nil {
		return out, err
	}
	w := e.P.World
	st := &w.Strategies[e.P.Strategy]
	sites := map[int]bool{}
	for di, d := range st.Deployments {
		for k, pl := range d.Placements {
			if a[e.P.SlotOf[di][k]] > 0 {
				sites[pl.Site] = true
			}
		}
	}
	keys := make([]int, 0, len(sites))
	for s := range sites {
		keys = append(keys, s)
	}
	sort.Ints(keys)
	for _, site := range keys {
		wc := *w
		wc.Faults = []fleet.Fault{{Name: "down-" + w.Sites[site].Name, Kind: fleet.SiteDown, Site: site, Tool: -1, LocA: -1, LocB: -1,
			Start: 0, End: w.Run.Warmup + w.Run.Window + w.Run.Drain + 1}}
		wc.Workloads = slices.Clone(w.Workloads)
		for wi := range wc.Workloads {
			wc.Workloads[wi].SLOs = slices.Clone(w.Workloads[wi].SLOs)
			for k := range wc.Workloads[wi].SLOs {
				wc.Workloads[wi].SLOs[k].MaxS *= max(e.Factor, 1)
			}
		}
		p := *e.P
		p.World = &wc
		o, err := SimEvaluator{P: &p}.Evaluate(a, seed)
		if err != nil {
			return out, err
		}
		for k := range out.SLOs {
			x, y := &out.SLOs[k], o.SLOs[k]
			if y.Attainment < x.Attainment {
				x.Attainment, x.ValueMs = y.Attainment, y.ValueMs
			}
			x.Met = x.Met && y.Met
		}
		for i := range out.QueueP95Ms {
			out.QueueP95Ms[i] = math.Max(out.QueueP95Ms[i], o.QueueP95Ms[i])
			out.Utilization[i] = math.Max(out.Utilization[i], o.Utilization[i])
		}
	}
	return out, nil
}

// CheckSurvivable rejects a strategy that cannot survive one site down:
// some group's workload has a single site that may serve it.
func (p *Problem) CheckSurvivable() error {
	w := p.World
	for ui, u := range w.Users {
		for _, l := range u.Loads {
			sites := map[int]bool{}
			for _, sl := range p.eligibleSlots(l.Workload, ui) {
				if p.Slots[sl].Max > 0 {
					sites[p.siteOf(sl)] = true
				}
			}
			if len(sites) < 2 {
				return fmt.Errorf("%w: surviving one site down needs two sites that may serve workload %s for users %s; strategy %s has %d",
					ErrInfeasible, w.Workloads[l.Workload].Name, u.Name, w.Strategies[p.Strategy].Name, len(sites))
			}
		}
	}
	return nil
}
