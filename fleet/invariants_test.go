package fleet

import (
	"fmt"
	"github.com/fleetsim/fleetsim/results"
	"testing"

	"github.com/fleetsim/fleetsim/sim"
	"github.com/fleetsim/fleetsim/workloads"
)

// checkReplicas asserts the KV-block and batch accounting of every
// replica: the blocks held equal the sum over admitted calls, held plus
// promised never exceed the total, every admitted call holds the blocks for
// its context, a preempted or waiting call holds none, the decode context
// sum matches, and the batch never exceeds its limit.
func checkReplicas(t *testing.T, e *engine) {
	t.Helper()
	for i := range e.reps {
		r := &e.reps[i]
		var held int32
		dec, pre := 0, 0
		for _, c := range r.seqs {
			cl := &e.calls[c]
			held += cl.blk
			if cl.blk < r.blocksFor(cl.ctx) || cl.blk == 0 {
				t.Fatalf("replica %d at %v: call %d runs with %d blocks for %d tokens", i, e.k.Now(), c, cl.blk, cl.ctx)
			}
			if cl.done < cl.pre {
				pre++
			} else {
				dec += int(cl.ctx)
			}
			if int(cl.rep) != i {
				t.Fatalf("replica %d: admitted call %d says replica %d", i, c, cl.rep)
			}
		}
		for _, c := range r.preempted {
			if b := e.calls[c].blk; b != 0 {
				t.Fatalf("replica %d at %v: preempted call %d holds %d blocks", i, e.k.Now(), c, b)
			}
		}
		if held != r.used {
			t.Fatalf("replica %d at %v: used %d blocks, calls hold %d", i, e.k.Now(), r.used, held)
		}
		// Running calls may grow into blocks promised to assigned ones (those
		// wait), but never past the replica's blocks.
		if r.used > r.blocks || r.used < 0 {
			t.Fatalf("replica %d at %v: blocks %d used (+ %d promised) of %d", i, e.k.Now(), r.used, r.nextBlk, r.blocks)
		}
		if pre != r.nPrefill || dec != r.decCtx {
			t.Fatalf("replica %d at %v: %d prefilling (counter %d), decode context %d (counter %d)", i, e.k.Now(), pre, r.nPrefill, dec, r.decCtx)
		}
		if len(r.seqs) > r.maxBatch {
			t.Fatalf("replica %d at %v: %d calls of %d", i, e.k.Now(), len(r.seqs), r.maxBatch)
		}
		if r.cache.tokens > int64(r.blocks-r.used)*int64(r.bt) {
			t.Fatalf("replica %d at %v: prefix cache holds %d tokens, %d free", i, e.k.Now(), r.cache.tokens, int64(r.blocks-r.used)*int64(r.bt))
		}
	}
}

