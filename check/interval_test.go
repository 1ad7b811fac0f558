package check

import (
	"testing"

	"github.com/fleetsim/fleetsim/results"
)

// setOf builds a metric set of one strategy "s" with a given cost per hour.
func setOf(cost float64) *Set {
	return Collect(results.Result{Strategies: []results.Strategy{{Name: "s", CostPerHourUSD: cost}}})
}

// TestEvalCI: comparisons hold only when the 95% intervals say so. With
// costs 10, 12 and 14 the mean is 12 and the half-width is
// t(0.975, 2) × 2 / √3 = 4.303 × 1.1547 = 4.968, so the interval is
// [7.03, 16.97] (worked out by hand).
func TestEvalCI(t *testing.T) {
	sets := []*Set{setOf(10), setOf(12), setOf(14)}
	tests := []struct {
		src  string
		want bool
	}{
		{"s.cost_per_hour_usd < 17", true},
		{"s.cost_per_hour_usd < 16.9", false},
		{"s.cost_per_hour_usd > 7", true},
		{"s.cost_per_hour_usd > 7.1", false},
		{"s.cost_per_hour_usd == 16", true},  // 16 is inside the interval
		{"s.cost_per_hour_usd != 16", false}, // cannot say it differs
		{"s.cost_per_hour_usd != 20", true},
		{"s.cost_per_hour_usd * 2 < 34", true}, // [14.06, 33.94]
		{"s.cost_per_hour_usd - 12 < 5", true}, // [-4.97, 4.97]
		{"not (s.cost_per_hour_usd < 10)", true},
	}
	for _, tt := range tests {
		e, err := Parse(tt.src)
		if err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		out, err := e.EvalCI(sets)
		if err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		if out.Pass != tt.want {
			t.Errorf("%s: got %v, want %v (interval %+v)", tt.src, out.Pass, tt.want, out.Cases[0].Values)
		}
	}
	// Identical replications give a zero-width interval: plain comparison.
	same := []*Set{setOf(12), setOf(12)}
	e, _ := Parse("s.cost_per_hour_usd < 12.01")
	if out, _ := e.EvalCI(same); !out.Pass {
		t.Errorf("zero-width interval: 12 < 12.01 should hold")
	}
}
