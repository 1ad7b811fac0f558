package check

import "github.com/fleetsim/fleetsim/results"

// fixture is a hand-made result with two strategies, a chat and an agent
// workload; the tests derive every expected value from these numbers.
func fixture() results.Result {
	strategy := func(name string, ttftP95, taskP95 float64, completed int64) results.Strategy {
		v := 1234.5
		return results.Strategy{
			Name: name, Kind: "centralized", GPUs: 8, CostPerHourUSD: 24, Tokens: 1000,
			CostPerMillionTokensUSD: 1.5, Utilization: 0.6, TotalCostPerHourUSD: 24.5,
			SLOsMet: 2, SLOs: 3, PrefixHitRate: 0.25,
			Workloads: []results.Workload{{
				Name: "chat", Kind: "chat",
				Requests: results.Counts{Arrived: 200, Completed: completed, Dropped: 200 - completed},
				Spilled:  50,
				TTFTMs:   results.Summary{Count: 190, Mean: 120, P50: 100, P95: ttftP95, P99: 400, Max: 900},
				SLOs: []results.SLO{
					{Metric: "ttft", Percentile: 95, MaxMs: 500, ValueMs: &v, Attainment: 0.9},
					{Metric: "e2e", Percentile: 95, MaxMs: 20000, ValueMs: &v, Attainment: 0.99, Met: true},
				},
			}, {
				Name: "agent", Kind: "agent",
				Requests: results.Counts{Arrived: 40, Completed: 40},
				Sessions: &results.Counts{Arrived: 10, Completed: 8, Failed: 2},
				TaskS:    &results.Summary{Count: 8, Mean: 30, P50: 25, P95: taskP95, P99: 70, Max: 80},
				SLOs:     []results.SLO{{Metric: "task", Percentile: 90, MaxMs: 60000, Attainment: 0.95, Met: true}},
			}},
		}
	}
	return results.Result{Scenario: "fx", Seed: 1, Strategies: []results.Strategy{
		strategy("central", 300, 60, 190),
		strategy("edge", 150, 45, 200),
	}}
}
