package fleet

import (
	"github.com/fleetsim/fleetsim/serving"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fleetsim/fleetsim/queueing"
	"github.com/fleetsim/fleetsim/sim"
	"github.com/fleetsim/fleetsim/topology"
	"github.com/fleetsim/fleetsim/workloads"
)

// linearEst is a serving model with hand-checkable times: an iteration
// costs PerToken seconds per prompt token, plus Step seconds when it has
// decoding sequences. It draws 1 W when busy and IdleW when idle.
type linearEst struct {
	PerToken, Step float64
	KV, Batch      int
	IdleW          float64
}

func (l linearEst) StepSeconds(b serving.Batch) float64 {
	s := float64(b.PrefillTokens) * l.PerToken
	if b.DecodeSeqs > 0 {
		s += l.Step
	}
	return s
}
func (l linearEst) StepEnergy(b serving.Batch) (float64, float64) {
	s := l.StepSeconds(b)
	return s, s
}
func (l linearEst) DecodeRun(_, _, steps int) (float64, float64) {
	s := float64(steps) * l.Step
	return s, s
}
func (l linearEst) IdleWatts() float64    { return l.IdleW }
func (l linearEst) KVCapacityTokens() int { return l.KV }
func (l linearEst) MaxBatch() int         { return l.Batch }

// fixedArrivals arrives at the given times (seconds), then never.
type fixedArrivals []float64

func (f fixedArrivals) Next(t float64, _ *rand.Rand) float64 {
	for _, a := range f {
		if a > t {
			return a
		}
	}
	return math.Inf(1)
}

