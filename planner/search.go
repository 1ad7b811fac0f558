package planner

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Slot is one place replicas can go: a deployment's placement at a site.
type Slot struct {
	// Deployment and Site name the slot (for reports).
	Deployment, Site string
	// GPU is the GPU type; TP the GPUs per replica.
	GPU string
	TP  int
	// PricePerReplicaHour is what one replica costs per hour (TP × price per GPU-hour).
	PricePerReplicaHour float64
	// Max is the most replicas the slot may hold (its share of the site's
	// GPUs of this type); Min the fewest (1 where demand is routed to it).
	Min, Max int
	// Pool groups slots that share one site's GPUs of one type; Capacity is
	// that pool's GPU count.
	Pool     string
	Capacity int
}

// Allocation is replicas per slot.
type Allocation []int

// Cost is the allocation's cost per hour over slots.
func Cost(slots []Slot, a Allocation) float64 {
	c := 0.0
	for i, n := range a {
		c += float64(n) * slots[i].PricePerReplicaHour
	}
	return c
}

// SLOResult is how one SLO fared in one evaluation.
type SLOResult struct {
	Workload, Metric  string
	Percentile, MaxMs float64
	Attainment        float64
	Met               bool
	ValueMs           float64 // the percentile's value; +Inf when undefined
}

// Outcome is what an evaluation of an allocation reports.
type Outcome struct {
	SLOs []SLOResult
	// QueueP95Ms is per slot: the 95th percentile of queue wait there.
	QueueP95Ms []float64
	// Utilization is per slot.
	Utilization []float64
}

// AllMet says whether every SLO was met.
func (o Outcome) AllMet() bool {
	for _, s := range o.SLOs {
		if !s.Met {
			return false
		}
	}
	return true
}

// Evaluator measures an allocation with a seed. The planner knows nothing
// else about what it plans for.
type Evaluator interface {
	Evaluate(a Allocation, seed uint64) (Outcome, error)
}

// Options control the search.
type Options struct {
	// MaxEvals bounds the evaluations of the verify-and-repair stage. Default 16.
	MaxEvals int
	// Replications is the number of independent seeds the final plan is
	// evaluated with, for confidence intervals. Default 3.
	Replications int
	// Seed is the first seed; replication r uses Seed + r.
	Seed uint64
}

// Result is a verified plan.
type Result struct {
	Allocation  Allocation
	CostPerHour float64
	// SLOs are the final plan's SLOs: attainment as the mean over
	// replications, with a 95% confidence half-width.
	SLOs []SLOSummary
	// Feasible says every SLO was met in every replication.
	Feasible bool
	// Binding names what limits the plan: the SLO with the least margin, or
	// a pool at capacity.
	Binding string
	// Evals is the number of evaluations used.
	Evals int
	// Trace lists the search's steps, for reports.
	Trace []string
}

// SLOSummary is an SLO over the replications of the final plan.
type SLOSummary struct {
	SLOResult
	// Attainment is the mean; HalfWidth the 95% confidence half-width
	// (Student t over the replications).
	HalfWidth float64
	MetAll    bool
}

// ErrInfeasible is wrapped by the errors Search returns when no allocation
// within the slots' limits meets the SLOs.
var ErrInfeasible = errors.New("infeasible")

// poolUse returns GPUs used per pool.
func poolUse(slots []Slot, a Allocation) map[string]int {
	m := map[string]int{}
	for i, n := range a {
		m[slots[i].Pool] += n * slots[i].TP
	}
	return m
}

// canGrow says whether slot i can take one more replica.
func canGrow(slots []Slot, a Allocation, i int) bool {
	s := slots[i]
	return a[i] < s.Max && poolUse(slots, a)[s.Pool]+s.TP <= s.Capacity
}