// TestAccountingInvariants steps a loaded, KV-limited fleet of agents and
// chat through its day event by event, checking replica accounting after
// every event, then checks that a drained run releases everything and that
// every agent step is accounted for.
func TestAccountingInvariants(t *testing.T) {
	w := testWorld{
		rttMs: 30, accessMs: 5, handshakes: 2, bytesPerToken: 4, windowS: 300, replicas: 2,
		est: linearEst{PerToken: 20e-6, Step: 0.01, KV: 60000, Batch: 8},
		wl: Workload{
			Name: "agent", Agent: true, Persistent: true, MaxContext: 20000,
			Steps: workloads.Constant{Value: 5}, InitialPrompt: workloads.LogNormalMedian(3000, 0.5),
			StepOutput: workloads.LogNormalMedian(100, 0.7), ToolResult: workloads.LogNormalMedian(500, 0.5),
		},
		arrivals: workloads.Arrivals{PeakRatePerS: 2, Curve: flatCurve(t)},
	}.build(t)
	w.Run.Drain = sim.FromSeconds(3600)
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
		events++
	}
	if events < 1000 {
		t.Fatalf("only %d events: the test fleet was not loaded", events)
	}
	for i := range e.reps {
		if r := &e.reps[i]; r.used != 0 || r.active() != 0 || r.busy {
			t.Errorf("replica %d holds work after the drain: %d blocks, calls %d", i, r.used, r.active())
		}
	}
	res := e.outcome()
	wl := res.Workloads[0]
	s, c := wl.Sessions, wl.Requests
	if s.Completed == 0 || s.InFlight != 0 || c.InFlight != 0 {
		t.Fatalf("sessions %+v, calls %+v: want all drained", *s, c)
	}
	// Every completed session made exactly 5 calls; a dropped session made
	// at most 5, its last one dropped.
	if c.Completed+c.Dropped < 5*s.Completed+s.Dropped || c.Completed+c.Dropped > 5*(s.Completed+s.Dropped) {
		t.Errorf("calls %+v do not match %d completed and %d dropped sessions of 5 steps", c, s.Completed, s.Dropped)
	}
	if s.Dropped == 0 && c.Completed != 5*s.Completed {
		t.Errorf("%d calls completed for %d sessions of 5 steps", c.Completed, s.Completed)
	}
}

// TestPreemptionInvariants loads replicas whose KV cache cannot hold the
// outputs of the calls they admit (admission needs only the prompt's
// blocks, the long outputs grow past capacity), so calls are preempted and
// recomputed. Accounting must hold after every event, calls must be
// preempted, and every call must still complete exactly once with its full
// output.
func TestPreemptionInvariants(t *testing.T) {
	w := testWorld{
		rttMs: 10, windowS: 120, replicas: 2,
		est: linearEst{PerToken: 5e-6, Step: 0.005, KV: 20000, Batch: 16},
		wl: Workload{
			Name: "long", MaxContext: 1 << 20,
			Prompt: workloads.LogNormalMedian(500, 0.3), Output: workloads.LogNormalMedian(2500, 0.3),
		},
		arrivals: workloads.Arrivals{PeakRatePerS: 3, Curve: flatCurve(t)},
	}.build(t)
	w.Run.Drain = sim.FromSeconds(36000)
	w.Strategies[0].Deployments[0].PrefixCaching = true
	var done int
	var short []string
	e, events := func() (*engine, int) {
		e, err := newEngine(w, 0)
		if err != nil {
			t.Fatal(err)
		}
		e.opts.OnCall = func(r *CallRecord) {
			if r.Dropped {
				return
			}
			done++
			// Every output token after the first takes at least one decode
			// iteration of Step seconds, preempted or not: a preemption may
			// not skip tokens.
			if min := float64(r.Output-1) * 0.005; r.Finished-r.FirstToken < min-1e-6 {
				short = append(short, fmt.Sprintf("%d tokens in %.4f s", r.Output, r.Finished-r.FirstToken))
			}
		}
		n := 0
		for {
			ev, ok := e.k.Next()
			if !ok {
				break
			}
			e.dispatch(ev)
			checkReplicas(t, e)
			n++
		}
		return e, n
	}()
	if events < 1000 {
		t.Fatalf("only %d events: the test fleet was not loaded", events)
	}
	res := e.outcome()
	if res.Preemptions == 0 {
		t.Fatalf("no preemptions: the test does not exercise them")
	}
	rq := res.Workloads[0].Requests
	if rq.InFlight != 0 || rq.Dropped != 0 || rq.Completed != rq.Arrived {
		t.Errorf("requests %+v: want every one completed after the drain", rq)
	}
	for i := range e.calls {
		if e.calls[i].wl >= 0 {
			t.Errorf("call %d still live after the drain", i)
		}
	}
	for i := range e.reps {
		if r := &e.reps[i]; r.used != 0 || r.active() != 0 || r.busy {
			t.Errorf("replica %d holds work after the drain: %d blocks, %d calls", i, r.used, r.active())
		}
	}
	if done != int(rq.Completed) {
		t.Errorf("%d completions recorded, results say %d", done, rq.Completed)
	}
	if len(short) > 0 {
		t.Errorf("%d calls decoded faster than one step per token, e.g. %s", len(short), short[0])
	}
	t.Logf("%d events, %d preemptions in the window, %d calls completed", events, res.Preemptions, done)
}

