package check

import (
	"sort"
	"testing"

	"github.com/fleetsim/fleetsim/results"
)

func TestCollect(t *testing.T) {
	s := Collect(fixture())
	tests := []struct {
		name  string
		want  float64
		worse Direction
	}{
		{"central.gpus", 8, HigherIsWorse},
		{"central.cost_per_hour_usd", 24, HigherIsWorse},
		{"central.utilization", 0.6, AnyChange},
		{"central.prefix_hit_rate", 0.25, LowerIsWorse},
		// min over the strategy's three SLOs: 0.9, 0.99, 0.95
		{"central.slo_attainment", 0.9, LowerIsWorse},
		{"central.chat.p95_ttft_ms", 300, HigherIsWorse},
		{"edge.chat.p95_ttft_ms", 150, HigherIsWorse},
		{"central.chat.max_ttft_ms", 900, HigherIsWorse},
		// 190 completed of 200 arrived
		{"central.chat.completion_rate", 0.95, LowerIsWorse},
		{"central.chat.requests_dropped", 10, HigherIsWorse},
		{"central.chat.requests_arrived", 200, AnyChange},
		// 50 spilled of 200 arrived
		{"central.chat.spilled_share", 0.25, HigherIsWorse},
		// min of 0.9 and 0.99
		{"central.chat.slo_attainment", 0.9, LowerIsWorse},
		{"central.agent.p95_task_s", 60, HigherIsWorse},
		{"edge.agent.p95_task_s", 45, HigherIsWorse},
		// 8 of 10 sessions
		{"central.agent.sessions_completion_rate", 0.8, LowerIsWorse},
		{"central.agent.sessions_failed", 2, HigherIsWorse},
		{"central.carbon_kg", 0, HigherIsWorse}, // absent in the JSON: 0
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := s.Lookup(tt.name)
			if !ok {
				t.Fatalf("no metric %s", tt.name)
			}
			if m.Value != tt.want || m.Worse != tt.worse {
				t.Errorf("got %v (%v is worse), want %v (%v is worse)", m.Value, m.Worse, tt.want, tt.worse)
			}
		})
	}
	for _, absent := range []string{"central.chat.p95_task_s", "central.chat.sessions_arrived", "all.gpus", "central.agent.completion_rate_x"} {
		if _, ok := s.Lookup(absent); ok {
			t.Errorf("metric %s exists, want none (chat has no tasks or sessions; all. is not a stored name)", absent)
		}
	}
	ms := s.Metrics()
	if !sort.SliceIsSorted(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name }) {
		t.Error("Metrics is not sorted by name")
	}
	for _, m := range ms {
		if m.Worse < HigherIsWorse || m.Worse > AnyChange {
			t.Errorf("%s: direction %v, want higher, lower or either", m.Name, m.Worse)
		}
	}
}

func TestCompletionRateOfNothing(t *testing.T) {
	res := fixture()
	res.Strategies[0].Workloads[0].Requests = results.Counts{}
	s := Collect(res)
	// Nothing arrived, so nothing was lost: 1; and nothing spilled: 0.
	if m, _ := s.Lookup("central.chat.completion_rate"); m.Value != 1 {
		t.Errorf("completion_rate of nothing: got %v, want 1", m.Value)
	}
	if m, _ := s.Lookup("central.chat.spilled_share"); m.Value != 0 {
		t.Errorf("spilled_share of nothing: got %v, want 0", m.Value)
	}
}

func TestSuggest(t *testing.T) {
	s := Collect(fixture())
	tests := []struct{ in, want string }{
		{"edge.agnt.p95_task_s", "edge.agent.p95_task_s"},
		{"all.chat.p95_ttft", "all.chat.p95_ttft_ms"},
		{"central.gpu", "central.gpus"},
		{"zzzz", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := s.Suggest(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"agnt", "agent", 1}, {"héllo", "hello", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q): got %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
