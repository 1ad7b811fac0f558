package fleet

import (
	"testing"

	"github.com/fleetsim/fleetsim/sim"
	"github.com/fleetsim/fleetsim/workloads"
)

// checkReplicas asserts the KV and batch accounting of every replica: the
// KV reserved equals the reservations of the calls admitted to it, never
// exceeds the capacity, and the batch never exceeds its limit.
func checkReplicas(t *testing.T, e *engine) {
	t.Helper()
	for i := range e.reps {
		r := &e.reps[i]
		held := 0
		for _, c := range r.running {
			held += int(e.calls[c].prompt + e.calls[c].output)
		}
		for _, c := range r.admit {
			held += int(e.calls[c].prompt + e.calls[c].output)
		}
		if held != r.kvUsed {
			t.Fatalf("replica %d at %v: kvUsed %d, calls hold %d", i, e.k.Now(), r.kvUsed, held)
		}
		if r.kvUsed+r.nextKV > r.kvCap || r.active() > r.maxBatch {
			t.Fatalf("replica %d at %v: kv %d+%d of %d, %d calls of %d", i, e.k.Now(), r.kvUsed, r.nextKV, r.kvCap, r.active(), r.maxBatch)
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
		if r := &e.reps[i]; r.kvUsed != 0 || r.active() != 0 || r.busy {
			t.Errorf("replica %d holds work after the drain: kv %d, calls %d", i, r.kvUsed, r.active())
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
