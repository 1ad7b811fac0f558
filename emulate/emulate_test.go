package emulate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fleetsim/fleetsim/serving"
)

// newTest starts a Server for cfg behind an httptest server; both are
// closed when the test ends.
func newTest(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.GPU == "" {
		cfg.GPU, cfg.Model = "h100", "llama-3.1-8b"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		_ = s.Close()
		hs.Close()
	})
	return s, hs
}

// words returns a prompt of n whitespace-separated words.
func words(n int) string { return strings.TrimSpace(strings.Repeat("word ", n)) }

func post(t *testing.T, ctx context.Context, url string, body any) *http.Response {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return resp
}

// streamed is what a client saw of a streamed response.
type streamed struct {
	start     time.Time
	tokens    []time.Time // arrival of each token's chunk
	text      []string
	reasons   []any // finish_reason of each token chunk
	usage     *usage
	done      bool   // data: [DONE] seen
	errorSeen string // message of an error event
}

// readStream reads SSE events from resp until [DONE], an error event or EOF.
func readStream(t *testing.T, resp *http.Response, start time.Time, chat bool) streamed {
	t.Helper()
	defer resp.Body.Close()
	out := streamed{start: start}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		data := strings.TrimPrefix(line, "data: ")
		if data == "[DONE]" {
			out.done = true
			return out
		}
		var ev struct {
			Choices []struct {
				Text         string                   `json:"text"`
				Delta        struct{ Content string } `json:"delta"`
				FinishReason any                      `json:"finish_reason"`
			} `json:"choices"`
			Usage *usage `json:"usage"`
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Errorf("bad event %q: %v", data, err)
			return out
		}
		if ev.Error != nil {
			out.errorSeen = ev.Error.Message
			return out
		}
		if ev.Usage != nil {
			out.usage = ev.Usage
		}
		for _, c := range ev.Choices {
			out.tokens = append(out.tokens, time.Now())
			if chat {
				out.text = append(out.text, c.Delta.Content)
			} else {
				out.text = append(out.text, c.Text)
			}
			out.reasons = append(out.reasons, c.FinishReason)
		}
	}
	return out
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// TestEmulateStreamTiming checks that a lone streamed request's time to
// first token is the step model's prefill time of its prompt and that its
// tokens then arrive one decode step apart, the step times computed from
// the server's own StepModel.
func TestEmulateStreamTiming(t *testing.T) {
	for _, tc := range []struct {
		name    string
		chat    bool
		prompt  int
		output  int
		speedup float64
	}{
		// 2000 words: a compute-bound prefill about 7x a decode step on an H100.
		{"completions long prompt", false, 2000, 30, 1},
		{"chat short prompt", true, 50, 40, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, hs := newTest(t, Config{Speedup: tc.speedup})
			m := s.Model()
			p := tc.prompt
			// One prefill chunk of p tokens after no cached context: p × p/2 attention pairs.
			wantTTFT := secs(m.PrefillSeconds(p, 1, float64(p)*float64(p)/2) / tc.speedup)
			// The prefill samples token 1; tokens 2..n come from n-1 decode
			// steps, the first attending to p tokens of context.
			dec, _ := m.DecodeRun(1, p, tc.output-1)
			wantGap := secs(dec / float64(tc.output-1) / tc.speedup)

			body := map[string]any{"model": "llama-3.1-8b", "max_tokens": tc.output, "stream": true,
				"stream_options": map[string]any{"include_usage": true}}
			url := hs.URL + "/v1/completions"
			if tc.chat {
				url = hs.URL + "/v1/chat/completions"
				body["messages"] = []map[string]any{{"role": "user", "content": words(p)}}
			} else {
				body["prompt"] = words(p)
			}
			// Timing on a shared machine can stall; a scenario is tried up to
			// 3 times and passes when one try is on time. A wrong step time
			// fails every try.
			var problems []string
			for try := 0; try < 3; try++ {
				problems = timedStream(t, hs.URL, url, body, tc.chat, p, tc.output, wantTTFT, wantGap)
				if len(problems) == 0 {
					return
				}
				t.Logf("try %d: %s", try+1, strings.Join(problems, "; "))
			}
			t.Error(strings.Join(problems, "; "))
		})
	}
}