// TestAssignedWaitForBlocks: calls assigned to a replica whose running
// calls then grow into the blocks promised to them must wait, not be
// admitted past the replica's blocks. A small KV cache, short prompts,
// outputs that grow the contexts and a steady stream of arrivals make that
// happen (admitting them regardless fails this test).
func TestAssignedWaitForBlocks(t *testing.T) {
	w := testWorld{
		rttMs: 1, windowS: 300, replicas: 1,
		est: linearEst{PerToken: 1e-5, Step: 0.002, KV: 1000, Batch: 8},
		wl: Workload{
			Name: "grow", MaxContext: 1 << 20,
			Prompt: workloads.LogNormalMedian(100, 0.5), Output: workloads.LogNormalMedian(200, 0.5),
		},
		arrivals: workloads.Arrivals{PeakRatePerS: 10, Curve: flatCurve(t)},
	}.build(t)
	w.Run.Drain = sim.FromSeconds(36000)
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
	if rq := e.outcome().Workloads[0].Requests; rq.Completed+rq.Dropped != rq.Arrived || rq.InFlight != 0 {
		t.Errorf("requests %+v: want every one accounted for", rq)
	}
}

// TestHourlySeriesAddUp: the busy time split by hour adds up to the
// replicas' busy time in the window, and the hourly CDF and utilization
// series have one value per hour and per quantile.
func TestHourlySeriesAddUp(t *testing.T) {
	w := testWorld{
		rttMs: 5, windowS: 3 * 3600, replicas: 3,
		est:      linearEst{PerToken: 2e-5, Step: 0.02, KV: 1 << 20, Batch: 8},
		wl:       Workload{Name: "chat", Prompt: workloads.LogNormalMedian(800, 0.6), Output: workloads.LogNormalMedian(150, 0.7), MaxContext: 1 << 20},
		arrivals: workloads.Arrivals{PeakRatePerS: 2, Curve: flatCurve(t)},
	}.build(t)
	e, err := newEngine(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.run()
	res := e.outcome()
	for pi := range e.pools {
		p := &e.pools[pi]
		var busy sim.Time
		for r := p.first; r < p.first+p.n; r++ {
			busy += e.reps[r].busyWin
		}
		sum := 0.0
		for _, s := range p.busyHr {
			sum += s
		}
		if diff := sum - busy.Seconds(); diff > 1e-3 || diff < -1e-3 {
			t.Errorf("pool %d: busy by hour sums to %.6f s, busy time %.6f s", pi, sum, busy.Seconds())
		}
	}
	site := res.Sites[0]
	if len(site.UtilizationByHour) != 3 || len(site.QueueP95MsByHour) != 3 {
		t.Errorf("hourly series %v, %v: want 3 values each", site.UtilizationByHour, site.QueueP95MsByHour)
	}
	mean := (site.UtilizationByHour[0] + site.UtilizationByHour[1] + site.UtilizationByHour[2]) / 3
	if d := mean - site.Utilization; d > 1e-4 || d < -1e-4 {
		t.Errorf("mean hourly utilization %.6f, utilization %.6f", mean, site.Utilization)
	}
	wl := res.Workloads[0]
	if len(wl.TTFTCDFMs) != len(results.CDFQuantiles) || wl.TTFTCDFMs[6] != wl.TTFTMs.P50 {
		t.Errorf("TTFT CDF %v: want %d points, the median equal to p50 %g", wl.TTFTCDFMs, len(results.CDFQuantiles), wl.TTFTMs.P50)
	}
}
