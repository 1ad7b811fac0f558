package emulate

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fleetsim/fleetsim/profiles"
	"github.com/fleetsim/fleetsim/serving"
)

// Defaults of Config fields left zero.
const (
	// DefaultMaxBatch is the most sequences that run at once: vLLM's
	// max_num_seqs default (also scenarios.DefaultMaxBatch).
	DefaultMaxBatch = 256
	// DefaultMaxQueue is the most requests that wait for admission before
	// the server answers 429.
	DefaultMaxQueue = 1024
	// DefaultBlockTokens is the tokens per KV-cache block: vLLM's block_size
	// on CUDA (also scenarios.DefaultBlockSize).
	DefaultBlockTokens = 16
	// DefaultMaxTokens is the output length of a request that sets no
	// max_tokens.
	DefaultMaxTokens = 128
	// MaxOutputTokens is the largest max_tokens accepted.
	MaxOutputTokens = 32768
)

// Config says which replica to emulate. GPU and Model are required; the
// other fields have defaults when zero.
type Config struct {
	// GPU is a GPU catalog id or alias (serving.LookupGPU): h100, a100, ...
	GPU string
	// Model is a model catalog id or published name (serving.LookupModel).
	Model string
	// TP is the tensor-parallel GPUs of the replica: 1, 2, 4 or 8. Zero means 1.
	TP int
	// Precision is bf16 or fp8. Empty means bf16.
	Precision string
	// Profile is a built-in profile name or a profile file whose
	// coefficients the step model uses. Empty means profiles.DefaultName.
	Profile string
	// Speedup divides every step time: 1 is real time, 10 runs ten times
	// faster (for tests). Zero means 1; it must be positive and finite.
	Speedup float64
	// MaxQueue is the most requests waiting for admission; one more is
	// answered 429. Zero means DefaultMaxQueue.
	MaxQueue int
	// MaxBatch is the most sequences that run at once (vLLM max_num_seqs).
	// Zero means DefaultMaxBatch.
	MaxBatch int
	// TokenBudget is the most tokens one iteration computes (vLLM
	// max_num_batched_tokens). Zero means serving.DefaultTokenBudget.
	TokenBudget int
}

// Server is one emulated replica: an http.Handler serving the OpenAI
// completions and chat completions API, /v1/models, /health and /metrics,
// and the engine goroutine that paces it. Build one with New; it is safe
// for concurrent use.
type Server struct {
	model     *serving.StepModel
	modelID   string
	maxCtx    int
	eng       *engine
	mux       *http.ServeMux
	created   int64
	nextID    atomic.Int64
	closeOnce atomic.Bool
}