// Search verifies and repairs a proposed allocation with the evaluator:
// while some SLO fails it grows the slots whose queues are longest (by a
// tenth, at least one replica); once every SLO is met it removes replicas
// from the slot that costs most per hour among those with the lowest
// utilization, keeping each removal only if every SLO stays met. It ends
// when no removal is left to try or the evaluation budget is spent, then
// evaluates the best plan with independent seeds.
func Search(slots []Slot, proposal Allocation, ev Evaluator, opt Options) (Result, error) {
	if opt.MaxEvals <= 0 {
		opt.MaxEvals = 16
	}
	if opt.Replications <= 0 {
		opt.Replications = 3
	}
	res := Result{}
	a := slices.Clone(proposal)
	for i := range a {
		a[i] = min(max(a[i], slots[i].Min), slots[i].Max)
	}
	var best Allocation
	tried := make([]bool, len(slots)) // removals that broke an SLO
	var why []string                  // what each failed removal missed
	for res.Evals < opt.MaxEvals {
		out, err := ev.Evaluate(a, opt.Seed)
		res.Evals++
		if err != nil {
			return res, err
		}
		if out.AllMet() {
			best = slices.Clone(a)
			res.Trace = append(res.Trace, fmt.Sprintf("eval %d: %v at $%.2f/h meets every SLO", res.Evals, a, Cost(slots, a)))
			// Try one removal.
			i := shrinkCandidate(slots, a, out, tried)
			if i < 0 {
				break
			}
			a[i]--
			next, err := ev.Evaluate(a, opt.Seed)
			res.Evals++
			if err != nil {
				return res, err
			}
			if !next.AllMet() {
				res.Trace = append(res.Trace, fmt.Sprintf("eval %d: removing one from %s/%s misses an SLO; kept", res.Evals, slots[i].Deployment, slots[i].Site))
				why = append(why, fmt.Sprintf("one replica fewer at %s misses %s", slots[i].Site, missed(next)))
				a[i]++
				tried[i] = true
			}
			continue
		}
		res.Trace = append(res.Trace, fmt.Sprintf("eval %d: %v misses %s", res.Evals, a, missed(out)))
		if best != nil {
			// A removal was accepted earlier but this allocation fails: go back.
			a = slices.Clone(best)
			continue
		}
		grown := grow(slots, a, out)
		if grown == 0 {
			res.Allocation = a
			res.CostPerHour = Cost(slots, a)
			res.Binding = binding(slots, a, out)
			return res, fmt.Errorf("%w: %s missed with no slot left to grow (%s)", ErrInfeasible, missed(out), res.Binding)
		}
	}
	if best == nil {
		res.Allocation = a
		res.CostPerHour = Cost(slots, a)
		return res, fmt.Errorf("%w: no allocation met every SLO within %d evaluations (last: %v)", ErrInfeasible, opt.MaxEvals, a)
	}
	res.Allocation = best
	res.CostPerHour = Cost(slots, best)
	// Replications.
	var outs []Outcome
	for r := 0; r < opt.Replications; r++ {
		out, err := ev.Evaluate(best, opt.Seed+uint64(r)+1)
		res.Evals++
		if err != nil {
			return res, err
		}
		outs = append(outs, out)
	}
	res.SLOs, res.Feasible = summarize(outs)
	res.Binding = binding(slots, best, outs[0])
	if len(why) > 0 {
		res.Binding = strings.Join(why, "; ")
	} else if res.Binding != "" && !strings.HasPrefix(res.Binding, "site capacity") {
		res.Binding = "every site at its minimum; tightest SLO " + res.Binding
	}
	return res, nil
}

func missed(o Outcome) string {
	var s []string
	for _, x := range o.SLOs {
		if !x.Met {
			s = append(s, fmt.Sprintf("%s %s p%g <= %gms (%.1f%%)", x.Workload, x.Metric, x.Percentile, x.MaxMs, 100*x.Attainment))
		}
	}
	if len(s) == 0 {
		return "nothing"
	}
	return fmt.Sprint(s)
}

