package reports

import (
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/results"
)

// TestVerdictsCountLostWork: a strategy that lost more than 5% of a
// workload's requests cannot have the lowest p95, however fast its
// completed requests were; when every strategy lost that much, there is no
// winner.
func TestVerdictsCountLostWork(t *testing.T) {
	mk := func(name string, p95ms float64, arrived, failed int64) results.Strategy {
		return results.Strategy{Name: name, Workloads: []results.Workload{{
			Name: "chat", Kind: "chat",
			Requests: results.Counts{Arrived: arrived, Completed: arrived - failed, Failed: failed},
			E2EMs:    results.Summary{Count: arrived - failed, P95: p95ms},
		}}}
	}
	tests := []struct {
		name string
		ss   []results.Strategy
		want string
	}{
		{"fast but lossy loses", []results.Strategy{mk("a", 1000, 100, 10), mk("b", 2000, 100, 0)},
			"lowest chat p95 e2e:         b (a unbounded (over 5% lost), b 2s)"},
		{"5% lost is still ranked", []results.Strategy{mk("a", 1000, 100, 5), mk("b", 2000, 100, 0)},
			"lowest chat p95 e2e:         a (a 1s, b 2s)"},
		{"all lossy: none", []results.Strategy{mk("a", 1000, 100, 10), mk("b", 2000, 100, 50)},
			"lowest chat p95 e2e:         none ("},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := Verdicts(results.Result{Strategies: tt.ss})
			if len(vs) == 0 || !strings.HasPrefix(vs[0], tt.want) {
				t.Errorf("verdict %q, want it to start with %q", vs, tt.want)
			}
		})
	}
}
