package planner

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"

	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/serving"
)

// FreeStrategyName is the strategy the planner composes itself.
const FreeStrategyName = "planner-choice"

// LatencyShare is the share of a workload's tightest TTFT or end-to-end
// objective that the network alone may take for a site to be a candidate
// in the free strategy's site selection. Assumption: the rest is left for
// queueing and prefill.
const LatencyShare = 0.5

// AddFreeStrategy appends to s a strategy the planner composes freely:
// every distinct deployment of the scenario's strategies (model, GPU,
// tensor parallelism, precision, profile and the workloads it serves), at
// every region with GPUs of its type for at least one replica. Its replica
// counts are placeholders; the planner chooses them. It does nothing when
// no region qualifies.
func AddFreeStrategy(s *scenarios.Scenario) {
	type key struct {
		model, gpu, prec, profile, serves string
		tp                                int
	}
	seen := map[key]bool{}
	var deps []scenarios.Deployment
	for _, st := range s.Spec.Strategies {
		for _, d := range st.Deployments {
			k := key{d.Model, d.GPU, d.Precision, d.Profile, strings.Join(d.Serves, ","), d.TensorParallel}
			if seen[k] {
				continue
			}
			seen[k] = true
			g, ok := serving.LookupGPU(d.GPU)
			if !ok {
				continue
			}
			tp := max(d.TensorParallel, 1)
			var sites []string
			for _, r := range s.Spec.Regions {
				n := 0
				for _, c := range r.Clusters {
					for _, p := range c.GPUPools {
						if pg, ok := serving.LookupGPU(p.GPU); ok && pg.ID == g.ID {
							per := p.GPUsPerNode
							if per == 0 {
								per = scenarios.DefaultGPUsPerNode
							}
							n += per * p.Count
						}
					}
				}
				if n >= tp {
					sites = append(sites, r.Name)
				}
			}
			if len(sites) == 0 {
				continue
			}
			nd := d
			nd.Sites = sites
			nd.GPUs = len(sites) * tp
			nd.Split = "even"
			nd.Autoscale = nil
			deps = append(deps, nd)
		}
	}
	if len(deps) == 0 {
		return
	}
	s.Spec.Strategies = append(s.Spec.Strategies, scenarios.Strategy{
		Name: FreeStrategyName, Kind: "hybrid",
		Description: "composed by the planner: every deployment at every site with its GPUs",
		Deployments: deps,
	})
}

