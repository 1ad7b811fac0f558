package loadgen

import (
	"context"
	"math"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fleetsim/fleetsim/emulate"
	"github.com/fleetsim/fleetsim/serving"
)

// TestEmulatorAgreesWithStepModel runs the load generator against fleetsim
// emulate (llama-3.1-8b on one H100, sped up) at concurrency 1 and checks
// that the measured TTFT and TPOT, scaled back by the speed-up, are the
// step model's prefill and decode step times.
//
// Expected values, from the step model the server paces itself with: at
// concurrency 1 the prompt of ISL words (ISL tokens to the emulator) is one
// prefill iteration of ISL tokens, PrefillPairs = ISL × ISL/2, and token k
// (k = 2..OSL) is a decode iteration of one sequence over ISL + k − 2 cached
// tokens. TTFT = prefill step + HTTP and scheduling latency, so it may
// exceed the model by that latency (allowed: 2 ms of wall time, scaled up
// by the speed-up) and never fall below it by more than timer granularity
// (2%). TPOT averages 31 decode steps timed from the emulator's planned
// iteration ends, so only the first and last chunk's jitter count: 5%.
func TestEmulatorAgreesWithStepModel(t *testing.T) {
	const (
		speedup = 4.0
		isl     = 256
		osl     = 32
	)
	srv, err := emulate.New(emulate.Config{GPU: "h100", Model: "llama-3.1-8b", Speedup: speedup})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()

	sm := srv.Model()
	prefill := sm.StepSeconds(serving.Batch{PrefillTokens: isl, PrefillSeqs: 1, PrefillPairs: isl * isl / 2.0})
	var decode float64
	for k := 2; k <= osl; k++ {
		decode += sm.StepSeconds(serving.Batch{DecodeSeqs: 1, DecodeContext: isl + k - 2})
	}
	decode /= osl - 1
	wantTTFT, wantTPOT := 1000*prefill, 1000*decode

	res, err := Run(context.Background(), Config{URL: hs.URL, Model: "llama-3.1-8b", ISL: isl, OSL: osl, Concurrency: 1, Requests: 5, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.OK != 5 {
		t.Fatalf("got %d of 5 requests ok (%s)", s.OK, s.ErrorString())
	}
	for _, r := range res.Requests {
		if r.OutputTokens != osl {
			t.Errorf("request %d: got %d output tokens, want %d", r.Index, r.OutputTokens, osl)
		}
	}
	gotTTFT, gotTPOT := s.TTFT.P50*speedup, s.TPOT.P50*speedup
	t.Logf("model: prefill %.3f ms, decode %.3f ms; measured × %g: TTFT %.3f ms, TPOT %.3f ms", wantTTFT, wantTPOT, speedup, gotTTFT, gotTPOT)
	if gotTTFT < 0.98*wantTTFT || gotTTFT > wantTTFT+2*speedup {
		t.Errorf("got TTFT × speedup %.3f ms, want the prefill step %.3f ms (−2%%, +%g ms)", gotTTFT, wantTTFT, 2*speedup)
	}
	if math.Abs(gotTPOT-wantTPOT) > 0.05*wantTPOT {
		t.Errorf("got TPOT × speedup %.3f ms, want the decode step %.3f ms ± 5%%", gotTPOT, wantTPOT)
	}
}
