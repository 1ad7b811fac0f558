package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrorKind classifies a failed request. The zero value means success.
type ErrorKind string

// Error kinds, in the order summaries list them.
const (
	// ErrConnect: the request could not be sent or no response headers
	// came (connection refused, reset, DNS, TLS).
	ErrConnect ErrorKind = "connect"
	// ErrHTTPStatus: the response status was not 200 OK.
	ErrHTTPStatus ErrorKind = "http-status"
	// ErrStreamError: the stream carried an error object (vLLM reports
	// errors after the stream started this way).
	ErrStreamError ErrorKind = "stream-error"
	// ErrClosedEarly: the stream ended (EOF or a broken connection)
	// before "data: [DONE]", or ended with no token.
	ErrClosedEarly ErrorKind = "closed-early"
	// ErrStall: no response headers or no data chunk for Config.Timeout.
	ErrStall ErrorKind = "stall"
	// ErrMalformed: a data chunk was not the JSON of a completion chunk.
	ErrMalformed ErrorKind = "malformed-chunk"
	// ErrCanceled: Run's context was canceled while the request ran.
	ErrCanceled ErrorKind = "canceled"
)

// ErrorKinds returns every error kind in the order summaries list them.
func ErrorKinds() []ErrorKind {
	return []ErrorKind{ErrConnect, ErrHTTPStatus, ErrStreamError, ErrClosedEarly, ErrStall, ErrMalformed, ErrCanceled}
}

// Request is the measurement of one request, taken from its stream.
type Request struct {
	// Index numbers the requests of a load point from 0 in send order.
	Index int
	// Sent is when the request was sent, from the start of the load point.
	Sent time.Duration
	// Status is the HTTP status code; 0 when no response came.
	Status int
	// Err is the failure kind; empty for a successful request.
	Err ErrorKind
	// Detail says more about a failure (the error, or the start of the
	// body of an error status).
	Detail string
	// TTFT is the time from sending to the first chunk with content.
	TTFT time.Duration
	// TPOT is the time per output token after the first: (last content
	// chunk − first content chunk) / (OutputTokens − 1); 0 with fewer
	// than two tokens.
	TPOT time.Duration
	// E2E is the time from sending to the end of the stream ([DONE]).
	E2E time.Duration
	// OutputTokens is the usage.completion_tokens the server reported,
	// or else the number of chunks with content.
	OutputTokens int
	// Chunks is the number of data chunks with content.
	Chunks int
}

// OK reports whether the request succeeded.
func (r Request) OK() bool { return r.Err == "" }

// Result is one load point: its configuration, every request and their
// summary.
type Result struct {
	// Config is the load point as run (Rand and Client as given).
	Config Config
	// Requests are the requests in Index order.
	Requests []Request
	// Elapsed is the time from the first send to the end of the last request.
	Elapsed time.Duration
	// Summary is computed from Requests and Elapsed.
	Summary Summary
}

// Arrivals returns the send times of a Poisson process of rate requests
// per second drawn from rng: the first at 0, then exponentially
// distributed gaps of mean 1/rate. It returns n times when n > 0, else
// every time before d. Arrivals panics if rate <= 0, rng is nil, or
// neither n nor d is positive (programmer errors).
func Arrivals(rng *rand.Rand, rate float64, n int, d time.Duration) []time.Duration {
	if !(rate > 0) || rng == nil || (n <= 0 && d <= 0) {
		panic("loadgen: Arrivals needs rate > 0, a random source and n or d")
	}
	var out []time.Duration
	t := 0.0
	for {
		at := time.Duration(t * float64(time.Second))
		if (n > 0 && len(out) == n) || (n <= 0 && at >= d) {
			return out
		}
		out = append(out, at)
		t += rng.ExpFloat64() / rate
	}
}