// New validates cfg against the GPU and model catalogs and the profile,
// builds the step model the way `fleetsim predict` does, and starts the
// engine goroutine. It returns an error listing every problem found.
func New(cfg Config) (*Server, error) {
	var errs []error
	g, ok := serving.LookupGPU(cfg.GPU)
	if !ok {
		errs = append(errs, fmt.Errorf("gpu: unknown GPU %q", cfg.GPU))
	}
	m, okM := serving.LookupModel(cfg.Model)
	if !okM {
		errs = append(errs, fmt.Errorf("model: unknown model %q", cfg.Model))
	}
	prec, err := serving.ParsePrecision(cfg.Precision)
	if err != nil {
		errs = append(errs, fmt.Errorf("precision: %w", err))
	}
	if cfg.TP == 0 {
		cfg.TP = 1
	}
	if cfg.Speedup == 0 {
		cfg.Speedup = 1
	}
	if !(cfg.Speedup > 0) || math.IsInf(cfg.Speedup, 1) {
		errs = append(errs, fmt.Errorf("speedup: must be > 0 and finite, got %g", cfg.Speedup))
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = DefaultMaxQueue
	}
	if cfg.MaxQueue < 0 {
		errs = append(errs, fmt.Errorf("maxQueue: must be >= 0, got %d", cfg.MaxQueue))
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.TokenBudget == 0 {
		cfg.TokenBudget = serving.DefaultTokenBudget
	}
	if cfg.TokenBudget < 1 {
		errs = append(errs, fmt.Errorf("tokenBudget: must be >= 1, got %d", cfg.TokenBudget))
	}
	prof, err := profiles.Resolve(cfg.Profile, "")
	if err != nil {
		errs = append(errs, fmt.Errorf("profile: %w", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c, _ := prof.Lookup(g.ID, m.ID, prec)
	sm, err := serving.New(serving.ReplicaSpec{Model: m, GPU: g, TensorParallel: cfg.TP, Precision: prec, MaxBatch: cfg.MaxBatch}, c)
	if err != nil {
		return nil, fmt.Errorf("%s on %d × %s: %w", m.ID, cfg.TP, g.ID, err)
	}
	if sm.KVCapacityTokens() < DefaultBlockTokens {
		return nil, fmt.Errorf("%s on %d × %s: kv cache holds %d tokens, less than one block", m.ID, cfg.TP, g.ID, sm.KVCapacityTokens())
	}
	s := &Server{
		model:   sm,
		modelID: m.ID,
		maxCtx:  m.MaxContext,
		eng:     newEngine(sm, cfg.Speedup, cfg.TokenBudget, cfg.MaxQueue, DefaultBlockTokens),
		mux:     http.NewServeMux(),
		created: time.Now().Unix(),
	}
	s.mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) { s.generate(w, r, false) })
	s.mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { s.generate(w, r, true) })
	s.mux.HandleFunc("GET /v1/models", s.models)
	s.mux.HandleFunc("GET /health", s.health)
	s.mux.HandleFunc("GET /metrics", s.metrics)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("no route %s %s", r.Method, r.URL.Path))
	})
	go s.eng.loop()
	return s, nil
}

// ServeHTTP serves the API; see the package documentation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops the engine loop. Requests still waiting or running end with
// an error: a streamed one with an error event, another with status 503.
// Later requests get 503. Close is idempotent and always returns nil.
func (s *Server) Close() error {
	s.closeOnce.Store(true)
	s.eng.close()
	return nil
}

// Model returns the step model the server paces its iterations by.
func (s *Server) Model() *serving.StepModel { return s.model }

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	if s.closeOnce.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data": []map[string]any{{
			"id": s.modelID, "object": "model", "created": s.created, "owned_by": "fleetsim",
			"root": s.modelID, "max_model_len": s.maxCtx,
		}},
	})
}

// metrics writes the Prometheus text exposition of the engine's state,
// under vLLM's metric names.
func (s *Server) metrics(w http.ResponseWriter, _ *http.Request) {
	sn := s.eng.snapshot()
	lbl := fmt.Sprintf(`{model_name=%q}`, s.modelID)
	var b strings.Builder
	metric := func(name, typ, help, labels, value string) {
		fmt.Fprintf(&b, "# HELP vllm:%s %s\n# TYPE vllm:%s %s\nvllm:%s%s %s\n", name, help, name, typ, name, labels, value)
	}
	metric("num_requests_running", "gauge", "Number of requests in model execution batches.", lbl, fmt.Sprint(sn.running))
	metric("num_requests_waiting", "gauge", "Number of requests waiting to be processed.", lbl, fmt.Sprint(sn.waiting))
	metric("kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", lbl, fmt.Sprint(sn.kvUsage))
	metric("gpu_cache_usage_perc", "gauge", "GPU KV-cache usage. 1 means 100 percent usage (vLLM V0 name).", lbl, fmt.Sprint(sn.kvUsage))
	metric("prompt_tokens_total", "counter", "Number of prefill tokens processed.", lbl, fmt.Sprint(sn.promptTotal))
	metric("generation_tokens_total", "counter", "Number of generation tokens processed.", lbl, fmt.Sprint(sn.generationTotal))
	metric("request_success_total", "counter", "Count of successfully processed requests.",
		fmt.Sprintf(`{finished_reason="length",model_name=%q}`, s.modelID), fmt.Sprint(sn.successTotal))
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// lookupModel returns the catalog id name resolves to.
func lookupModel(name string) (string, bool) {
	m, ok := serving.LookupModel(name)
	return m.ID, ok
}
