package fleet

import (
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
		if r.used+r.nextBlk > r.blocks || r.used < 0 {
			t.Fatalf("replica %d at %v: blocks %d used + %d promised of %d", i, e.k.Now(), r.used, r.nextBlk, r.blocks)
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