// Run sends the load point cfg and measures every request. Failed
// requests are in the result with their ErrorKind; they make no error of
// Run. Run returns an error for an invalid cfg, and the partial result
// with the context's error when ctx ends before the load point does.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	client := cfg.Client
	if client == nil {
		slots := cfg.Concurrency
		if slots == 0 {
			slots = 64
		}
		tr := &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConns: slots, MaxIdleConnsPerHost: slots, DisableCompression: true}
		defer tr.CloseIdleConnections()
		client = &http.Client{Transport: tr}
	}
	g := &runner{cfg: cfg, client: client, endpoint: cfg.Endpoint(), timeout: cfg.timeout()}
	g.start = time.Now()
	var (
		mu   sync.Mutex
		reqs []Request
		wg   sync.WaitGroup
	)
	record := func(r Request) {
		mu.Lock()
		reqs = append(reqs, r)
		mu.Unlock()
	}
	if cfg.RatePerS > 0 {
		timer := time.NewTimer(0)
		defer timer.Stop()
	arrivals:
		for i, at := range Arrivals(cfg.Rand, cfg.RatePerS, cfg.Requests, cfg.Duration) {
			timer.Reset(max(0, time.Until(g.start.Add(at))))
			select {
			case <-ctx.Done():
				break arrivals
			case <-timer.C:
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				record(g.do(ctx, i))
			}()
		}
	} else {
		var next atomic.Int64
		for range cfg.Concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					i := int(next.Add(1) - 1)
					if cfg.Requests > 0 && i >= cfg.Requests {
						return
					}
					if cfg.Duration > 0 && time.Since(g.start) >= cfg.Duration {
						return
					}
					record(g.do(ctx, i))
				}
			}()
		}
	}
	wg.Wait()
	end := time.Now()
	slices.SortFunc(reqs, func(a, b Request) int { return a.Index - b.Index })
	if cfg.Concurrency > 0 {
		// Slots may have claimed indexes they did not send (past Duration).
		for i := range reqs {
			reqs[i].Index = i
		}
	}
	res := &Result{Config: cfg, Requests: reqs, Elapsed: end.Sub(g.start)}
	res.Summary = Summarize(reqs, res.Elapsed)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("loadgen: %s: %w", cfg.Label(), err)
	}
	return res, nil
}

// Sweep runs cfg at each concurrency of concurrencies, or else at each
// rate of rates (exactly one list is non-empty), in order, and returns the
// results. It stops at the first error, returning the results so far.
func Sweep(ctx context.Context, cfg Config, concurrencies []int, rates []float64) ([]*Result, error) {
	if (len(concurrencies) == 0) == (len(rates) == 0) {
		return nil, errors.New("loadgen: sweep needs a list of concurrencies or of rates, not both")
	}
	var out []*Result
	point := func(c Config) error {
		r, err := Run(ctx, c)
		if r != nil {
			out = append(out, r)
		}
		return err
	}
	for _, n := range concurrencies {
		c := cfg
		c.Concurrency, c.RatePerS = n, 0
		if err := point(c); err != nil {
			return out, err
		}
	}
	for _, rate := range rates {
		c := cfg
		c.Concurrency, c.RatePerS = 0, rate
		if err := point(c); err != nil {
			return out, err
		}
	}
	return out, nil
}