// grow adds replicas where queues are longest: every slot whose queue p95
// is within half of the longest grows by a tenth (at least one), within
// its limits. It returns the replicas added.
func grow(slots []Slot, a Allocation, out Outcome) int {
	longest := 0.0
	for i := range a {
		if i < len(out.QueueP95Ms) && canGrow(slots, a, i) {
			longest = max(longest, out.QueueP95Ms[i])
		}
	}
	added := 0
	for i := range a {
		if !canGrow(slots, a, i) {
			continue
		}
		q := 0.0
		if i < len(out.QueueP95Ms) {
			q = out.QueueP95Ms[i]
		}
		// With no queue anywhere, capacity is not what fails: grow the busiest slots.
		if longest == 0 {
			if i < len(out.Utilization) && out.Utilization[i] < 0.7 {
				continue
			}
		} else if q < longest/2 {
			continue
		}
		n := max(1, int(math.Ceil(0.1*float64(a[i]))))
		for k := 0; k < n && canGrow(slots, a, i); k++ {
			a[i]++
			added++
		}
	}
	return added
}

// shrinkCandidate picks the slot to lose one replica: among slots above
// their minimum and not known to break an SLO, the one with the lowest
// utilization, ties to the higher price per replica.
func shrinkCandidate(slots []Slot, a Allocation, out Outcome, tried []bool) int {
	idx := -1
	for i := range a {
		if a[i] <= slots[i].Min || tried[i] {
			continue
		}
		if idx < 0 {
			idx = i
			continue
		}
		ui, ub := util(out, i), util(out, idx)
		if ui < ub-1e-9 || (math.Abs(ui-ub) <= 1e-9 && slots[i].PricePerReplicaHour > slots[idx].PricePerReplicaHour) {
			idx = i
		}
	}
	return idx
}

func util(o Outcome, i int) float64 {
	if i < len(o.Utilization) {
		return o.Utilization[i]
	}
	return 0
}

// Tightness is how close an SLO runs to its objective: the percentile's
// value over the objective (1 is at the limit; +Inf when the percentile is
// among requests that never completed).
func Tightness(s SLOResult) float64 {
	if s.MaxMs <= 0 {
		return 0
	}
	return s.ValueMs / s.MaxMs
}

// binding names the plan's limit: a pool at capacity, else the SLO that
// runs closest to its objective.
func binding(slots []Slot, a Allocation, o Outcome) string {
	use := poolUse(slots, a)
	var full []string
	for p, u := range use {
		for _, s := range slots {
			if s.Pool == p && u+s.TP > s.Capacity {
				full = append(full, fmt.Sprintf("site capacity %s (%d of %d GPUs)", p, u, s.Capacity))
				break
			}
		}
	}
	sort.Strings(full)
	best, tight := "", -1.0
	for _, x := range o.SLOs {
		if t := Tightness(x); t > tight {
			best, tight = fmt.Sprintf("%s %s p%g <= %gms (at %.0f%% of it, attainment %.2f%%)", x.Workload, x.Metric, x.Percentile, x.MaxMs, 100*t, 100*x.Attainment), t
		}
	}
	if len(full) > 0 {
		return full[0] + "; tightest SLO " + best
	}
	return best
}

// summarize turns the replications into means and 95% half-widths.
func summarize(outs []Outcome) ([]SLOSummary, bool) {
	all := true
	var res []SLOSummary
	for k := range outs[0].SLOs {
		xs := make([]float64, len(outs))
		met := true
		for r, o := range outs {
			xs[r] = o.SLOs[k].Attainment
			met = met && o.SLOs[k].Met
		}
		mean, sd := stat.MeanStdDev(xs, nil)
		hw := 0.0
		if n := len(xs); n > 1 {
			t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.975)
			hw = t * sd / math.Sqrt(float64(n))
		}
		s := SLOSummary{SLOResult: outs[0].SLOs[k], HalfWidth: hw, MetAll: met}
		s.Attainment = mean
		res = append(res, s)
		all = all && met
	}
	return res, all
}
