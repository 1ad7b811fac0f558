package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetsim/fleetsim/measurements"
	"github.com/fleetsim/fleetsim/serving"
)

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// TestRunMeasuresScriptedPace runs the load generator against a server
// with a known pace and checks the measured TTFT and TPOT against it.
// Tolerances: TTFT is at least the scripted delay (the client sends
// before the server starts its clock) and at most 50 ms more; TPOT is
// timed between absolute send times, so only the lateness of the first
// and last chunk spreads over chunks−1 gaps: ±20%. On a quiet machine the
// errors are below 2 ms and 0.2 ms; the margins are for a 2-core machine
// busy with other builds, where a goroutine can wait tens of ms to run.
func TestRunMeasuresScriptedPace(t *testing.T) {
	tests := []struct {
		name        string
		api         API
		s           *script
		wantTokens  int
		wantTPOT    time.Duration // gap × (chunks−1) / (tokens−1)
		wantChunks  int
		concurrency int
		requests    int
	}{
		{name: "completions with usage", api: Completions, s: &script{ttft: 30 * time.Millisecond, gap: 20 * time.Millisecond, chunks: 10, usage: true},
			wantTokens: 10, wantChunks: 10, wantTPOT: 20 * time.Millisecond, concurrency: 2, requests: 4},
		{name: "chat without usage counts chunks", api: Chat, s: &script{ttft: 30 * time.Millisecond, gap: 20 * time.Millisecond, chunks: 10, chat: true},
			wantTokens: 10, wantChunks: 10, wantTPOT: 20 * time.Millisecond, concurrency: 1, requests: 2},
		// Two tokens per chunk: usage says 20, so TPOT = 9 gaps / 19, not
		// the 20 ms between chunks.
		{name: "usage wins over chunks", api: Completions, s: &script{ttft: 30 * time.Millisecond, gap: 20 * time.Millisecond, chunks: 10, perChunk: 2, usage: true},
			wantTokens: 20, wantChunks: 10, wantTPOT: 180 * time.Millisecond / 19, concurrency: 1, requests: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.s)
			defer srv.Close()
			cfg := Config{URL: srv.URL, API: tt.api, Model: "m", ISL: 7, OSL: tt.wantTokens, Concurrency: tt.concurrency, Requests: tt.requests, Timeout: 5 * time.Second}
			// Timing can only be judged when the machine lets goroutines
			// run on time: up to three attempts, the first within the
			// tolerances passes. Lower bounds and counts hold on every one.
			var late []string
			for attempt := 1; attempt <= 3; attempt++ {
				late = runScripted(t, cfg, tt.s, tt.wantTokens, tt.wantChunks, tt.wantTPOT)
				if len(late) == 0 {
					break
				}
				t.Logf("attempt %d off the scripted pace: %s", attempt, strings.Join(late, "; "))
			}
			for _, msg := range late {
				t.Error(msg)
			}
			// What the server was asked.
			for _, b := range tt.s.bodies {
				prompt, _ := b["prompt"].(string)
				if tt.api == Chat {
					msgs, _ := b["messages"].([]any)
					if len(msgs) != 1 {
						t.Fatalf("got %d messages, want 1", len(msgs))
					}
					prompt, _ = msgs[0].(map[string]any)["content"].(string)
				}
				if got := wordCount(prompt); got != cfg.ISL {
					t.Errorf("got a prompt of %d words, want %d", got, cfg.ISL)
				}
				so, _ := b["stream_options"].(map[string]any)
				if b["max_tokens"] != float64(cfg.OSL) || b["min_tokens"] != float64(cfg.OSL) || b["ignore_eos"] != true ||
					b["stream"] != true || so["include_usage"] != true || b["model"] != "m" {
					t.Errorf("got body %v, want model m, max_tokens = min_tokens = %d, ignore_eos, stream, include_usage", b, cfg.OSL)
				}
			}
		})
	}
}

