package check

import (
	"math"
	"sort"
	"strings"

	"github.com/fleetsim/fleetsim/results"
)

// Direction says which way a change of a metric is a regression.
type Direction int

// Directions. A tolerance file may also set Ignored, which leaves a metric
// out of the baseline comparison.
const (
	// HigherIsWorse: latency, cost, energy, failures.
	HigherIsWorse Direction = iota + 1
	// LowerIsWorse: attainment, completions, hit rate, savings.
	LowerIsWorse
	// AnyChange: a change either way beyond tolerance is a regression; for
	// figures that describe the input (arrivals, tokens) or that have no
	// better side on their own (utilization).
	AnyChange
	// Ignored: never compared.
	Ignored
)

// String returns higher, lower, either or none: the words a tolerance
// file uses.
func (d Direction) String() string {
	switch d {
	case HigherIsWorse:
		return "higher"
	case LowerIsWorse:
		return "lower"
	case AnyChange:
		return "either"
	case Ignored:
		return "none"
	}
	return "unknown"
}

// AllPrefix starts a metric name that stands for every strategy in turn.
const AllPrefix = "all."

// Metric is one named number of a result.
type Metric struct {
	// Name is "<strategy>.<metric>" or "<strategy>.<workload>.<metric>".
	Name string
	// Value is in the unit its name ends with (_ms, _s, _usd, _kwh, ...);
	// counts, shares and rates have no unit suffix (shares are 0 to 1).
	Value float64
	// Worse says which way a change is a regression.
	Worse Direction
}

// Set is every metric of one result, for lookup by name.
type Set struct {
	list       []Metric // sorted by name
	index      map[string]int
	strategies []string // in result order
}

