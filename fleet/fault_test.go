package fleet

import (
	"math"
	"testing"

	"github.com/fleetsim/fleetsim/sim"
	"github.com/fleetsim/fleetsim/topology"
	"github.com/fleetsim/fleetsim/workloads"
)

// twoSites is a world with users at location 0, site "near" (zone a,
// location 1, nearRTT ms away) and site "far" (zone b, location 2, farRTT
// ms away), a tool at the far site, one workload and faults.
type twoSites struct {
	nearRTT, farRTT float64
	replicas        int // per site
	est             linearEst
	wl              Workload
	arrivals        ArrivalProcess
	windowS         float64
	faults          []Fault
}

func (ts twoSites) build(t *testing.T) *World {
	t.Helper()
	places := []topology.Place{{Name: "users", Lat: 0, Lon: 0}, {Name: "near", Lat: 1, Lon: 1}, {Name: "far", Lat: 2, Lon: 2}}
	meas := []topology.Measurement{
		{From: "users", To: "near", RTTMs: ts.nearRTT}, {From: "users", To: "far", RTTMs: ts.farRTT},
		{From: "near", To: "far", RTTMs: ts.farRTT},
	}
	x, err := topology.NewMatrix(places, topology.Model{BaseRTTMs: 0, PathInflation: 1, FiberKmPerMs: 200, SameSiteRTTMs: 0}, meas)
	if err != nil {
		t.Fatal(err)
	}
	if ts.replicas == 0 {
		ts.replicas = 1
	}
	return &World{
		Name: "two", Locations: places, RTT: x,
		Net:       Network{SiteBytesPerS: 1e12, AccessBytesPerS: 1e12},
		Sites:     []Site{{Name: "near", Loc: 1, Kind: topology.Core, Zone: "a"}, {Name: "far", Loc: 2, Kind: topology.Core, Zone: "b"}},
		Users:     []UserGroup{{Name: "users", Loc: 0, Zone: "a", EdgeLoc: -1, Loads: []Load{{Workload: 0, Arrivals: ts.arrivals}}}},
		Tools:     []Tool{{Name: "tool", Loc: 2, ServiceMs: workloads.Constant{Value: 100}}},
		Workloads: []Workload{ts.wl},
		Strategies: []Strategy{{
			Name: "both", Kind: "regional", MaxQueuePerReplica: 1 << 20,
			Deployments: []Deployment{{
				Model: "m", GPU: "g", TP: 1, Estimator: ts.est, Serves: []bool{true},
				Placements: []Placement{{Site: 0, Replicas: ts.replicas, PricePerGPUHourUSD: 1}, {Site: 1, Replicas: ts.replicas, PricePerGPUHourUSD: 1}},
			}},
		}},
		Run:    RunParams{Window: sim.FromSeconds(ts.windowS), Drain: sim.FromSeconds(3600), Seed: 3},
		Faults: ts.faults,
	}
}

func fault(name string, kind FaultKind, startS, endS float64) Fault {
	return Fault{Name: name, Kind: kind, Start: sim.FromSeconds(startS), End: sim.FromSeconds(endS), Site: -1, Tool: -1, LocA: -1, LocB: -1}
}

func chatWL(prompt, output float64, retry Retry) Workload {
	return Workload{Name: "chat", Prompt: workloads.Constant{Value: prompt}, Output: workloads.Constant{Value: output},
		MaxContext: 1 << 20, Retry: retry}
}