func flatCurve(t *testing.T) workloads.Curve {
	t.Helper()
	ones := make([]float64, 24)
	for i := range ones {
		ones[i] = 1
	}
	c, err := workloads.NewHourlyCurve(ones)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testWorld is one site and one user group. With rttMs < 0 the user sits at
// the site and the network costs nothing; otherwise the two are rttMs apart.
type testWorld struct {
	rttMs, accessMs float64
	handshakes      int
	bytesPerToken   float64
	accessBps       float64
	replicas        int
	est             linearEst
	wl              Workload
	arrivals        ArrivalProcess
	windowS         float64
	tools           []Tool
	toolRTTMs       float64
}

func (tw testWorld) build(t *testing.T) *World {
	t.Helper()
	places := []topology.Place{{Name: "site", Lat: 10, Lon: 10}}
	var meas []topology.Measurement
	userLoc := 0
	if tw.rttMs >= 0 {
		places = append(places, topology.Place{Name: "users", Lat: 20, Lon: 20})
		meas = append(meas, topology.Measurement{From: "site", To: "users", RTTMs: tw.rttMs})
		userLoc = 1
	}
	toolLoc := len(places)
	if len(tw.tools) > 0 {
		places = append(places, topology.Place{Name: "toolplace", Lat: 30, Lon: 30})
		meas = append(meas, topology.Measurement{From: "toolplace", To: "users", RTTMs: tw.toolRTTMs},
			topology.Measurement{From: "toolplace", To: "site", RTTMs: 1})
		for i := range tw.tools {
			tw.tools[i].Loc = toolLoc
		}
	}
	m := topology.Model{BaseRTTMs: 0, PathInflation: 1, FiberKmPerMs: 200, SameSiteRTTMs: 0}
	x, err := topology.NewMatrix(places, m, meas)
	if err != nil {
		t.Fatal(err)
	}
	if tw.replicas == 0 {
		tw.replicas = 1
	}
	bps := tw.accessBps
	if bps == 0 {
		bps = 1e12
	}
	return &World{
		Name: "test", Locations: places, RTT: x,
		Net:       Network{HandshakeRTTs: tw.handshakes, SiteBytesPerS: 1e12, AccessBytesPerS: bps, BytesPerToken: tw.bytesPerToken},
		Sites:     []Site{{Name: "site", Loc: 0, Kind: topology.Core}},
		Users:     []UserGroup{{Name: "users", Loc: userLoc, AccessRTTMs: tw.accessMs, EdgeLoc: -1, Loads: []Load{{Workload: 0, Arrivals: tw.arrivals}}}},
		Tools:     tw.tools,
		Workloads: []Workload{tw.wl},
		Strategies: []Strategy{{
			Name: "only", Kind: "centralized", MaxQueuePerReplica: 1 << 20,
			Deployments: []Deployment{{
				Model: "m", GPU: "g", TP: 1, Estimator: tw.est, Serves: []bool{true},
				Placements: []Placement{{Site: 0, Replicas: tw.replicas, PricePerGPUHourUSD: 1}},
			}},
		}},
		Run: RunParams{Window: sim.FromSeconds(tw.windowS), Drain: sim.FromSeconds(tw.windowS), Seed: 7},
	}
}

// TestMMcMeanWait checks the simulator against queueing theory: with no
// network, one request at a time per replica and exponential service, the
// mean wait must match the M/M/c formula.
func TestMMcMeanWait(t *testing.T) {
	if testing.Short() {
		t.Skip("long reference run")
	}
	// Service: prompt tokens ~ exponential with mean 10,000 at 100 µs per
	// token gives exponential service with mean 1 s (rounding tokens to
	// integers changes the mean by 1e-4 relative).
	const mu = 1.0
	cases := []struct {
		c       int
		rho     float64
		windowS float64
		tol     float64 // relative; the standard error of the mean wait grows as 1/(1-ρ)
	}{
		{1, 0.3, 100000, 0.06},
		{1, 0.5, 100000, 0.06},
		{1, 0.8, 300000, 0.10},
		{4, 0.5, 50000, 0.08},
		{4, 0.8, 100000, 0.10},
	}
	for _, tc := range cases {
		lambda := tc.rho * float64(tc.c) * mu
		w := testWorld{
			rttMs: -1, replicas: tc.c, windowS: tc.windowS,
			est:      linearEst{PerToken: 1e-4, KV: 1 << 30, Batch: 1},
			wl:       Workload{Name: "q", Prompt: workloads.Exponential{Rate: 1.0 / 10000}, Output: workloads.Constant{Value: 1}},
			arrivals: workloads.Arrivals{PeakRatePerS: lambda, Curve: flatCurve(t)},
		}.build(t)
		var sumWait float64
		var n int
		_, err := SimulateWith(w, 0, Options{OnCall: func(r *CallRecord) {
			if r.Measured && !r.Dropped {
				sumWait += r.Admitted - r.AtServer
				n++
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		got := sumWait / float64(n)
		want, err := queueing.MMcWait(tc.c, lambda, mu)
		if err != nil {
			t.Fatal(err)
		}
		if rel := math.Abs(got-want) / want; rel > tc.tol {
			t.Errorf("M/M/%d at ρ=%.1f: mean wait %.4f s over %d requests, want %.4f s (±%.0f%%), off by %.1f%%",
				tc.c, tc.rho, got, n, want, 100*tc.tol, 100*rel)
		}
	}
}

// TestSingleRequestExact: one request on an idle fleet takes exactly
// handshakes + propagation + upload + prefill + decode + propagation.
func TestSingleRequestExact(t *testing.T) {
	const (
		rtt, access = 80.0, 10.0 // ms
		prompt      = 1000
		output      = 50
		perToken    = 20e-6 // s per prefill token
		step        = 0.015 // s per decode step
		bpt         = 4.0
		bps         = 50e6 / 8 // 50 Mbit/s
	)
	w := testWorld{
		rttMs: rtt, accessMs: access, handshakes: 2, bytesPerToken: bpt, accessBps: bps, windowS: 100,
		est:      linearEst{PerToken: perToken, Step: step, KV: 1 << 20, Batch: 8},
		wl:       Workload{Name: "chat", Prompt: workloads.Constant{Value: prompt}, Output: workloads.Constant{Value: output}},
		arrivals: fixedArrivals{10},
	}.build(t)
	var recs []CallRecord
	res, err := SimulateWith(w, 0, Options{OnCall: func(r *CallRecord) { recs = append(recs, *r) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("got %d calls, want 1", len(recs))
	}
	r := (rtt + access) / 1000
	up := 2*r + r/2 + prompt*bpt/bps
	wantTTFT := up + prompt*perToken + r/2
	wantE2E := wantTTFT + (output-1)*step
	// Each of the four scheduled delays is rounded to the 1 µs tick.
	const tol = 4e-6
	if got := recs[0].TTFTS; math.Abs(got-wantTTFT) > tol {
		t.Errorf("TTFT = %.6f s, want %.6f s", got, wantTTFT)
	}
	if got := recs[0].E2ES; math.Abs(got-wantE2E) > tol {
		t.Errorf("E2E = %.6f s, want %.6f s", got, wantE2E)
	}
	if got := res.Workloads[0].E2EMs.Mean / 1000; math.Abs(got-wantE2E) > tol {
		t.Errorf("result mean E2E = %.6f s, want %.6f s", got, wantE2E)
	}
	wantTPOT := step * 1000
	if got := res.Workloads[0].TPOTMs.Mean; math.Abs(got-wantTPOT) > 1e-3 {
		t.Errorf("TPOT = %.4f ms, want %.4f ms", got, wantTPOT)
	}
}

// TestAgentSessionExact: a k-step agent session on an idle fleet takes
// exactly the sum of its parts, and the breakdown adds up to the task time.
func TestAgentSessionExact(t *testing.T) {
	const (
		rtt, access, toolRTT = 60.0, 5.0, 30.0 // ms
		steps                = 4
		first, out, result   = 2000, 100, 500 // tokens
		perToken, step       = 10e-6, 0.02
		svc                  = 250.0 // ms in the tool
	)
	w := testWorld{
		rttMs: rtt, accessMs: access, toolRTTMs: toolRTT, handshakes: 2, windowS: 1000,
		est:   linearEst{PerToken: perToken, Step: step, KV: 1 << 20, Batch: 8},
		tools: []Tool{{Name: "t", ServiceMs: workloads.Constant{Value: svc}}},
		wl: Workload{
			Name: "agent", Agent: true, Persistent: true, MaxContext: 1 << 20,
			Steps: workloads.Constant{Value: steps}, InitialPrompt: workloads.Constant{Value: first},
			StepOutput: workloads.Constant{Value: out}, ToolResult: workloads.Constant{Value: result},
			Tools: []ToolCall{{Tool: 0, Probability: 1}},
		},
		arrivals: fixedArrivals{5},
	}.build(t)
	res, err := Simulate(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := (rtt + access) / 1000
	tr := (toolRTT + access) / 1000
	var want, wantNet, wantCompute, wantTool float64
	ctx := first
	for i := 0; i < steps; i++ {
		hs := 0.0
		if i == 0 {
			hs = 2 * r // persistent: the model connection is opened once
		}
		compute := float64(ctx)*perToken + (out-1)*step
		want += hs + r + compute
		wantNet += hs + r
		wantCompute += compute
		if i < steps-1 {
			ths := 0.0
			if i == 0 {
				ths = 2 * tr
			}
			want += ths + tr + svc/1000
			wantNet += ths + tr
			wantTool += svc / 1000
			ctx += out + result
		}
	}
	wl := res.Workloads[0]
	if wl.Sessions.Completed != 1 {
		t.Fatalf("completed %d sessions, want 1", wl.Sessions.Completed)
	}
	// 2 rounded delays per step and 1 per tool call, 1 µs each at most.
	tol := float64(3*steps) * 1e-6
	if got := wl.TaskS.Mean; math.Abs(got-want) > tol {
		t.Errorf("task time = %.6f s, want %.6f s", got, want)
	}
	bd := wl.TaskBreakdownS
	if math.Abs(bd.Network-wantNet) > tol || math.Abs(bd.Compute-wantCompute) > tol || math.Abs(bd.Tool-wantTool) > tol || bd.Queueing > tol {
		t.Errorf("breakdown = %+v, want network %.6f compute %.6f tool %.6f queueing 0", *bd, wantNet, wantCompute, wantTool)
	}
	if sum := bd.Network + bd.Queueing + bd.Compute + bd.Tool + bd.Think; math.Abs(sum-wl.TaskS.Mean) > tol {
		t.Errorf("breakdown sums to %.6f s, task time is %.6f s", sum, wl.TaskS.Mean)
	}
	if wl.Requests.Completed != steps {
		t.Errorf("completed %d calls, want %d", wl.Requests.Completed, steps)
	}
}

// TestBatchingCausality runs a loaded replica with batching and checks
// every call's timeline and the accounting.
func TestBatchingCausality(t *testing.T) {
	w := testWorld{
		rttMs: 40, accessMs: 5, handshakes: 2, bytesPerToken: 4, windowS: 600, replicas: 3,
		est: linearEst{PerToken: 50e-6, Step: 0.012, KV: 40000, Batch: 16},
		wl: Workload{Name: "chat",
			Prompt: workloads.LogNormalMedian(1000, 0.8), Output: workloads.LogNormalMedian(150, 0.8)},
		arrivals: workloads.Arrivals{PeakRatePerS: 20, Curve: flatCurve(t)},
	}.build(t)
	w.Run.Warmup = sim.FromSeconds(60)
	w.Strategies[0].MaxQueuePerReplica = 50
	var n, dropped int
	res, err := SimulateWith(w, 0, Options{OnCall: func(r *CallRecord) {
		n++
		if r.Dropped {
			dropped++
			return
		}
		if !(r.Issued <= r.AtServer && r.AtServer <= r.Admitted && r.Admitted < r.FirstToken && r.FirstToken <= r.Finished) {
			t.Fatalf("causality broken: %+v", *r)
		}
		if r.TTFTS > r.E2ES || r.Replica < 0 || r.Replica >= 3 {
			t.Fatalf("bad record: %+v", *r)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Workloads[0].Requests
	if c.Arrived != c.Completed+c.Dropped+c.InFlight {
		t.Errorf("conservation: arrived %d != completed %d + dropped %d + in flight %d", c.Arrived, c.Completed, c.Dropped, c.InFlight)
	}
	if c.Arrived == 0 || c.Completed == 0 {
		t.Fatalf("nothing measured: %+v", c)
	}
	if res.Utilization <= 0 || res.Utilization > 1 {
		t.Errorf("utilization %g outside (0, 1]", res.Utilization)
	}
	if n == 0 {
		t.Fatal("no trace records")
	}
}

// TestAgentOrchestratorAtModel: with the loop beside the model, the WAN is
// crossed only by the task and its result; model calls are local and tool
// calls go from the site.
func TestAgentOrchestratorAtModel(t *testing.T) {
	const (
		rtt, access        = 60.0, 5.0 // ms, user to site
		siteToTool         = 1.0       // ms (set by testWorld)
		steps              = 3
		first, out, result = 1000, 50, 200
		perToken, step     = 10e-6, 0.02
		svc                = 100.0 // ms
	)
	w := testWorld{
		rttMs: rtt, accessMs: access, toolRTTMs: 80, handshakes: 2, windowS: 1000,
		est:   linearEst{PerToken: perToken, Step: step, KV: 1 << 20, Batch: 8},
		tools: []Tool{{Name: "t", ServiceMs: workloads.Constant{Value: svc}}},
		wl: Workload{
			Name: "agent", Agent: true, Persistent: true, MaxContext: 1 << 20, Orchestrator: AtModel,
			Steps: workloads.Constant{Value: steps}, InitialPrompt: workloads.Constant{Value: first},
			StepOutput: workloads.Constant{Value: out}, ToolResult: workloads.Constant{Value: result},
			Tools: []ToolCall{{Tool: 0, Probability: 1}},
		},
		arrivals: fixedArrivals{5},
	}.build(t)
	res, err := Simulate(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := (rtt + access) / 1000
	tr := siteToTool / 1000
	// The task reaches the orchestrator (handshakes + half a round trip) and
	// the result returns (half a round trip); calls to the co-located model
	// cost nothing on the network (same-site RTT 0 in this world).
	want := 2*r + r/2 + r/2
	ctx := first
	for i := 0; i < steps; i++ {
		want += float64(ctx)*perToken + (out-1)*step
		if i < steps-1 {
			if i == 0 {
				want += 2 * tr
			}
			want += tr + svc/1000
			ctx += out + result
		}
	}
	if got := res.Workloads[0].TaskS.Mean; math.Abs(got-want) > 20e-6 {
		t.Errorf("task time = %.6f s, want %.6f s", got, want)
	}
}