// runScripted runs cfg against script s. It fails t on what must hold
// whatever the machine's load (counts, tokens, lower bounds) and returns
// the timing tolerances missed.
func runScripted(t *testing.T, cfg Config, s *script, wantTokens, wantChunks int, wantTPOT time.Duration) []string {
	t.Helper()
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.OK != cfg.Requests || res.Summary.Sent != cfg.Requests {
		t.Fatalf("got %d sent, %d ok (%s), want %d of each", res.Summary.Sent, res.Summary.OK, res.Summary.ErrorString(), cfg.Requests)
	}
	var late []string
	for _, r := range res.Requests {
		if r.OutputTokens != wantTokens || r.Chunks != wantChunks {
			t.Errorf("request %d: got %d tokens in %d chunks, want %d in %d", r.Index, r.OutputTokens, r.Chunks, wantTokens, wantChunks)
		}
		if r.TTFT < s.ttft {
			t.Errorf("request %d: got TTFT %v, want >= the scripted %v", r.Index, r.TTFT, s.ttft)
		}
		// E2E ends at [DONE], after the last chunk, which the server
		// sends no earlier than ttft + (chunks−1) gaps after arrival.
		if min := s.ttft + time.Duration(wantChunks-1)*s.gap; r.E2E < min {
			t.Errorf("request %d: got E2E %v, want >= %v", r.Index, r.E2E, min)
		}
		if got, lo := msOf(r.TTFT), msOf(s.ttft); got > lo+50 {
			late = append(late, fmt.Sprintf("request %d: got TTFT %.2f ms, want in [%.0f, %.0f]", r.Index, got, lo, lo+50))
		}
		if got, want := msOf(r.TPOT), msOf(wantTPOT); math.Abs(got-want) > 0.2*want {
			late = append(late, fmt.Sprintf("request %d: got TPOT %.3f ms, want %.3f ± 20%%", r.Index, got, want))
		}
	}
	// Closed loop: each slot runs requests back to back, so the output
	// rate is about concurrency × tokens / E2E, and never more.
	e2e := s.ttft + time.Duration(wantChunks-1)*s.gap
	want := float64(cfg.Concurrency*wantTokens) / e2e.Seconds()
	if got := res.Summary.OutputTokensPerS; got > want*1.01 {
		t.Errorf("got %.1f output tok/s, want <= %.1f", got, want)
	} else if got < want*0.6 {
		late = append(late, fmt.Sprintf("got %.1f output tok/s, want %.1f (−40%%)", got, want))
	}
	return late
}

// TestRunClassifiesErrors checks that each failure is reported per
// request with its kind, and kept out of the latency statistics.
func TestRunClassifiesErrors(t *testing.T) {
	closed := httptest.NewServer(&script{})
	closedURL := closed.URL
	closed.Close()
	tests := []struct {
		name   string
		s      *script
		url    string
		want   ErrorKind
		status int
	}{
		{name: "500", s: &script{status: 500}, want: ErrHTTPStatus, status: 500},
		{name: "429", s: &script{status: 429}, want: ErrHTTPStatus, status: 429},
		{name: "stall mid-stream", s: &script{chunks: 10, gap: time.Millisecond, stallAfter: 3}, want: ErrStall, status: 200},
		{name: "stall before first chunk", s: &script{chunks: 10, ttft: 3 * time.Second}, want: ErrStall, status: 200},
		{name: "closed early", s: &script{chunks: 10, gap: time.Millisecond, closeAfter: 4}, want: ErrClosedEarly, status: 200},
		{name: "malformed chunk", s: &script{chunks: 10, malformedAt: 2}, want: ErrMalformed, status: 200},
		{name: "error in stream", s: &script{chunks: 10, errorAt: 3}, want: ErrStreamError, status: 200},
		{name: "no token", s: &script{chunks: 0}, want: ErrClosedEarly, status: 200},
		{name: "connection refused", url: closedURL, want: ErrConnect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := tt.url
			if tt.s != nil {
				srv := httptest.NewServer(tt.s)
				defer srv.Close()
				url = srv.URL
			}
			cfg := Config{URL: url, ISL: 4, OSL: 10, Concurrency: 2, Requests: 3, Timeout: 150 * time.Millisecond}
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			s := res.Summary
			if s.Sent != 3 || s.OK != 0 || s.Errors[tt.want] != 3 || len(s.Errors) != 1 {
				t.Fatalf("got sent %d, ok %d, errors %q; want 3 sent, 3 %s", s.Sent, s.OK, s.ErrorString(), tt.want)
			}
			for _, r := range res.Requests {
				if r.Err != tt.want || r.Status != tt.status || r.Detail == "" {
					t.Errorf("request %d: got kind %q status %d detail %q, want %q, %d and a detail", r.Index, r.Err, r.Status, r.Detail, tt.want, tt.status)
				}
			}
			if !math.IsNaN(s.TTFT.P50) || !math.IsNaN(s.E2E.P50) || s.OutputTokensPerS != 0 {
				t.Errorf("got TTFT p50 %g, E2E p50 %g, %g tok/s from failed requests, want NaN, NaN, 0", s.TTFT.P50, s.E2E.P50, s.OutputTokensPerS)
			}
			if _, err := res.Row(RowMeta{Dataset: "bench", GPU: "h100", Model: "llama-3.1-8b", TP: 1, Precision: serving.BF16}); err == nil {
				t.Error("got a measurement row from a point with no success, want an error")
			}
		})
	}
}

