package fleet

import (
	"math"
	"testing"

	"github.com/fleetsim/fleetsim/sim"
	"github.com/fleetsim/fleetsim/workloads"
)

// autoscaleWorld is one site of four replicas (one GPU each at $1/hour)
// under an autoscaler with a constant 30 s cold start, evaluating every
// 10 s with no stabilization, at a target of one call per replica.
func autoscaleWorld(t *testing.T, minReplicas int, arrivals ArrivalProcess, output float64) *World {
	t.Helper()
	w := testWorld{
		rttMs: 0, windowS: 200, replicas: 4,
		est: linearEst{PerToken: 1e-4, Step: 1, KV: 1 << 20, Batch: 8},
		wl: Workload{Name: "chat", Prompt: workloads.Constant{Value: 1000}, Output: workloads.Constant{Value: output},
			MaxContext: 1 << 20, SLOs: []SLO{{Metric: MetricTTFT, Percentile: 50, MaxS: 5}}},
		arrivals: arrivals,
	}.build(t)
	w.Run.Drain = sim.FromSeconds(300)
	w.Strategies[0].Deployments[0].Autoscale = &Autoscale{
		Target: 1, Interval: sim.FromSeconds(10), MinReplicas: minReplicas,
		ProvisioningS: workloads.Constant{Value: 30},
	}
	return w
}

// TestAutoscaleStepUp: one long call from t = 1 s, two more at 50 s. The
// autoscaler releases three idle replicas at 10 s (one call: one replica),
// requests two at 60 s (three calls), which serve from 90 s; when the
// first call ends (about 101 s) the 110 s evaluation releases one, and
// when the others end (about 153 s) the 160 s evaluation releases another.
// Billed replica-seconds in the 200 s window, by hand: replica 0 all 200;
// replica 1 10 + (160 − 60); replica 2 10 + (110 − 60); replica 3 10.
func TestAutoscaleStepUp(t *testing.T) {
	w := autoscaleWorld(t, 1, fixedArrivals{1, 50, 50.5}, 101)
	res, err := Simulate(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	billed := 200.0 + (10 + 100) + (10 + 50) + 10
	site := res.Sites[0]
	if got, want := site.CostPerHourUSD, billed/200; math.Abs(got-want) > 1e-4 {
		t.Errorf("cost %g $/h, want %g (%.0f replica-seconds billed over 200 s)", got, want, billed)
	}
	if got := site.FixedCostPerHourUSD; got != 4 {
		t.Errorf("fixed cost %g $/h, want 4", got)
	}
	if got, want := res.CostSavedPerHourUSD, 4-billed/200; math.Abs(got-want) > 1e-4 {
		t.Errorf("saved %g $/h, want %g", got, want)
	}
	if len(site.ReplicasByHour) != 1 || math.Abs(site.ReplicasByHour[0]-billed/3600) > 1e-5 {
		t.Errorf("replicas by hour %v, want [%g]", site.ReplicasByHour, billed/3600)
	}
	if rq := res.Workloads[0].Requests; rq.Completed != 3 {
		t.Errorf("requests %+v: scale-down must not drop calls", rq)
	}
}

// TestScaleFromZero: with no load the autoscaler releases every replica at
// 10 s. A call at 100 s finds none, starts one (billed from 100 s), waits
// its 30 s cold start, and misses the 5 s TTFT objective. The call ends at
// 130 + 0.1 s prefill + 10 decode steps of 1 s = 140.1 s, so the replica is
// released at the 150 s evaluation. Billed: 4 × 10 + 50.
func TestScaleFromZero(t *testing.T) {
	w := autoscaleWorld(t, 0, fixedArrivals{100}, 11)
	var rec CallRecord
	res, err := SimulateWith(w, 0, Options{OnCall: func(r *CallRecord) { rec = *r }})
	if err != nil {
		t.Fatal(err)
	}
	// TTFT: 30 s cold start + 1,000 prompt tokens at 1e-4 s each.
	if want := 30.1; math.Abs(rec.TTFTS-want) > 1e-5 {
		t.Errorf("TTFT %.6f s, want %.6f s", rec.TTFTS, want)
	}
	wl := res.Workloads[0]
	if wl.ColdStartMisses != 1 {
		t.Errorf("cold-start misses %d, want 1", wl.ColdStartMisses)
	}
	if got, want := res.Sites[0].CostPerHourUSD, (4*10.0+50)/200; math.Abs(got-want) > 1e-4 {
		t.Errorf("cost %g $/h, want %g", got, want)
	}
}

// TestAutoscaleInvariants: a day-shaped load with bursts through an
// autoscaled pool: accounting holds after every event, serving replicas
// are never off or provisioning, and every call completes.
func TestAutoscaleInvariants(t *testing.T) {
	w := testWorld{
		rttMs: 5, windowS: 3600, replicas: 6,
		est: linearEst{PerToken: 2e-5, Step: 0.02, KV: 30000, Batch: 8},
		wl: Workload{Name: "chat", Prompt: workloads.LogNormalMedian(800, 0.7), Output: workloads.LogNormalMedian(200, 0.8),
			MaxContext: 1 << 20},
		arrivals: workloads.Arrivals{PeakRatePerS: 3, Curve: flatCurve(t)},
	}.build(t)
	w.Run.Drain = sim.FromSeconds(3600)
	w.Strategies[0].Deployments[0].Autoscale = &Autoscale{
		Target: 4, Interval: sim.FromSeconds(15), DownWindow: sim.FromSeconds(60), MinReplicas: 1,
		ProvisioningS: workloads.LogNormalMedian(60, 0.5), LoadS: 10, WarmupS: 5,
	}
	e, err := newEngine(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, ok := e.k.Next()
		if !ok {
			break
		}
		e.dispatch(ev)
		checkReplicas(t, e)
		for i := range e.reps {
			r := &e.reps[i]
			if (r.off || r.prov) && (r.active() > 0 || r.busy || r.used != 0) {
				t.Fatalf("replica %d off %v prov %v holds work", i, r.off, r.prov)
			}
		}
	}
	res := e.outcome()
	if rq := res.Workloads[0].Requests; rq.Completed != rq.Arrived || rq.Arrived == 0 {
		t.Errorf("requests %+v: want all completed", rq)
	}
	if res.CostSavedPerHourUSD <= 0 {
		t.Errorf("saved %g $/h: the autoscaler never released a replica", res.CostSavedPerHourUSD)
	}
}