// TestEmulateBatching checks that two concurrent requests share iterations:
// together they take about as long as one alone (decode is memory-bound, so
// a step of 2 costs little more than a step of 1), far below the 2x of
// serving them one after the other.
func TestEmulateBatching(t *testing.T) {
	const speedup, prompt, output = 2.0, 100, 60
	s, hs := newTest(t, Config{Speedup: speedup})
	m := s.Model()
	dec, _ := m.DecodeRun(1, prompt, output-1)
	single := secs((m.PrefillSeconds(prompt, 1, prompt*prompt/2) + dec) / speedup)

	// Tried up to 3 times, as in TestEmulateStreamTiming: a stall of the
	// shared test machine only adds time, and serial execution fails every try.
	for try := 1; ; try++ {
		total := concurrentPair(t, hs.URL, prompt, output)
		if total < single*9/10 {
			t.Fatalf("two concurrent requests: got %v, faster than one alone (%v)", total, single)
		}
		if total <= single*3/2 {
			return
		}
		if try == 3 {
			t.Fatalf("two concurrent requests: got %v, want < 1.5 × %v (one alone); serial would be %v", total, single, 2*single)
		}
		t.Logf("try %d: two concurrent requests took %v", try, total)
	}
}

// concurrentPair sends two identical streamed requests at once and returns
// the time until both have ended.
func concurrentPair(t *testing.T, base string, prompt, output int) time.Duration {
	t.Helper()
	start := time.Now()
	var wg sync.WaitGroup
	results := make([]streamed, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(base+"/v1/completions", "application/json",
				strings.NewReader(fmt.Sprintf(`{"prompt":%q,"max_tokens":%d,"stream":true}`, words(prompt), output)))
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = readStream(t, resp, start, false)
		}()
	}
	wg.Wait()
	total := time.Since(start)
	for i, r := range results {
		if len(r.tokens) != output || !r.done {
			t.Fatalf("request %d: got %d tokens (done %v), want %d", i, len(r.tokens), r.done, output)
		}
	}
	return total
}

// metricsOf scrapes /metrics into name (labels dropped) -> value.
func metricsOf(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad metrics line %q", line)
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			t.Fatalf("bad metrics value %q: %v", line, err)
		}
		out[name] = v
	}
	return out
}

