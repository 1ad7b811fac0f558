package planner

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/sim"
	"github.com/fleetsim/fleetsim/world"
)

func buildBuiltin(t *testing.T, name string, windowS float64) *fleetWorld {
	t.Helper()
	s, err := scenarios.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	w, err := world.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	if windowS > 0 {
		w.Run.Window = sim.FromSeconds(windowS)
		w.Run.Warmup = sim.FromSeconds(120)
		w.Run.Drain = sim.FromSeconds(600)
	}
	return &fleetWorld{w: w}
}

// TestPlanMatchesBruteForce plans each strategy of the two-regions
// scenario (shortened to 20 minutes so brute force is affordable) and
// compares the plan's cost with the cheapest allocation, among all with 0
// to 4 replicas per site, that the same simulation says meets every SLO.
// The planner must be within 2% of it, and never below it.
func TestPlanMatchesBruteForce(t *testing.T) {
	fw := buildBuiltin(t, "two-regions", 1200)
	for si := range fw.w.Strategies {
		name := fw.w.Strategies[si].Name
		t.Run(name, func(t *testing.T) {
			p, err := Pose(fw.w, si, 0)
			if err != nil {
				t.Fatal(err)
			}
			ev := SimEvaluator{P: p}
			res, err := Search(p.Slots, p.Proposal, ev, Options{Seed: 1, Replications: 1})
			if err != nil {
				t.Fatal(err)
			}
			best := math.Inf(1)
			a := make(Allocation, len(p.Slots))
			var enum func(i int)
			enum = func(i int) {
				if i == len(a) {
					if c := Cost(p.Slots, a); c < best {
						out, err := ev.Evaluate(a, 1)
						if err != nil {
							t.Fatal(err)
						}
						if out.AllMet() {
							best = c
						}
					}
					return
				}
				for n := p.Slots[i].Min; n <= min(4, p.Slots[i].Max); n++ {
					a[i] = n
					enum(i + 1)
				}
			}
			enum(0)
			if math.IsInf(best, 1) {
				t.Fatalf("brute force found no allocation meeting the SLOs")
			}
			if res.CostPerHour < best-1e-9 || res.CostPerHour > 1.02*best {
				t.Errorf("planned $%.2f/h (%v), brute force $%.2f/h", res.CostPerHour, res.Allocation, best)
			}
		})
	}
}

// TestInfeasibleCapacity: a site too small for its peak is reported with
// the shortfall, wrapping ErrInfeasible.
func TestInfeasibleCapacity(t *testing.T) {
	fw := buildBuiltin(t, "two-regions", 600)
	// Give us-east room for only one GPU, and ask the centralized strategy
	// to carry all the load with 50% headroom.
	fw.w.Sites[0].GPUs["h100"] = 1
	_, err := Pose(fw.w, 0, 50)
	if !errors.Is(err, ErrInfeasible) {
		t.Fatalf("Pose: %v, want ErrInfeasible", err)
	}
	for _, want := range []string{"site us-east needs", "has 1 h100 GPUs", "short by"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestInfeasibleLatency: a TTFT objective below the network round trip to
// the only site is rejected before any simulation, by how much.
func TestInfeasibleLatency(t *testing.T) {
	fw := buildBuiltin(t, "two-regions", 600)
	fw.w.Workloads[0].SLOs[0].MaxS = 0.005
	_, err := Pose(fw.w, 0, 0)
	if !errors.Is(err, ErrInfeasible) || !strings.Contains(err.Error(), "network alone") {
		t.Fatalf("Pose: %v, want ErrInfeasible naming the network floor", err)
	}
}

type fleetWorld struct{ w *fleet.World }

// TestFreeStrategySelectsSites: with a 300 ms TTFT objective, Frankfurt's
// users cannot be served from us-east (a per-request connection pays three
// transatlantic round trips, more than half the objective), so the
// planner's own strategy must open a European site, and picks the cheaper
// one (eu-west at $2.70 against Frankfurt's $3.70); New York's users go to
// us-east ($2.50, cheaper than the New York edge).
func TestFreeStrategySelectsSites(t *testing.T) {
	s, err := scenarios.Open("two-regions")
	if err != nil {
		t.Fatal(err)
	}
	s.Spec.Workloads[0].SLOs[0].Max = scenarios.Duration(0.3)
	AddFreeStrategy(s)
	w, err := world.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	si := len(w.Strategies) - 1
	if w.Strategies[si].Name != FreeStrategyName {
		t.Fatalf("last strategy %q, want %q", w.Strategies[si].Name, FreeStrategyName)
	}
	p, err := Pose(w, si, 0)
	if err != nil {
		t.Fatal(err)
	}
	var open []string
	for i, sl := range p.Slots {
		if sl.Max > 0 && p.Proposal[i] > 0 {
			open = append(open, sl.Site)
		}
	}
	if strings.Join(open, ",") != "us-east,eu-west" {
		t.Errorf("open sites %v, want [us-east eu-west]", open)
	}
}