// TestFailoverWhileSiteDown: a request sent while the near site is down
// goes to the far site and pays its round trip; one sent after the site
// is back is served near again.
func TestFailoverWhileSiteDown(t *testing.T) {
	const perToken, stepS = 1e-4, 0.01
	down := fault("near-down", SiteDown, 5, 20)
	down.Site = 0
	w := twoSites{nearRTT: 10, farRTT: 100, est: linearEst{PerToken: perToken, Step: stepS, KV: 1 << 20, Batch: 8},
		wl:       chatWL(1000, 11, Retry{Attempts: 3, BackoffS: 1}),
		arrivals: fixedArrivals{10, 30}, windowS: 60, faults: []Fault{down}}.build(t)
	var recs []CallRecord
	res, err := SimulateWith(w, 0, Options{OnCall: func(r *CallRecord) { recs = append(recs, *r) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d calls, want 2", len(recs))
	}
	service := 1000*perToken + 10*stepS
	for i, c := range []struct {
		site string
		rtt  float64
	}{{"far", 0.100}, {"near", 0.010}} {
		if recs[i].Site != c.site {
			t.Errorf("call %d served at %s, want %s", i, recs[i].Site, c.site)
		}
		if want := c.rtt + service; math.Abs(recs[i].E2ES-want) > 3e-6 {
			t.Errorf("call %d: e2e %.6f s, want %.6f s", i, recs[i].E2ES, want)
		}
	}
	f := res.Faults[0]
	if f.Name != "near-down" || f.Workloads[0].Requests.Arrived != 1 || f.Workloads[0].Requests.Completed != 1 || f.ReplicasDown != 1 {
		t.Errorf("fault report %+v: want the one call in its window, completed, and 1 replica down", f)
	}
}

// TestRetryAfterReplicaLoss: the near site goes down while its replica is
// decoding a request. The caller learns half a round trip later, waits its
// backoff, and resends; the far site serves it. The request completes late,
// with one retry, and its latency counts from the first attempt.
func TestRetryAfterReplicaLoss(t *testing.T) {
	const perToken, stepS, backoff = 1e-4, 0.01, 0.5
	// Sent at 1 s, reaches the near site at 1.005 s, prefill 0.1 s, then 100
	// decode steps: the site goes down at 1.5 s, mid-decode.
	down := fault("near-down", SiteDown, 1.5, 100)
	down.Site = 0
	w := twoSites{nearRTT: 10, farRTT: 100, est: linearEst{PerToken: perToken, Step: stepS, KV: 1 << 20, Batch: 8},
		wl:       chatWL(1000, 101, Retry{Attempts: 3, BackoffS: backoff}),
		arrivals: fixedArrivals{1}, windowS: 60, faults: []Fault{down}}.build(t)
	res, err := Simulate(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	rq := res.Workloads[0].Requests
	if rq.Completed != 1 || rq.Retries != 1 || rq.CompletedAfterRetry != 1 || rq.Failed != 0 {
		t.Fatalf("requests %+v: want 1 completed after 1 retry", rq)
	}
	// Failure at 1.5 s, learnt at 1.505 s, resent at 2.005 s, then the far
	// site's round trip and the whole service again.
	want := 2.005 - 1 + 0.100 + 1000*perToken + 100*stepS
	if got := res.Workloads[0].E2EMs.Mean / 1000; math.Abs(got-want) > 1e-5 {
		// The histogram mean is exact; allow only rounding of the event times.
		t.Errorf("e2e %.6f s, want %.6f s", got, want)
	}
	// Thrown away: the 1,000 prefilled tokens, the first token, and the 39
	// decode steps finished between 1.105 s and 1.5 s.
	if lost := res.Faults[0].LostTokens; lost != 1000+1+39 {
		t.Errorf("lost tokens %d, want 1040", lost)
	}
}

// TestResidencyNeverBroken: a workload confined to zone a may only use the
// near site; while it is down, calls fail (after their retries) rather
// than be served in zone b.
func TestResidencyNeverBroken(t *testing.T) {
	down := fault("near-down", SiteDown, 0, 1000)
	down.Site = 0
	wl := chatWL(100, 5, Retry{Attempts: 2, BackoffS: 0.1})
	wl.Zone = "a"
	w := twoSites{nearRTT: 10, farRTT: 20, est: linearEst{PerToken: 1e-5, Step: 0.001, KV: 1 << 20, Batch: 8},
		wl: wl, arrivals: fixedArrivals{10, 20, 30}, windowS: 60, faults: []Fault{down}}.build(t)
	var served []string
	res, err := SimulateWith(w, 0, Options{OnCall: func(r *CallRecord) {
		if !r.Dropped {
			served = append(served, r.Site)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(served) != 0 {
		t.Errorf("served at %v while the only site in zone a was down", served)
	}
	if rq := res.Workloads[0].Requests; rq.Failed != 3 || rq.Retries != 3 {
		t.Errorf("requests %+v: want 3 failed after 1 retry each", rq)
	}
}

// TestTimeoutAbandons: a replica too slow for the timeout; every attempt
// is abandoned, the request times out after its attempts, and the
// abandoned attempts leave nothing behind.
func TestTimeoutAbandons(t *testing.T) {
	w := twoSites{nearRTT: 10, farRTT: 20, est: linearEst{PerToken: 1e-5, Step: 0.1, KV: 1 << 20, Batch: 8},
		wl:       chatWL(100, 50, Retry{Attempts: 2, BackoffS: 0.5, TimeoutS: 2}),
		arrivals: fixedArrivals{1, 2, 3}, windowS: 60}.build(t)
	w.Run.Drain = sim.FromSeconds(100)
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
	}
	res := e.outcome()
	if rq := res.Workloads[0].Requests; rq.TimedOut != 3 || rq.Completed != 0 || rq.InFlight != 0 || rq.Retries != 3 {
		t.Errorf("requests %+v: want 3 timed out, 1 retry each, none in flight", rq)
	}
	for i := range e.calls {
		if e.calls[i].wl >= 0 {
			t.Errorf("call slot %d still live (abandoned %v)", i, e.calls[i].abandoned)
		}
	}
	for i := range e.reps {
		if r := &e.reps[i]; r.used != 0 || r.active() != 0 {
			t.Errorf("replica %d holds %d blocks and %d calls after the run", i, r.used, r.active())
		}
	}
}

// TestFaultInvariants runs a loaded chat and agent mix through node loss,
// a site outage, a degraded and a cut link, a tool outage and timeouts,
// checking replica accounting after every event and, at the end, that
// every request and session that arrived is completed, failed, timed out,
// dropped or in flight, with nothing left in flight after the drain.
func TestFaultInvariants(t *testing.T) {
	for _, agent := range []bool{false, true} {
		name := "chat"
		if agent {
			name = "agent"
		}
		t.Run(name, func(t *testing.T) {
			wl := chatWL(0, 0, Retry{Attempts: 3, BackoffS: 0.2, TimeoutS: 30})
			wl.Prompt, wl.Output = workloads.LogNormalMedian(800, 0.6), workloads.LogNormalMedian(150, 0.8)
			rate := 20.0
			if agent {
				wl = Workload{Name: "agent", Agent: true, Persistent: true, MaxContext: 30000,
					Steps: workloads.Constant{Value: 4}, InitialPrompt: workloads.LogNormalMedian(2000, 0.5),
					StepOutput: workloads.LogNormalMedian(100, 0.7), ToolResult: workloads.LogNormalMedian(300, 0.5),
					Tools: []ToolCall{{Tool: 0, Probability: 0.7}}, Retry: Retry{Attempts: 3, BackoffS: 0.2, TimeoutS: 30}}
				rate = 2
			}
			loss := fault("half", NodeLoss, 60, 200)
			loss.Site, loss.Fraction = 1, 0.5
			site := fault("near-down", SiteDown, 100, 160)
			site.Site = 0
			slow := fault("slow", LinkDegraded, 40, 300)
			slow.LocA, slow.LocB, slow.AddRTTMs, slow.Loss = 0, 2, 50, 0.1
			cut := fault("cut", LinkCut, 220, 260)
			cut.LocA, cut.LocB = 0, 1
			tool := fault("tool", ToolOutage, 150, 180)
			tool.Tool = 0
			w := twoSites{nearRTT: 10, farRTT: 60, replicas: 2, est: linearEst{PerToken: 2e-5, Step: 0.01, KV: 40000, Batch: 8},
				wl: wl, arrivals: workloads.Arrivals{PeakRatePerS: rate, Curve: flatCurve(t)}, windowS: 400,
				faults: []Fault{loss, site, slow, cut, tool}}.build(t)
			e, err := newEngine(w, 0)
			if err != nil {
				t.Fatal(err)
			}
			events := 0
			for {
				ev, ok := e.k.Next()
				if !ok {
					break
				}
				e.dispatch(ev)
				checkReplicas(t, e)
				for i := range e.reps {
					if r := &e.reps[i]; r.down > 0 && (r.active() > 0 || r.used != 0 || r.busy) {
						t.Fatalf("replica %d is down but holds %d calls, %d blocks, busy %v", i, r.active(), r.used, r.busy)
					}
				}
				events++
			}
			res := e.outcome()
			wr := res.Workloads[0]
			rq := wr.Requests
			if got := rq.Completed + rq.Failed + rq.TimedOut + rq.Dropped + rq.InFlight; got != rq.Arrived {
				t.Errorf("requests %+v: completed+failed+timedOut+dropped+inFlight = %d, arrived %d", rq, got, rq.Arrived)
			}
			if rq.InFlight != 0 {
				t.Errorf("requests %+v: in flight after a one-hour drain", rq)
			}
			if rq.Retries == 0 || rq.Failed+rq.CompletedAfterRetry == 0 {
				t.Errorf("requests %+v: the faults caused no retries or failures", rq)
			}
			if agent {
				s := wr.Sessions
				if got := s.Completed + s.Failed + s.Dropped + s.InFlight; got != s.Arrived || s.InFlight != 0 {
					t.Errorf("sessions %+v: do not add up to arrivals with none in flight", *s)
				}
				if s.Failed == 0 {
					t.Errorf("sessions %+v: a 30 s tool outage with 0.6 s of retries failed no session", *s)
				}
				t.Logf("sessions %+v", *s)
			}
			if len(res.Faults) != 5 || res.Faults[0].ReplicasDown != 1 || res.Faults[1].ReplicasDown < 2 {
				t.Errorf("fault reports %+v", res.Faults)
			}
			for _, f := range res.Faults {
				c := f.Workloads[0].Requests
				if got := c.Completed + c.Failed + c.TimedOut + c.Dropped + c.InFlight; got != c.Arrived {
					t.Errorf("fault %s: %+v do not add up", f.Name, c)
				}
			}
			t.Logf("%d events; requests %+v", events, rq)
		})
	}
}