// Collect names every metric of res. Absent optional fields (omitempty in
// the JSON) count as 0; shares over nothing are defined in docs/check.md.
func Collect(res results.Result) *Set {
	s := &Set{index: map[string]int{}}
	for _, st := range res.Strategies {
		s.strategies = append(s.strategies, st.Name)
		p := st.Name + "."
		add := func(name string, v float64, d Direction) {
			s.list = append(s.list, Metric{Name: p + name, Value: v, Worse: d})
		}
		add("cost_per_hour_usd", st.CostPerHourUSD, HigherIsWorse)
		add("cost_per_million_tokens_usd", st.CostPerMillionTokensUSD, HigherIsWorse)
		add("total_cost_per_hour_usd", st.TotalCostPerHourUSD, HigherIsWorse)
		add("energy_cost_per_hour_usd", st.EnergyCostPerHourUSD, HigherIsWorse)
		add("egress_cost_per_hour_usd", st.EgressCostPerHourUSD, HigherIsWorse)
		add("gpus", float64(st.GPUs), HigherIsWorse)
		add("tokens", float64(st.Tokens), AnyChange)
		add("utilization", st.Utilization, AnyChange)
		add("slos_met", float64(st.SLOsMet), LowerIsWorse)
		add("slos", float64(st.SLOs), AnyChange)
		minAtt := 1.0
		for _, w := range st.Workloads {
			for _, o := range w.SLOs {
				minAtt = math.Min(minAtt, o.Attainment)
			}
		}
		add("slo_attainment", minAtt, LowerIsWorse)
		add("energy_kwh", st.EnergyKWh, HigherIsWorse)
		add("mean_power_kw", st.MeanPowerKW, HigherIsWorse)
		add("egress_gb", st.EgressGB, HigherIsWorse)
		add("carbon_kg", st.CarbonKg, HigherIsWorse)
		add("preemptions", float64(st.Preemptions), HigherIsWorse)
		add("prefix_hit_rate", st.PrefixHitRate, LowerIsWorse)
		add("cost_saved_per_hour_usd", st.CostSavedPerHourUSD, LowerIsWorse)
		for _, w := range st.Workloads {
			wp := w.Name + "."
			addSummary := func(sum results.Summary, metric string) {
				add(wp+"p50_"+metric, sum.P50, HigherIsWorse)
				add(wp+"p95_"+metric, sum.P95, HigherIsWorse)
				add(wp+"p99_"+metric, sum.P99, HigherIsWorse)
				add(wp+"mean_"+metric, sum.Mean, HigherIsWorse)
				add(wp+"max_"+metric, sum.Max, HigherIsWorse)
			}
			addSummary(w.TTFTMs, "ttft_ms")
			addSummary(w.TPOTMs, "tpot_ms")
			addSummary(w.E2EMs, "e2e_ms")
			if w.TaskS != nil {
				addSummary(*w.TaskS, "task_s")
			}
			addCounts := func(c results.Counts, prefix string) {
				add(wp+prefix+"_arrived", float64(c.Arrived), AnyChange)
				add(wp+prefix+"_completed", float64(c.Completed), LowerIsWorse)
				add(wp+prefix+"_failed", float64(c.Failed), HigherIsWorse)
				add(wp+prefix+"_timed_out", float64(c.TimedOut), HigherIsWorse)
				add(wp+prefix+"_dropped", float64(c.Dropped), HigherIsWorse)
				add(wp+prefix+"_in_flight", float64(c.InFlight), HigherIsWorse)
				rate := 1.0 // nothing arrived, nothing lost
				if c.Arrived > 0 {
					rate = float64(c.Completed) / float64(c.Arrived)
				}
				name := "completion_rate"
				if prefix != "requests" {
					name = prefix + "_completion_rate"
				}
				add(wp+name, rate, LowerIsWorse)
			}
			addCounts(w.Requests, "requests")
			add(wp+"requests_retries", float64(w.Requests.Retries), HigherIsWorse)
			if w.Sessions != nil {
				addCounts(*w.Sessions, "sessions")
			}
			minAtt := 1.0
			for _, o := range w.SLOs {
				minAtt = math.Min(minAtt, o.Attainment)
			}
			add(wp+"slo_attainment", minAtt, LowerIsWorse)
			share := 0.0
			if w.Requests.Arrived > 0 {
				share = float64(w.Spilled) / float64(w.Requests.Arrived)
			}
			add(wp+"spilled", float64(w.Spilled), HigherIsWorse)
			add(wp+"spilled_share", share, HigherIsWorse)
			add(wp+"cold_start_misses", float64(w.ColdStartMisses), HigherIsWorse)
		}
	}
	// A stable sort keeps the first of two equal names (possible only when
	// a strategy or workload name contains a dot); the index keeps it too.
	sort.SliceStable(s.list, func(i, j int) bool { return s.list[i].Name < s.list[j].Name })
	for i, m := range s.list {
		if _, dup := s.index[m.Name]; !dup {
			s.index[m.Name] = i
		}
	}
	return s
}

// Metrics returns every metric, sorted by name.
func (s *Set) Metrics() []Metric {
	return append([]Metric(nil), s.list...)
}

// Lookup returns the metric of that name.
func (s *Set) Lookup(name string) (Metric, bool) {
	i, ok := s.index[name]
	if !ok {
		return Metric{}, false
	}
	return s.list[i], true
}

// Strategies returns the strategy names, in result order.
func (s *Set) Strategies() []string {
	return append([]string(nil), s.strategies...)
}

// Suggest returns the known name (or all.-name) closest to name in edit
// distance, or "" when none is close: within 2 edits, or a quarter of the
// name's length for long names. Ties go to the alphabetically first.
func (s *Set) Suggest(name string) string {
	var cands []string
	seen := map[string]bool{}
	for _, m := range s.list {
		cands = append(cands, m.Name)
		for _, st := range s.strategies {
			if rest, ok := strings.CutPrefix(m.Name, st+"."); ok && !seen[rest] {
				seen[rest] = true
				cands = append(cands, AllPrefix+rest)
			}
		}
	}
	sort.Strings(cands)
	limit := max(2, len([]rune(name))/4)
	best, bestD := "", limit+1
	for _, c := range cands {
		if d := editDistance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
