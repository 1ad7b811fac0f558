package loadgen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// API is the OpenAI endpoint flavour a Config sends to.
type API string

const (
	// Completions is POST /v1/completions with the prompt as text.
	Completions API = "completions"
	// Chat is POST /v1/chat/completions with the prompt as one user
	// message. The server's chat template adds tokens to the prompt, so
	// the prompt the model sees is somewhat longer than ISL.
	Chat API = "chat"
)

// DefaultTimeout is the stall timeout used when Config.Timeout is zero.
const DefaultTimeout = 60 * time.Second

// Config is one load point: what to send, where, and how much.
type Config struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:8000. The path
	// /v1/completions or /v1/chat/completions is appended, unless the
	// URL's path already ends in "completions".
	URL string
	// API is the endpoint flavour; empty means Completions.
	API API
	// Model is the served model name sent in each request (vLLM's
	// --served-model-name); may be empty for servers that ignore it.
	Model string
	// ISL is the prompt length: ISL whitespace-separated words (Prompt).
	// fleetsim emulate counts prompt tokens as words; a real tokenizer
	// makes about one token of each (common one-token English words).
	ISL int
	// OSL is the output length asked for: max_tokens and min_tokens, with
	// ignore_eos, so that vLLM generates exactly OSL tokens.
	OSL int
	// Concurrency, when > 0, runs closed-loop: this many requests are in
	// flight, each sent as soon as the previous one of its slot ends.
	Concurrency int
	// RatePerS, when > 0, runs open-loop: requests are sent at Poisson
	// arrival times of this rate (per second) regardless of responses.
	// Exactly one of Concurrency and RatePerS is set.
	RatePerS float64
	// Requests, when > 0, is the number of requests to send.
	Requests int
	// Duration, when > 0, sends requests until this much time has passed
	// (rate: arrivals before Duration; concurrency: no new request after
	// it) and waits for those in flight. Exactly one of Requests and
	// Duration is set.
	Duration time.Duration
	// Timeout is the stall timeout: a request that receives no data chunk
	// (nor its response headers) for this long fails with ErrStall. Zero
	// means DefaultTimeout.
	Timeout time.Duration
	// Rand draws the Poisson arrival times; required when RatePerS > 0.
	Rand *rand.Rand
	// Client sends the requests; nil means a client of Run's own, with
	// enough idle connections for the load.
	Client *http.Client
}

// Validate reports every problem of c, each naming its field, joined.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
		add("url: must start with http:// or https://, got %q", c.URL)
	}
	if c.API != "" && c.API != Completions && c.API != Chat {
		add("api: must be %s or %s, got %q", Completions, Chat, string(c.API))
	}
	if c.ISL < 1 {
		add("isl: must be >= 1, got %d", c.ISL)
	}
	if c.OSL < 1 {
		add("osl: must be >= 1, got %d", c.OSL)
	}
	switch {
	case c.Concurrency < 0:
		add("concurrency: must be >= 1, got %d", c.Concurrency)
	case math.IsNaN(c.RatePerS) || math.IsInf(c.RatePerS, 0) || c.RatePerS < 0:
		add("rate: must be a finite positive number, got %g", c.RatePerS)
	case c.Concurrency > 0 && c.RatePerS > 0:
		add("concurrency, rate: set one, not both")
	case c.Concurrency == 0 && c.RatePerS == 0:
		add("concurrency, rate: set one")
	case c.RatePerS > 0 && c.Rand == nil:
		add("rand: required with a rate")
	}
	switch {
	case c.Requests < 0:
		add("requests: must be >= 1, got %d", c.Requests)
	case c.Duration < 0:
		add("duration: must be > 0, got %v", c.Duration)
	case c.Requests > 0 && c.Duration > 0:
		add("requests, duration: set one, not both")
	case c.Requests == 0 && c.Duration == 0:
		add("requests, duration: set one")
	}
	if c.Timeout < 0 {
		add("timeout: must be > 0, got %v", c.Timeout)
	}
	return errors.Join(errs...)
}

// Endpoint returns the URL requests are posted to.
func (c Config) Endpoint() string {
	u := strings.TrimRight(c.URL, "/")
	if strings.HasSuffix(u, "completions") {
		return u
	}
	if !strings.HasSuffix(u, "/v1") {
		u += "/v1"
	}
	if c.API == Chat {
		return u + "/chat/completions"
	}
	return u + "/completions"
}

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// Label names the load point: "concurrency=4" or "rate=2".
func (c Config) Label() string {
	if c.RatePerS > 0 {
		return fmt.Sprintf("rate=%g", c.RatePerS)
	}
	return fmt.Sprintf("concurrency=%d", c.Concurrency)
}

// words are common English words that the Llama 3 and GPT tokenizers
// each encode as one token (with the leading space), so that a prompt of n
// words is close to n tokens. 64 of them, so that Prompt's leading words
// encode the request index in base 64.
var words = strings.Fields(`the of and to in is it you that he was for on are as with
his they at be this from have or one had by word but not what all were we when your
can said there use an each which she do how their if will up other about out many
then them these so some her would make like him`)

// Prompt returns the prompt of request index: n whitespace-separated
// words. The first three words spell index in base 64, so that prompts of
// up to 262,144 requests differ from their first token and a server's
// prefix cache cannot serve one request's prompt from another's; the rest
// repeat a fixed sequence. Prompt panics if n < 1 (programmer error).
func Prompt(index, n int) string {
	if n < 1 {
		panic(fmt.Sprintf("loadgen: prompt of %d words", n))
	}
	var b strings.Builder
	for k := range n {
		if k > 0 {
			b.WriteByte(' ')
		}
		w := words[k%len(words)]
		if k < 3 {
			w = words[(index>>(6*k))%len(words)]
		}
		b.WriteString(w)
	}
	return b.String()
}