// TestErrorsStayOutOfLatency alternates failing and succeeding requests:
// if the failures' zero latencies were mixed in, the median TTFT would
// fall below the scripted 20 ms.
func TestErrorsStayOutOfLatency(t *testing.T) {
	good := &script{ttft: 20 * time.Millisecond, gap: time.Millisecond, chunks: 4, usage: true}
	bad := &script{status: 503}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			bad.ServeHTTP(w, r)
			return
		}
		good.ServeHTTP(w, r)
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Config{URL: srv.URL, ISL: 3, OSL: 4, Concurrency: 1, Requests: 6, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.OK != 3 || s.Errors[ErrHTTPStatus] != 3 {
		t.Fatalf("got ok %d, errors %q, want 3 and http-status=3", s.OK, s.ErrorString())
	}
	if s.TTFT.P50 < 20 || s.E2E.P50 < 20 {
		t.Errorf("got median TTFT %.2f ms, E2E %.2f ms, want >= 20 ms (successes only)", s.TTFT.P50, s.E2E.P50)
	}
	if s.OutputTokens != 12 {
		t.Errorf("got %d output tokens, want 12 (3 successes × 4)", s.OutputTokens)
	}
	if got, want := s.ErrorString(), "http-status=3"; got != want {
		t.Errorf("got error string %q, want %q", got, want)
	}
}

// TestArrivals: a fixed seed gives a fixed schedule, and its count and
// mean gap are those of a Poisson process.
func TestArrivals(t *testing.T) {
	const rate = 50.0
	d := 20 * time.Second
	a := Arrivals(rand.New(rand.NewPCG(1, 2)), rate, 0, d)
	b := Arrivals(rand.New(rand.NewPCG(1, 2)), rate, 0, d)
	if len(a) != len(b) {
		t.Fatalf("same seed: got %d and %d arrivals, want equal", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed: arrival %d got %v and %v, want equal", i, a[i], b[i])
		}
	}
	// 1 + Poisson(rate × d) arrivals: mean 1001, sd √1000 ≈ 32; allow 5 sd.
	if want := 1 + rate*d.Seconds(); math.Abs(float64(len(a))-want) > 5*math.Sqrt(want) {
		t.Errorf("got %d arrivals in %v at %g/s, want %g ± %.0f", len(a), d, rate, want, 5*math.Sqrt(want))
	}
	if a[0] != 0 || a[len(a)-1] >= d {
		t.Errorf("got arrivals from %v to %v, want from 0 to before %v", a[0], a[len(a)-1], d)
	}
	if got := Arrivals(rand.New(rand.NewPCG(3, 4)), rate, 17, 0); len(got) != 17 {
		t.Errorf("got %d arrivals, want 17", len(got))
	}
}