// waitMetric polls /metrics until name has value want, for up to 2 s.
func waitMetric(t *testing.T, url, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		got := metricsOf(t, url)[name]
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: got %g, want %g", name, got, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestEmulateMetricsCounters checks that after requests complete the token
// counters equal the tokens served (sums of the requests' prompt words and
// max_tokens) and the gauges are back to zero.
func TestEmulateMetricsCounters(t *testing.T) {
	_, hs := newTest(t, Config{Speedup: 20})
	reqs := []struct {
		path, body string
		prompt     int
		output     int
	}{
		{"/v1/completions", `{"prompt":"one two three","max_tokens":5}`, 3, 5},
		{"/v1/completions", `{"prompt":[1,2,3,4,5,6,7],"max_tokens":2}`, 7, 2},
		{"/v1/chat/completions", `{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"a b c"}]}],"max_completion_tokens":4}`, 5, 4},
		{"/v1/completions", `{"prompt":"x y"}`, 2, DefaultMaxTokens},
	}
	var wantPrompt, wantGen int
	for _, r := range reqs {
		resp, err := http.Post(hs.URL+r.path, "application/json", strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Usage   usage `json:"usage"`
			Choices []struct {
				Text    string                   `json:"text"`
				Message struct{ Content string } `json:"message"`
			} `json:"choices"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: status %d, %v", r.path, r.body, resp.StatusCode, err)
		}
		if body.Usage != (usage{r.prompt, r.output, r.prompt + r.output}) {
			t.Errorf("%s: usage: got %+v, want {%d %d %d}", r.body, body.Usage, r.prompt, r.output, r.prompt+r.output)
		}
		text := body.Choices[0].Text + body.Choices[0].Message.Content
		if n := CountTokens(text); n != r.output {
			t.Errorf("%s: text has %d words, want %d", r.body, n, r.output)
		}
		wantPrompt += r.prompt
		wantGen += r.output
	}
	got := metricsOf(t, hs.URL)
	for _, c := range []struct {
		name string
		want float64
	}{
		{"vllm:prompt_tokens_total", float64(wantPrompt)},
		{"vllm:generation_tokens_total", float64(wantGen)},
		{"vllm:request_success_total", float64(len(reqs))},
		{"vllm:num_requests_running", 0},
		{"vllm:num_requests_waiting", 0},
		{"vllm:kv_cache_usage_perc", 0},
	} {
		if got[c.name] != c.want {
			t.Errorf("%s: got %g, want %g", c.name, got[c.name], c.want)
		}
	}
}

// TestEmulateQueueAndClose fills a replica that runs one sequence at a time
// (MaxBatch 1) and queues one (MaxQueue 1): the gauges show 1 running and 1
// waiting, a third request is refused with 429, and Close ends the running
// stream with an error event and the waiting request with 503.
func TestEmulateQueueAndClose(t *testing.T) {
	s, hs := newTest(t, Config{MaxBatch: 1, MaxQueue: 1})
	m := s.Model()
	long := fmt.Sprintf(`{"prompt":"a b c","max_tokens":%d,"stream":true}`, MaxOutputTokens/4)

	respA, err := http.Post(hs.URL+"/v1/completions", "application/json", strings.NewReader(long))
	if err != nil {
		t.Fatal(err)
	}
	waitMetric(t, hs.URL, "vllm:num_requests_running", 1)
	// Request A reserves the blocks of its 3 + 8192 tokens (16 per block).
	wantKV := float64((3+MaxOutputTokens/4+15)/16) / float64(m.KVCapacityTokens()/16)
	if got := metricsOf(t, hs.URL)["vllm:kv_cache_usage_perc"]; math.Abs(got-wantKV) > 1e-12 {
		t.Errorf("kv_cache_usage_perc: got %g, want %g", got, wantKV)
	}

	type result struct {
		status int
		body   string
	}
	bDone := make(chan result, 1)
	go func() {
		resp, err := http.Post(hs.URL+"/v1/completions", "application/json", strings.NewReader(`{"prompt":"b","max_tokens":3}`))
		if err != nil {
			bDone <- result{0, err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		bDone <- result{resp.StatusCode, string(b)}
	}()
	waitMetric(t, hs.URL, "vllm:num_requests_waiting", 1)

	resp, err := http.Post(hs.URL+"/v1/completions", "application/json", strings.NewReader(`{"prompt":"c"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("third request: got status %d, want 429", resp.StatusCode)
	}
	if !strings.Contains(string(b), `"error"`) {
		t.Errorf("429 body: got %s, want an OpenAI error object", b)
	}

	aDone := make(chan streamed, 1)
	go func() { aDone <- readStream(t, respA, time.Now(), false) }()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case st := <-aDone:
		if st.errorSeen == "" || st.done {
			t.Errorf("running stream after Close: got error %q, done %v; want an error event and no [DONE]", st.errorSeen, st.done)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("running stream did not end within 2 s of Close")
	}
	select {
	case r := <-bDone:
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("waiting request after Close: got status %d (%s), want 503", r.status, r.body)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("waiting request did not end within 2 s of Close")
	}
	resp, err = http.Get(hs.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("health after Close: got %d, want 503", resp.StatusCode)
	}
}

// TestEmulateDisconnect checks that a client going away frees its sequence
// and its KV blocks.
func TestEmulateDisconnect(t *testing.T) {
	_, hs := newTest(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	resp := post(t, ctx, hs.URL+"/v1/completions", map[string]any{"prompt": "hello", "max_tokens": 10000, "stream": true})
	// Wait for the first token, then hang up.
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "data: ") {
	}
	waitMetric(t, hs.URL, "vllm:num_requests_running", 1)
	cancel()
	resp.Body.Close()
	waitMetric(t, hs.URL, "vllm:num_requests_running", 0)
	waitMetric(t, hs.URL, "vllm:kv_cache_usage_perc", 0)
}

// TestEmulateBadRequests checks the OpenAI-style errors.
func TestEmulateBadRequests(t *testing.T) {
	_, hs := newTest(t, Config{})
	for _, tc := range []struct {
		name, path, body string
		want             int
	}{
		{"bad JSON", "/v1/completions", `{"prompt": "a",`, 400},
		{"no prompt", "/v1/completions", `{"max_tokens": 3}`, 400},
		{"empty prompt", "/v1/completions", `{"prompt": "   "}`, 400},
		{"prompt of numbers and words", "/v1/completions", `{"prompt": [1, "a"]}`, 400},
		{"no messages", "/v1/chat/completions", `{"model": "llama-3.1-8b"}`, 400},
		{"bad content", "/v1/chat/completions", `{"messages": [{"role": "user", "content": 5}]}`, 400},
		{"max_tokens 0", "/v1/completions", `{"prompt": "a", "max_tokens": 0}`, 400},
		{"max_tokens over cap", "/v1/completions", `{"prompt": "a", "max_tokens": 32769}`, 400},
		{"n 2", "/v1/completions", `{"prompt": "a", "n": 2}`, 400},
		// llama-3.1-8b's max_position_embeddings is 131072.
		{"longer than context", "/v1/completions", fmt.Sprintf(`{"prompt": %q, "max_tokens": 32768}`, words(131072-32768+1)), 400},
		{"other model", "/v1/completions", `{"model": "llama-3.1-70b", "prompt": "a"}`, 404},
		{"unknown route", "/v1/embeddings", `{}`, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(hs.URL+tc.path, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.want)
			}
			var e struct {
				Error *apiError `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error == nil || e.Error.Message == "" || e.Error.Code != tc.want {
				t.Errorf("body: got %+v (%v), want an OpenAI error object with code %d", e.Error, err, tc.want)
			}
		})
	}
}

// TestEmulatePublishedModelName checks that a request may name the model
// as it is published.
func TestEmulatePublishedModelName(t *testing.T) {
	_, hs := newTest(t, Config{Speedup: 50})
	resp, err := http.Post(hs.URL+"/v1/completions", "application/json",
		strings.NewReader(`{"model":"meta-llama/Llama-3.1-8B-Instruct","prompt":"hi","max_tokens":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status: got %d, want 200", resp.StatusCode)
	}
	resp, err = http.Get(hs.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Data []struct{ ID string } `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Data) != 1 || list.Data[0].ID != "llama-3.1-8b" {
		t.Errorf("/v1/models: got %+v (%v), want one model llama-3.1-8b", list, err)
	}
}

// TestEmulateNewErrors checks that New rejects what the catalog does not hold.
func TestEmulateNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"unknown gpu and model", Config{GPU: "h900", Model: "gpt-9"}, []string{`unknown GPU "h900"`, `unknown model "gpt-9"`}},
		{"bad tp", Config{GPU: "h100", Model: "llama-3.1-8b", TP: 3}, []string{"tensor parallelism"}},
		{"bad precision", Config{GPU: "h100", Model: "llama-3.1-8b", Precision: "int4"}, []string{"precision"}},
		{"bad speedup", Config{GPU: "h100", Model: "llama-3.1-8b", Speedup: -1}, []string{"speedup"}},
		{"unknown profile", Config{GPU: "h100", Model: "llama-3.1-8b", Profile: "nope"}, []string{`profile "nope"`}},
		{"weights do not fit", Config{GPU: "h100", Model: "llama-3.1-405b"}, []string{"weights do not fit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.cfg)
			if err == nil {
				s.Close()
				t.Fatalf("New(%+v): got nil error, want one", tc.cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error: got %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// TestEmulateChunkedPrefill checks the batches the scheduler builds against
// vLLM's chunked prefill rules, by hand: a 250-token prompt under a
// 100-token budget is computed in chunks of 100, 100 and 50, each chunk's
// attention pairs being chunk × (cached + chunk/2); a second request
// arriving meanwhile decodes alongside once its own prefill is done.
func TestEmulateChunkedPrefill(t *testing.T) {
	sm, err := serving.New(serving.ReplicaSpec{Model: mustModel(t, "llama-3.1-8b"), GPU: mustGPU(t, "h100"), TensorParallel: 1, MaxBatch: 8}, serving.DefaultCoefficients())
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(sm, 1, 100, 4, 16)
	a, err := e.submit(250, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []serving.Batch{
		{PrefillTokens: 100, PrefillSeqs: 1, PrefillPairs: 100 * 50},
		{PrefillTokens: 100, PrefillSeqs: 1, PrefillPairs: 100 * (100 + 50)},
		// b (10 tokens) arrives now: a's last 50 and all of b's 10 fit the budget.
		{PrefillTokens: 60, PrefillSeqs: 2, PrefillPairs: 50*(200+25) + 10*5},
		{DecodeSeqs: 2, DecodeContext: 250 + 10},
		{DecodeSeqs: 2, DecodeContext: 251 + 11},
	}
	var b *seq
	for i, w := range want {
		if i == 2 {
			if b, err = e.submit(10, 3); err != nil {
				t.Fatal(err)
			}
		}
		e.admitWaiting()
		if got := e.plan(); got != w {
			t.Errorf("iteration %d: got %+v, want %+v", i, got, w)
		}
		e.commit()
	}
	if !a.finished || !b.finished || len(e.running) != 0 || e.used != 0 {
		t.Errorf("after the last iteration: a finished %v, b finished %v, %d running, %d blocks used; want both finished, none running, 0 used",
			a.finished, b.finished, len(e.running), e.used)
	}
	if e.promptTotal != 260 || e.generationTotal != 6 || e.successTotal != 2 {
		t.Errorf("counters: got prompt %d, generation %d, success %d; want 260, 6, 2", e.promptTotal, e.generationTotal, e.successTotal)
	}
}

func mustModel(t *testing.T, id string) serving.Model {
	m, ok := serving.LookupModel(id)
	if !ok {
		t.Fatalf("no model %s", id)
	}
	return m
}

func mustGPU(t *testing.T, id string) serving.GPU {
	g, ok := serving.LookupGPU(id)
	if !ok {
		t.Fatalf("no GPU %s", id)
	}
	return g
}

// TestEmulateCountTokens checks the token-count rule: whitespace-separated words.
func TestEmulateCountTokens(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"one", 1},
		{"  two\twords\n", 2},
		{"a, b. c!", 3},
	} {
		t.Run(strconv.Quote(tc.in), func(t *testing.T) {
			if got := CountTokens(tc.in); got != tc.want {
				t.Errorf("CountTokens(%q): got %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

// timedStream sends one streamed request and returns what is wrong with it:
// its format, or a time to first token off wantTTFT by more than 20% or
// 3 ms (timer and scheduling jitter of one step), or a mean inter-token
// time off wantGap by more than 10% or 1 ms (a mean over many steps,
// whose errors do not add up since the engine keeps a deadline clock).
func timedStream(t *testing.T, base, url string, body map[string]any, chat bool, p, output int, wantTTFT, wantGap time.Duration) []string {
	t.Helper()
	// Open the connection first so that the TTFT measured holds no TCP handshake.
	if resp, err := http.Get(base + "/health"); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	start := time.Now()
	resp := post(t, context.Background(), url, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d, want 200", resp.StatusCode)
	}
	st := readStream(t, resp, start, chat)
	if len(st.tokens) != output {
		t.Fatalf("tokens: got %d, want %d", len(st.tokens), output)
	}
	if !st.done {
		t.Errorf("stream did not end with data: [DONE]")
	}
	if st.reasons[len(st.reasons)-1] != "length" {
		t.Errorf("last finish_reason: got %v, want length", st.reasons[len(st.reasons)-1])
	}
	if st.reasons[0] != nil {
		t.Errorf("first finish_reason: got %v, want null", st.reasons[0])
	}
	if st.usage == nil || *st.usage != (usage{p, output, p + output}) {
		t.Errorf("usage: got %+v, want {%d %d %d}", st.usage, p, output, p+output)
	}
	var problems []string
	ttft := st.tokens[0].Sub(start)
	if tol := max(wantTTFT/5, 3*time.Millisecond); ttft < wantTTFT-tol || ttft > wantTTFT+tol {
		problems = append(problems, fmt.Sprintf("TTFT: got %v, want %v ± %v", ttft, wantTTFT, tol))
	}
	gap := st.tokens[len(st.tokens)-1].Sub(st.tokens[0]) / time.Duration(output-1)
	t.Logf("TTFT %v (model %v), mean inter-token %v (model %v)", ttft, wantTTFT, gap, wantGap)
	if tol := max(wantGap/10, time.Millisecond); gap < wantGap-tol || gap > wantGap+tol {
		problems = append(problems, fmt.Sprintf("mean inter-token time: got %v, want %v ± %v", gap, wantGap, tol))
	}
	return problems
}
