package measure

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/loadgen"
	"github.com/fleetsim/fleetsim/scenarios"
)

func TestSessionsOf(t *testing.T) {
	// Records as the simulator emits them: in finishing order, sessions
	// interleaved, a chat call among them.
	recs := []fleet.CallRecord{
		{User: "u", Workload: "a", Session: 0, Step: 1}, // 0
		{User: "u", Workload: "a", Session: 0, Step: 0}, // 1
		{User: "u", Workload: "c", Session: -1},         // 2: chat
		{User: "u", Workload: "a", Session: 1, Step: 0}, // 3
		{User: "v", Workload: "a", Session: 0, Step: 0}, // 4: another user's session 0
		{User: "u", Workload: "a", Session: 1, Step: 1, Dropped: true},
		{User: "u", Workload: "a", Session: 0, Step: 2}, // 6
		{User: "v", Workload: "a", Session: 0, Step: 0}, // 7: step 0 twice
	}
	got := sessionsOf(recs)
	want := []agentSession{
		{calls: []int{1, 0, 6}, closed: true},
		{calls: []int{3, 5}, closed: false}, // its step 1 was dropped
		{calls: []int{4, 7}, closed: false}, // two sessions share the key
	}
	if len(got) != len(want) {
		t.Fatalf("got %d sessions %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if !slices.Equal(got[i].calls, want[i].calls) || got[i].closed != want[i].closed {
			t.Errorf("session %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestSendTimes checks the closed-loop schedule by hand: step k+1 leaves at
// step k's real send + its real duration + the simulator's gap between
// step k's answer at the caller (Issued + E2ES) and step k+1's issue.
func TestSendTimes(t *testing.T) {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	// Simulated: step 0 issued at 10 s, back at 12 s; step 1 issued 0.5 s
	// later at 12.5 s, back at 13.5 s; step 2 issued 0.8 s later at 14.3 s.
	recs := []fleet.CallRecord{
		{Issued: 10, E2ES: 2},
		{Issued: 12.5, E2ES: 1},
		{Issued: 14.3, E2ES: 3},
	}
	cases := []struct {
		name string
		durs []time.Duration
		want []time.Duration
	}{
		// Real calls as predicted: the simulated issue times.
		{"as simulated", []time.Duration{2 * time.Second, time.Second, 3 * time.Second}, []time.Duration{ms(10000), ms(12500), ms(14300)}},
		// Step 0 takes 0.4 s longer, step 1 0.3 s shorter: 10 + 2.4 + 0.5 =
		// 12.9; 12.9 + 0.7 + 0.8 = 14.4. The delays accumulate.
		{"slower then faster", []time.Duration{ms(2400), ms(700), time.Second}, []time.Duration{ms(10000), ms(12900), ms(14400)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := sendTimes(recs, tc.durs)
			for k := range tc.want {
				if d := got[k] - tc.want[k]; d < -time.Microsecond || d > time.Microsecond {
					t.Errorf("step %d: got send at %v, want %v", k, got[k], tc.want[k])
				}
			}
		})
	}
	t.Run("negative gap", func(t *testing.T) {
		// A next step issued before the previous answer (a rounding
		// artefact) goes at once.
		prev, next := fleet.CallRecord{Issued: 1, E2ES: 1}, fleet.CallRecord{Issued: 1.9999}
		if got, want := nextSend(5*time.Second, &prev, &next), 5*time.Second; got != want {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}

// TestCompareTask: task rows over the closed sessions that started in the
// window and completed in both runs, from hand-computed times.
func TestCompareTask(t *testing.T) {
	w := &fleet.World{
		Users:     []fleet.UserGroup{{Name: "u"}},
		Sites:     []fleet.Site{{Name: "s"}},
		Workloads: []fleet.Workload{{Name: "agent", Agent: true, Orchestrator: fleet.AtClient}},
	}
	var recs []fleet.CallRecord
	var out []outcome
	// Session k (1..4): two steps, step 0 issued at 10k s and back 1 s
	// later, step 1 issued 0.5 s after that and back 2 s later: predicted
	// task 3.5 s. Real: step 0 sent at 10k s (ms), step 1 ends 3.5 s +
	// 100k ms later: measured 3500 + 100k ms.
	for k := 1; k <= 4; k++ {
		t0 := 10 * float64(k)
		recs = append(recs,
			fleet.CallRecord{User: "u", Workload: "agent", Site: "s", Session: int64(k), Step: 0, Measured: true, Issued: t0, E2ES: 1, TTFTS: 0.1},
			fleet.CallRecord{User: "u", Workload: "agent", Site: "s", Session: int64(k), Step: 1, Measured: true, Issued: t0 + 1.5, E2ES: 2, TTFTS: 0.1})
		start := time.Duration(t0 * float64(time.Second))
		out = append(out,
			outcome{sent: true, sentAt: start, doneAt: start + time.Second, req: loadgen.Request{TTFT: 100 * time.Millisecond, E2E: time.Second}},
			outcome{sent: true, sentAt: start + 1500*time.Millisecond, doneAt: start + time.Duration(3500+100*k)*time.Millisecond,
				req: loadgen.Request{TTFT: 100 * time.Millisecond, E2E: time.Duration(2000+100*k) * time.Millisecond}})
	}
	// Not compared: a session before the window, and one whose last step
	// failed in the real run.
	recs = append(recs,
		fleet.CallRecord{User: "u", Workload: "agent", Site: "s", Session: 8, Step: 0, Measured: false, Issued: 1, E2ES: 9},
		fleet.CallRecord{User: "u", Workload: "agent", Site: "s", Session: 9, Step: 0, Measured: true, Issued: 60, E2ES: 9},
		fleet.CallRecord{User: "u", Workload: "agent", Site: "s", Session: 9, Step: 1, Measured: true, Issued: 70, E2ES: 9})
	out = append(out,
		outcome{sent: true, sentAt: time.Second, doneAt: 10 * time.Second, req: loadgen.Request{E2E: 9 * time.Second}},
		outcome{sent: true, sentAt: 60 * time.Second, doneAt: 69 * time.Second, req: loadgen.Request{E2E: 9 * time.Second}},
		outcome{sent: true, req: loadgen.Request{Err: loadgen.ErrStall}})
	rep := &Report{}
	compare(w, rep, recs, out, sessionsOf(recs))
	if got, want := rep.Requests.Sessions, 4; got != want {
		t.Errorf("sessions compared: got %d, want %d", got, want)
	}
	var task []Row
	for _, r := range rep.Rows {
		if r.Metric == fleet.MetricTask {
			task = append(task, r)
		}
	}
	// Measured 3600, 3700, 3800, 3900 ms: type-7 p50 = 3750, p95 = 3900 −
	// 0.15 × 100 = 3885. Predicted 3500 throughout.
	want := []Row{
		{Workload: "agent", Metric: "task", Percentile: 50, Requests: 4, PredictedMs: 3500, MeasuredMs: 3750, DiffPct: 250.0 / 35},
		{Workload: "agent", Metric: "task", Percentile: 95, Requests: 4, PredictedMs: 3500, MeasuredMs: 3885, DiffPct: 385.0 / 35},
	}
	if len(task) != len(want) {
		t.Fatalf("got %d task rows %+v, want %d", len(task), task, len(want))
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }
	for i, wr := range want {
		g := task[i]
		if g.Workload != wr.Workload || g.Percentile != wr.Percentile || g.Requests != wr.Requests ||
			!near(g.PredictedMs, wr.PredictedMs) || !near(g.MeasuredMs, wr.MeasuredMs) || !near(g.DiffPct, wr.DiffPct) {
			t.Errorf("task row %d: got %+v, want %+v", i, g, wr)
		}
	}
}

// TestSessionTaskMatchesSimulator: the predicted task time that compare
// takes from the call records agrees with the task time the simulator
// itself reports (results TaskS) over the sessions that started in the
// window. With the orchestrator at the client the two are the same
// quantity, so their means agree to rounding; at the model the records
// lack the user→orchestrator trip before the first call, so the
// simulator's mean is longer by that trip: at least its half RTT and at
// most half RTT + handshake + the longest prompt's transfer (jitter off).
func TestSessionTaskMatchesSimulator(t *testing.T) {
	s, err := scenarios.Load("testdata/agent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, orch := range []fleet.Orchestrator{fleet.AtClient, fleet.AtModel} {
		t.Run(orch.String(), func(t *testing.T) {
			opts := Options{Scenario: s, Duration: 20 * time.Second, Warmup: 2 * time.Second, Scale: 1}
			w, _, err := buildWorld(&opts)
			if err != nil {
				t.Fatal(err)
			}
			w.Workloads[0].Orchestrator = orch
			w.Net.JitterMs = nil
			var recs []fleet.CallRecord
			res, err := fleet.SimulateWith(w, 0, fleet.Options{OnCall: func(r *fleet.CallRecord) { recs = append(recs, *r) }})
			if err != nil {
				t.Fatal(err)
			}
			sess := sessionsOf(recs)
			// Every call as the simulator predicted it, so the measured
			// side is irrelevant here; only pred is checked.
			out := make([]outcome, len(recs))
			for i := range out {
				out[i].sent = true
			}
			var sum float64
			n := 0
			for _, ss := range sess {
				pred, _, ok := sessionTask(w, recs, out, ss)
				if ok {
					sum += pred
					n++
				}
			}
			wl := res.Workloads[0]
			if wl.TaskS == nil || int64(n) != wl.TaskS.Count || n < 10 {
				t.Fatalf("sessions from records: got %d, want the simulator's count %v (and at least 10)", n, wl.TaskS)
			}
			diff := wl.TaskS.Mean - sum/float64(n)
			// The simulator's clock rounds each scheduled delay to 1 µs at
			// most; a 3-step session has a few per step (fleet_test.go
			// allows 3 per step), so 9 µs bounds the difference.
			lo, hi := -9e-6, 9e-6
			if orch == fleet.AtModel {
				// The orchestrator sits at the only site, eu-west.
				u := &w.Users[0]
				rtt := (w.RTT.RTTMs(u.Loc, w.Sites[0].Loc) + u.AccessRTTMs) / 1000
				const maxPrompt = 6000 // agent.yaml initialPromptTokens max
				lo = rtt/2 - 9e-6
				hi = rtt/2 + float64(w.Net.HandshakeRTTs)*rtt + w.Net.MTLSS + maxPrompt*w.Net.BytesPerToken/w.Net.AccessBytesPerS + 9e-6
			}
			if diff < lo || diff > hi {
				t.Errorf("simulator's mean task time − from records: got %.6f s, want within [%.6f, %.6f] s", diff, lo, hi)
			}
		})
	}
}