// TestRunRateIsDeterministicInCount: a rate point over a duration sends
// exactly the arrivals its seed draws, whatever the server does.
func TestRunRateIsDeterministicInCount(t *testing.T) {
	srv := httptest.NewServer(&script{chunks: 2, usage: true})
	defer srv.Close()
	const rate = 200.0
	d := 150 * time.Millisecond
	want := len(Arrivals(rand.New(rand.NewPCG(7, 7)), rate, 0, d))
	for range 2 {
		res, err := Run(context.Background(), Config{URL: srv.URL, ISL: 2, OSL: 2, RatePerS: rate, Duration: d, Rand: rand.New(rand.NewPCG(7, 7)), Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if res.Summary.Sent != want || res.Summary.OK != want {
			t.Errorf("got %d sent, %d ok, want %d (the seed's arrivals)", res.Summary.Sent, res.Summary.OK, want)
		}
		for i, r := range res.Requests {
			if r.Index != i {
				t.Fatalf("got request index %d at %d, want in order", r.Index, i)
			}
		}
	}
}

// TestSweepAndCSVRoundTrip runs a two-point sweep, turns it into
// measurement rows and reads them back with measurements.ReadCSV.
func TestSweepAndCSVRoundTrip(t *testing.T) {
	srv := httptest.NewServer(&script{ttft: 5 * time.Millisecond, gap: time.Millisecond, chunks: 8, usage: true})
	defer srv.Close()
	cfg := Config{URL: srv.URL, ISL: 16, OSL: 8, Requests: 4, Timeout: 5 * time.Second}
	results, err := Sweep(context.Background(), cfg, []int{1, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Config.Concurrency != 1 || results[1].Config.Concurrency != 2 {
		t.Fatalf("got %d results, want concurrency 1 then 2", len(results))
	}
	meta := RowMeta{Dataset: "bench", GPU: "h100-sxm", Model: "meta-llama/Llama-3.1-8B-Instruct", TP: 1, Precision: serving.BF16, Framework: "vLLM", Source: "bench:test"}
	var rows []measurements.Row
	for _, r := range results {
		row, err := r.Row(meta)
		if err != nil {
			t.Fatal(err)
		}
		// Concurrency point: rate_rps is the achieved rate.
		if row.RateRPS != r.Summary.RequestsPerS || row.TTFTms != r.Summary.TTFT.P50 || row.ISL != 16 || row.OSL != 8 {
			t.Errorf("got row %+v, want rate %g, ttft %g, isl 16, osl 8", row, r.Summary.RequestsPerS, r.Summary.TTFT.P50)
		}
		rows = append(rows, row)
	}
	if rows[0].GPU != "h100" || rows[0].Model != "llama-3.1-8b" {
		t.Errorf("got gpu %q model %q, want canonical h100, llama-3.1-8b", rows[0].GPU, rows[0].Model)
	}
	var buf bytes.Buffer
	if err := measurements.WriteCSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	back, err := measurements.ReadCSV(&buf, "bench.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(rows) {
		t.Fatalf("got %d rows back, want %d", len(back), len(rows))
	}
	for i := range rows {
		// %+v prints floats in shortest exact form, and NaN (not measured) as NaN.
		if fmt.Sprintf("%+v", back[i]) != fmt.Sprintf("%+v", rows[i]) {
			t.Errorf("row %d: got %+v back, want %+v", i, back[i], rows[i])
		}
	}
	var reqs bytes.Buffer
	if err := WriteRequestsCSV(&reqs, results); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Count(reqs.String(), "\n"), 1+8; got != want {
		t.Errorf("got %d lines of requests CSV, want %d (header and 8 requests)", got, want)
	}
}

func TestRowOfRatePointUsesOfferedRate(t *testing.T) {
	srv := httptest.NewServer(&script{chunks: 3, usage: true})
	defer srv.Close()
	res, err := Run(context.Background(), Config{URL: srv.URL, ISL: 2, OSL: 3, RatePerS: 40, Requests: 3, Rand: rand.New(rand.NewPCG(1, 1)), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	row, err := res.Row(RowMeta{Dataset: "bench", GPU: "a100", Model: "llama-3.1-8b", TP: 1, Precision: serving.BF16})
	if err != nil {
		t.Fatal(err)
	}
	if row.RateRPS != 40 || row.Source != "rate=40" {
		t.Errorf("got rate_rps %g, source %q, want 40, rate=40", row.RateRPS, row.Source)
	}
}

func TestRunCanceled(t *testing.T) {
	srv := httptest.NewServer(&script{chunks: 100, gap: 10 * time.Millisecond})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := Run(ctx, Config{URL: srv.URL, ISL: 2, OSL: 100, Concurrency: 2, Requests: 10, Timeout: 5 * time.Second})
	if err == nil || res == nil {
		t.Fatalf("got result %v, error %v, want a partial result and an error", res, err)
	}
	if res.Summary.Errors[ErrCanceled] != res.Summary.Sent || res.Summary.Sent != 2 {
		t.Errorf("got sent %d, errors %q, want 2 canceled", res.Summary.Sent, res.Summary.ErrorString())
	}
}

func TestValidate(t *testing.T) {
	ok := Config{URL: "http://x", ISL: 1, OSL: 1, Concurrency: 1, Requests: 1}
	tests := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" means valid
	}{
		{"valid", func(*Config) {}, ""},
		{"url", func(c *Config) { c.URL = "localhost:8000" }, "url: must start with http://"},
		{"api", func(c *Config) { c.API = "embeddings" }, `api: must be completions or chat, got "embeddings"`},
		{"isl", func(c *Config) { c.ISL = 0 }, "isl: must be >= 1, got 0"},
		{"osl", func(c *Config) { c.OSL = -2 }, "osl: must be >= 1, got -2"},
		{"both loads", func(c *Config) { c.RatePerS = 2 }, "concurrency, rate: set one, not both"},
		{"no load", func(c *Config) { c.Concurrency = 0 }, "concurrency, rate: set one"},
		{"rate without rand", func(c *Config) { c.Concurrency, c.RatePerS = 0, 2 }, "rand: required with a rate"},
		{"nan rate", func(c *Config) { c.Concurrency, c.RatePerS = 0, math.NaN() }, "rate: must be a finite positive number"},
		{"both amounts", func(c *Config) { c.Duration = time.Second }, "requests, duration: set one, not both"},
		{"no amount", func(c *Config) { c.Requests = 0 }, "requests, duration: set one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want valid", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct {
		url  string
		api  API
		want string
	}{
		{"http://h:8000", Completions, "http://h:8000/v1/completions"},
		{"http://h:8000/", Chat, "http://h:8000/v1/chat/completions"},
		{"http://h:8000/v1", "", "http://h:8000/v1/completions"},
		{"http://h/openai/v1/chat/completions", Completions, "http://h/openai/v1/chat/completions"},
	}
	for _, tt := range tests {
		if got := (Config{URL: tt.url, API: tt.api}).Endpoint(); got != tt.want {
			t.Errorf("Endpoint(%q, %q): got %q, want %q", tt.url, tt.api, got, tt.want)
		}
	}
}

func TestPrompt(t *testing.T) {
	seen := map[string]bool{}
	for _, w := range words {
		seen[w] = true
	}
	if len(words) != 64 || len(seen) != 64 {
		t.Fatalf("got %d words, %d distinct, want 64 distinct (base-64 index)", len(words), len(seen))
	}
	for _, n := range []int{1, 3, 512, 4096} {
		if got := wordCount(Prompt(5, n)); got != n {
			t.Errorf("Prompt(5, %d): got %d words, want %d", n, got, n)
		}
	}
	// Distinct indexes differ within the first three words.
	for _, pair := range [][2]int{{0, 1}, {63, 64}, {64, 4096}, {1, 4097}} {
		a, b := strings.Fields(Prompt(pair[0], 3)), strings.Fields(Prompt(pair[1], 3))
		if strings.Join(a, " ") == strings.Join(b, " ") {
			t.Errorf("Prompt(%d) and Prompt(%d) start alike: %v", pair[0], pair[1], a)
		}
	}
}

func TestQuantile(t *testing.T) {
	// By hand, type 7: position q × (n−1) between order statistics.
	tests := []struct {
		v    []float64
		q    float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, 0.5, 2.5},
		{[]float64{1, 2, 3, 4}, 0.9, 3.7}, // position 2.7: 3 + 0.7 × 1
		{[]float64{10}, 0.99, 10},
		{[]float64{0, 100}, 0.99, 99},
		{[]float64{1, 2, 3}, 1, 3},
	}
	for _, tt := range tests {
		if got := Quantile(tt.v, tt.q); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Quantile(%v, %g): got %g, want %g", tt.v, tt.q, got, tt.want)
		}
	}
	if got := Quantile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("Quantile(nil): got %g, want NaN", got)
	}
}
