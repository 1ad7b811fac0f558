package world

import (
	"math"
	"testing"

	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/scenarios"
)

func TestApportion(t *testing.T) {
	cases := []struct {
		n int
		w []float64
	}{
		{10, []float64{1, 1, 1}},
		{24, []float64{5, 3, 0.1, 0}},
		{7, []float64{0, 0}},
		{3, []float64{9, 1, 1}},
		{100, []float64{0.3, 0.3, 0.4}},
	}
	for _, tc := range cases {
		got := apportion(tc.n, tc.w)
		sum, wsum := 0, 0.0
		for _, v := range tc.w {
			wsum += v
		}
		for i, v := range got {
			sum += v
			if v < 1 {
				t.Errorf("apportion(%d, %v)[%d] = %d, want >= 1", tc.n, tc.w, i, v)
			}
			// Largest remainder: each share is within 1 of its exact quota
			// of the replicas left after the one-per-site minimum.
			if wsum > 0 {
				exact := 1 + float64(tc.n-len(tc.w))*tc.w[i]/wsum
				if math.Abs(float64(v)-exact) >= 1 {
					t.Errorf("apportion(%d, %v)[%d] = %d, exact share %.2f", tc.n, tc.w, i, v, exact)
				}
			}
		}
		if sum != tc.n {
			t.Errorf("apportion(%d, %v) = %v sums to %d", tc.n, tc.w, got, sum)
		}
	}
}

func TestBuildDefaultScenario(t *testing.T) {
	s, err := scenarios.Open("global-agentic")
	if err != nil {
		t.Fatal(err)
	}
	w, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	// Every strategy places exactly the GPUs its deployments ask for.
	for si, st := range w.Strategies {
		for di, d := range st.Deployments {
			gpus := 0
			for _, p := range d.Placements {
				gpus += p.Replicas * d.TP
			}
			if want := s.Spec.Strategies[si].Deployments[di].GPUs; gpus != want {
				t.Errorf("%s deployment %d places %d GPUs, want %d", st.Name, di, gpus, want)
			}
		}
	}
	// Users sit at their catalog places; the matrix is symmetric.
	for i := range w.Locations {
		for j := range w.Locations {
			if w.RTT.RTTMs(i, j) != w.RTT.RTTMs(j, i) {
				t.Fatalf("RTT(%d,%d) != RTT(%d,%d)", i, j, j, i)
			}
		}
	}
	// Demand split: the three-region strategy gives ap-southeast (nearest
	// to Mumbai, Tokyo and Sydney) more than one replica.
	for _, st := range w.Strategies {
		if st.Name != "regional" {
			continue
		}
		for _, p := range st.Deployments[0].Placements {
			if w.Sites[p.Site].Name == "ap-southeast" && p.Replicas < 4 {
				t.Errorf("ap-southeast gets %d replicas, want its share of Asian demand", p.Replicas)
			}
		}
	}
}

// BenchmarkDefaultScenario simulates the default scenario's centralized
// strategy (one simulated day) and reports simulated model calls and events
// per wall-clock second, and heap bytes allocated per simulated call.
func BenchmarkDefaultScenario(b *testing.B) {
	s, err := scenarios.Open("global-agentic")
	if err != nil {
		b.Fatal(err)
	}
	w, err := Build(s)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var calls, events, sessions int64
	for i := 0; i < b.N; i++ {
		res, err := fleet.Simulate(w, 0)
		if err != nil {
			b.Fatal(err)
		}
		events += int64(res.Events)
		for _, wl := range res.Workloads {
			calls += wl.Requests.Arrived
			if wl.Sessions != nil {
				sessions += wl.Sessions.Arrived
			}
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(calls)/sec, "calls/s")
	b.ReportMetric(float64(events)/sec, "events/s")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	b.ReportMetric(float64(sessions)/float64(b.N), "sessions/op")
}
