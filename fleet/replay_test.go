package fleet

import (
	"math"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/traces"
)

// replayWorld is testWorld with its load replaced by a replayed trace.
func replayWorld(t *testing.T, tw testWorld, caching bool) *World {
	t.Helper()
	w := tw.build(t)
	w.Users[0].Loads = nil
	w.Users[0].TraceShares = []float64{1}
	w.Strategies[0].Deployments[0].PrefixCaching = caching
	return w
}

// TestReplayedAgentSessionExact replays one recorded three-step session
// with a client orchestrator on one idle replica and checks the task time
// by hand: each step pays the round trip (the first also the connection's
// handshakes), prefills what the prefix cache does not hold, and decodes;
// between steps the recorded tool time and the next step's recorded gap
// pass. With caching, a step's cached prefix is the previous step's
// prompt plus output minus the last token (whose KV is never computed).
func TestReplayedAgentSessionExact(t *testing.T) {
	const (
		rtt, access           = 40.0, 5.0 // ms
		perToken, stepS       = 10e-6, 0.02
		handshakes            = 2
		sessionsJSONL         = `{"session": "s1", "start_s": 3, "steps": [{"input_tokens": 2000, "output_tokens": 100, "tool_s": 1.5}, {"input_tokens": 2600, "output_tokens": 50, "tool_s": 0.5, "gap_s": 0.2}, {"input_tokens": 3000, "output_tokens": 20, "gap_s": 0.1}]}` + "\n"
		wantToolS, wantThinkS = 1.5 + 0.5, 0.2 + 0.1
	)
	ss, _, err := traces.ReadSessions(strings.NewReader(sessionsJSONL), "s.jsonl", traces.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type step struct{ in, out int }
	steps := []step{{2000, 100}, {2600, 50}, {3000, 20}}
	for _, caching := range []bool{false, true} {
		name := "uncached"
		if caching {
			name = "cached"
		}
		t.Run(name, func(t *testing.T) {
			w := replayWorld(t, testWorld{
				rttMs: rtt, accessMs: access, handshakes: handshakes, windowS: 1000,
				est: linearEst{PerToken: perToken, Step: stepS, KV: 1 << 20, Batch: 8},
				wl:  Workload{Name: "agent", Agent: true, Persistent: true, MaxContext: 1 << 20, Sessions: ss, TraceRateScale: 1},
			}, caching)
			res, err := Simulate(w, 0)
			if err != nil {
				t.Fatal(err)
			}
			r := (rtt + access) / 1000
			want, wantCompute := 0.0, 0.0
			for i, s := range steps {
				prefill := s.in
				if caching && i > 0 {
					cached := steps[i-1].in + steps[i-1].out - 1
					prefill = s.in - min(cached, s.in-1)
				}
				compute := float64(prefill)*perToken + float64(s.out-1)*stepS
				if i == 0 {
					want += handshakes * r
				}
				want += r + compute
				wantCompute += compute
			}
			want += wantToolS + wantThinkS
			wl := res.Workloads[0]
			if wl.Sessions.Completed != 1 || wl.Requests.Completed != 3 {
				t.Fatalf("sessions %+v, calls %+v: want 1 session of 3 calls", *wl.Sessions, wl.Requests)
			}
			tol := 10e-6
			if got := wl.TaskS.Mean; math.Abs(got-want) > tol {
				t.Errorf("task time = %.6f s, want %.6f s", got, want)
			}
			bd := wl.TaskBreakdownS
			if math.Abs(bd.Compute-wantCompute) > tol || math.Abs(bd.Tool-wantToolS) > tol || math.Abs(bd.Think-wantThinkS) > tol {
				t.Errorf("breakdown %+v, want compute %.6f tool %.6f think %.6f", *bd, wantCompute, wantToolS, wantThinkS)
			}
			wantHit := 0.0
			if caching {
				wantHit = float64((2000+100-1)+(2600+50-1)) / float64(2000+2600+3000)
			}
			if got := res.PrefixHitRate; math.Abs(got-wantHit) > 1e-5 {
				t.Errorf("prefix hit rate %g, want %g", got, wantHit)
			}
		})
	}
}

// TestReplayedTracePrefixHit replays two Mooncake-format requests that
// share their first two 512-token blocks; the second arrives after the
// first is done, so with caching it prefills only its third block's tokens.
// Without caching it prefills all of them. Arrival times follow the trace.
func TestReplayedTracePrefixHit(t *testing.T) {
	const perToken, stepS = 10e-6, 0.02
	jsonl := `{"timestamp": 0, "input_length": 1024, "output_length": 10, "hash_ids": [1, 2]}
{"timestamp": 50000, "input_length": 1500, "output_length": 10, "hash_ids": [1, 2, 3]}
`
	tr, _, err := traces.Read(strings.NewReader(jsonl), "m.jsonl", traces.Options{Format: traces.Mooncake})
	if err != nil {
		t.Fatal(err)
	}
	for _, caching := range []bool{false, true} {
		w := replayWorld(t, testWorld{
			rttMs: 20, windowS: 200,
			est: linearEst{PerToken: perToken, Step: stepS, KV: 1 << 20, Batch: 8},
			wl:  Workload{Name: "chat", MaxContext: 1 << 20, Trace: tr, TraceRateScale: 1},
		}, caching)
		var recs []CallRecord
		if _, err := SimulateWith(w, 0, Options{OnCall: func(r *CallRecord) { recs = append(recs, *r) }}); err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 {
			t.Fatalf("caching %v: %d calls, want 2", caching, len(recs))
		}
		if recs[0].Issued != 0 || math.Abs(recs[1].Issued-50) > 1e-6 {
			t.Errorf("issued at %g and %g s, want 0 and 50 (the trace's timestamps)", recs[0].Issued, recs[1].Issued)
		}
		prefill := 1500
		if caching {
			prefill = 1500 - 1024
		}
		wantService := float64(prefill)*perToken + 9*stepS
		if got := recs[1].Finished - recs[1].Admitted; math.Abs(got-wantService) > 2e-6 {
			t.Errorf("caching %v: second request served in %.6f s, want %.6f s", caching, got, wantService)
		}
	}
}