// selectSites chooses which slots of the problem may get replicas, by a
// linear program (gonum's simplex): each user group's peak calls of each
// workload are split over the slots that may serve it and whose network
// round trip (with access and handshakes) is within LatencyShare of the
// workload's tightest latency objective; a slot serves up to its
// replicas × sustainable calls per replica × DefaultUtilization; replicas
// (continuous here) cost their price and are bounded by the site's GPUs
// of the type. Slots the optimum gives no replicas are closed (Max 0);
// the nearest-site routing of the analytic stage then runs over the open
// ones.
func (p *Problem) selectSites(headroom float64) error {
	w := p.World
	st := &w.Strategies[p.Strategy]
	type group struct {
		u, wl int
		peak  float64
		slots []int
	}
	var groups []group
	hours := max(int(math.Ceil(w.Run.Window.Seconds()/3600)), 1)
	for ui, u := range w.Users {
		for _, l := range u.Loads {
			r, ok := l.Arrivals.(interface{ Rate(float64) float64 })
			if !ok {
				continue
			}
			wl := &w.Workloads[l.Workload]
			bound := math.Inf(1)
			for _, s := range wl.SLOs {
				if s.Metric == fleet.MetricTTFT || s.Metric == fleet.MetricE2E {
					bound = math.Min(bound, LatencyShare*s.MaxS)
				}
			}
			g := group{u: ui, wl: l.Workload}
			for _, sl := range p.eligibleSlots(l.Workload, ui) {
				site := &w.Sites[p.siteOf(sl)]
				rtt := (w.RTT.RTTMs(u.Loc, site.Loc) + u.AccessRTTMs) / 1000
				floor := rtt
				if !wl.Persistent {
					floor += float64(w.Net.HandshakeRTTs) * rtt
				}
				if floor <= bound {
					g.slots = append(g.slots, sl)
				}
			}
			if len(g.slots) == 0 {
				return fmt.Errorf("%w: no site of %s is within %.0f%% of workload %s's latency objective for users %s",
					ErrInfeasible, st.Name, 100*LatencyShare, wl.Name, u.Name)
			}
			calls := callsPerArrival(wl)
			for h := 0; h < hours; h++ {
				t := w.Run.Warmup.Seconds() + (float64(h)+0.5)*3600
				g.peak = math.Max(g.peak, r.Rate(t)*calls*(1+headroom))
			}
			if g.peak > 0 {
				groups = append(groups, g)
			}
		}
	}
	if len(groups) == 0 {
		return nil
	}
	// Columns: x(g, slot) for each group's candidate slots, then y(slot),
	// then a capacity slack per slot, then a GPU slack per pool.
	nSlots := len(p.Slots)
	var xs [][2]int // (group, slot)
	for gi, g := range groups {
		for _, sl := range g.slots {
			xs = append(xs, [2]int{gi, sl})
		}
	}
	pools := map[string]int{}
	var poolNames []string
	for _, sl := range p.Slots {
		if _, ok := pools[sl.Pool]; !ok {
			pools[sl.Pool] = len(poolNames)
			poolNames = append(poolNames, sl.Pool)
		}
	}
	nx, ny := len(xs), nSlots
	yOff, zOff, uOff := nx, nx+ny, nx+2*ny
	cols := nx + 2*ny + len(poolNames)
	rows := len(groups) + ny + len(poolNames)
	A := mat.NewDense(rows, cols, nil)
	b := make([]float64, rows)
	c := make([]float64, cols)
	for i, x := range xs {
		A.Set(x[0], i, 1)
		A.Set(len(groups)+x[1], i, 1)
	}
	for gi, g := range groups {
		b[gi] = g.peak
	}
	for si := range p.Slots {
		di := p.deploymentOfSlot(si)
		kappa := math.Max(p.mu[di]*DefaultUtilization, 1e-9)
		A.Set(len(groups)+si, yOff+si, -kappa)
		A.Set(len(groups)+si, zOff+si, 1)
		r := len(groups) + ny + pools[p.Slots[si].Pool]
		A.Set(r, yOff+si, float64(p.Slots[si].TP))
		c[yOff+si] = p.Slots[si].PricePerReplicaHour
	}
	for pi, name := range poolNames {
		A.Set(len(groups)+ny+pi, uOff+pi, 1)
		for _, sl := range p.Slots {
			if sl.Pool == name {
				b[len(groups)+ny+pi] = float64(sl.Capacity)
				break
			}
		}
	}
	_, opt, err := lp.Simplex(c, A, b, 1e-10, nil)
	if err != nil {
		return fmt.Errorf("%w: the site-selection program has no solution within the sites' GPUs (%v)", ErrInfeasible, err)
	}
	isOpen := make([]bool, nSlots)
	for si := range p.Slots {
		isOpen[si] = opt[yOff+si] > 1e-6
	}
	if p.survive {
		// Every group keeps a second site: the cheapest candidate elsewhere.
		for _, g := range groups {
			sites := map[int]bool{}
			for _, sl := range g.slots {
				if isOpen[sl] {
					sites[p.siteOf(sl)] = true
				}
			}
			for len(sites) < 2 {
				best := -1
				for _, sl := range g.slots {
					if !isOpen[sl] && !sites[p.siteOf(sl)] && (best < 0 || p.Slots[sl].PricePerReplicaHour < p.Slots[best].PricePerReplicaHour) {
						best = sl
					}
				}
				if best < 0 {
					break
				}
				isOpen[best] = true
				sites[p.siteOf(best)] = true
			}
		}
	}
	var open []string
	for si := range p.Slots {
		if isOpen[si] {
			open = append(open, fmt.Sprintf("%s %.1f", p.Slots[si].Site, opt[yOff+si]))
			continue
		}
		p.Slots[si].Max = 0
	}
	slices.Sort(open)
	p.Notes = append(p.Notes, "site selection (replicas, continuous): "+strings.Join(open, ", "))
	return nil
}

func (p *Problem) deploymentOfSlot(slot int) int {
	for di, row := range p.SlotOf {
		if slices.Contains(row, slot) {
			return di
		}
	}
	return -1
}