// runner holds what every request of a load point shares.
type runner struct {
	cfg      Config
	client   *http.Client
	endpoint string
	timeout  time.Duration
	start    time.Time
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// requestBody is the JSON of one request. min_tokens and ignore_eos are
// vLLM extensions (also accepted by SGLang and fleetsim emulate) that make
// the server generate exactly max_tokens tokens.
type requestBody struct {
	Model         string        `json:"model,omitempty"`
	Prompt        string        `json:"prompt,omitempty"`
	Messages      []message     `json:"messages,omitempty"`
	MaxTokens     int           `json:"max_tokens"`
	MinTokens     int           `json:"min_tokens"`
	IgnoreEOS     bool          `json:"ignore_eos"`
	Temperature   float64       `json:"temperature"`
	Stream        bool          `json:"stream"`
	StreamOptions streamOptions `json:"stream_options"`
}

// Body returns the JSON request body of request index.
func (c Config) Body(index int) []byte {
	b := requestBody{Model: c.Model, MaxTokens: c.OSL, MinTokens: c.OSL, IgnoreEOS: true, Stream: true,
		StreamOptions: streamOptions{IncludeUsage: true}}
	p := Prompt(index, c.ISL)
	if c.API == Chat {
		b.Messages = []message{{Role: "user", Content: p}}
	} else {
		b.Prompt = p
	}
	data, err := json.Marshal(b)
	if err != nil {
		panic(fmt.Sprintf("loadgen: marshal request: %v", err)) // strings and ints always marshal
	}
	return data
}

// chunk is the part of a completion or chat completion chunk read here.
type chunk struct {
	Choices []struct {
		Text  string `json:"text"`
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *struct {
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// maxLine bounds one SSE line.
const maxLine = 4 << 20

// do sends request i and measures it.
func (g *runner) do(ctx context.Context, i int) Request {
	r := Request{Index: i}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stalled atomic.Bool
	watchdog := time.AfterFunc(g.timeout, func() { stalled.Store(true); cancel() })
	defer watchdog.Stop()
	fail := func(kind ErrorKind, err error) Request {
		switch {
		case stalled.Load():
			kind, err = ErrStall, fmt.Errorf("no data for %v", g.timeout)
		case ctx.Err() != nil:
			kind = ErrCanceled
		}
		r.Err = kind
		if err != nil {
			r.Detail = err.Error()
		}
		return r
	}
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, g.endpoint, bytes.NewReader(g.cfg.Body(i)))
	if err != nil {
		return fail(ErrConnect, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	sent := time.Now()
	r.Sent = sent.Sub(g.start)
	resp, err := g.client.Do(req)
	if err != nil {
		return fail(ErrConnect, err)
	}
	defer resp.Body.Close()
	r.Status = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fail(ErrHTTPStatus, fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(head))))
	}
	watchdog.Reset(g.timeout)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var first, last time.Time
	usage, done := 0, false
	for !done && sc.Scan() {
		line := bytes.TrimRight(sc.Bytes(), "\r")
		payload, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			continue // blank separator, comment, event: or id: line
		}
		now := time.Now()
		watchdog.Reset(g.timeout)
		payload = bytes.TrimSpace(payload)
		if string(payload) == "[DONE]" {
			done = true
			break
		}
		var c chunk
		if err := json.Unmarshal(payload, &c); err != nil {
			return fail(ErrMalformed, fmt.Errorf("chunk %q: %w", clip(payload), err))
		}
		if len(c.Error) > 0 && string(c.Error) != "null" {
			return fail(ErrStreamError, fmt.Errorf("%s", clip(c.Error)))
		}
		if c.Usage != nil && c.Usage.CompletionTokens > 0 {
			usage = c.Usage.CompletionTokens
		}
		content := false
		for _, ch := range c.Choices {
			if ch.Text != "" || ch.Delta.Content != "" {
				content = true
			}
		}
		if content {
			if r.Chunks == 0 {
				first = now
			}
			last = now
			r.Chunks++
		}
	}
	end := time.Now()
	if err := sc.Err(); err != nil {
		return fail(ErrClosedEarly, err)
	}
	if !done {
		return fail(ErrClosedEarly, fmt.Errorf("stream ended without [DONE] after %d chunks", r.Chunks))
	}
	if r.Chunks == 0 {
		return fail(ErrClosedEarly, errors.New("stream ended with no token"))
	}
	r.OutputTokens = r.Chunks
	if usage > 0 {
		r.OutputTokens = usage
	}
	r.TTFT = first.Sub(sent)
	r.E2E = end.Sub(sent)
	if r.OutputTokens >= 2 {
		r.TPOT = last.Sub(first) / time.Duration(r.OutputTokens-1)
	}
	return r
}

// clip shortens b for an error message.
func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}
