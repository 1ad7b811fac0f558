package calibrate

import (
	"fmt"
	"math"
	"strings"

	"github.com/fleetsim/fleetsim/measurements"
	"github.com/fleetsim/fleetsim/serving"
)

// Engine is what the prediction assumes about a serving stack's settings.
type Engine struct {
	// MaxBatch is the most sequences the engine runs at once.
	MaxBatch int
	// TokenBudget is the most tokens one iteration processes.
	TokenBudget int
}

// EngineFor returns the settings assumed for a framework serving model m.
//
//   - vLLM: max_num_seqs 256 (vllm/config.py default); max_num_batched_tokens
//     the model's context length capped at 8192 (the V0 default without
//     chunked prefill is max(max_model_len, 2048); benchmarks cap
//     max_model_len, and 8192 is the V1 default).
//   - TensorRT-LLM: max_batch_size 2048 and max_num_tokens 8192, the
//     defaults of trtllm-bench / the LLM API BuildConfig.
//   - anything else: as vLLM.
func EngineFor(framework string, m serving.Model) Engine {
	budget := min(m.MaxContext, serving.DefaultTokenBudget)
	if budget <= 0 {
		budget = serving.DefaultTokenBudget
	}
	if frameworkProfile(framework) == "trtllm" {
		return Engine{MaxBatch: 2048, TokenBudget: 8192}
	}
	return Engine{MaxBatch: 256, TokenBudget: budget}
}

// ProfileFor returns the built-in profile a measurement calibrates:
// "mlperf" for MLPerf submissions (each submitter's own tuned stack, so
// they form their own family), otherwise by framework "vllm" or "trtllm",
// and "" for stacks fleetsim has no profile for (DeepSpeed-MII, vendor
// platforms, kernel profilers).
func ProfileFor(r measurements.Row) string {
	if r.Dataset == "mlperf" {
		return "mlperf"
	}
	return frameworkProfile(r.Framework)
}

func frameworkProfile(framework string) string {
	f := strings.ToLower(framework)
	switch {
	case strings.Contains(f, "tensorrt"), strings.Contains(f, "trt"):
		return "trtllm"
	case strings.Contains(f, "vllm"):
		return "vllm"
	}
	return ""
}

// Metric names a measured quantity.
type Metric string

// Metrics compared.
const (
	Throughput Metric = "output_tokens_per_s"
	TTFT       Metric = "ttft_ms"
	TPOT       Metric = "tpot_ms"
	LinearMs   Metric = "step_ms"
)

// Point is one measured quantity and the model's prediction of it.
type Point struct {
	Metric              Metric
	Measured, Predicted float64
}

// APE is the absolute percentage error as a fraction: |pred − meas| / meas.
func (p Point) APE() float64 { return math.Abs(p.Predicted-p.Measured) / p.Measured }

// Model builds the step model for a row with coefficients c.
func Model(r measurements.Row, c serving.Coefficients) (*serving.StepModel, Engine, error) {
	m, ok := serving.LookupModel(r.Model)
	if !ok {
		return nil, Engine{}, fmt.Errorf("unknown model %q", r.Model)
	}
	g, ok := serving.LookupGPU(r.GPU)
	if !ok {
		return nil, Engine{}, fmt.Errorf("unknown gpu %q", r.GPU)
	}
	eng := EngineFor(r.Framework, m)
	sm, err := serving.New(serving.ReplicaSpec{Model: m, GPU: g, TensorParallel: r.TP, Precision: r.Precision, MaxBatch: eng.MaxBatch}, c)
	return sm, eng, err
}

// Predict returns the row's measured quantities with the model's
// predictions. Rows of mode linear are predicted by PredictLinear instead.
func Predict(sm *serving.StepModel, eng Engine, r measurements.Row) ([]Point, error) {
	var pts []Point
	add := func(m Metric, meas, pred float64) {
		if meas > 0 && !math.IsNaN(meas) {
			pts = append(pts, Point{Metric: m, Measured: meas, Predicted: pred})
		}
	}
	switch r.Mode {
	case measurements.Static:
		p := sm.Static(r.Batch, r.ISL, r.OSL, eng.TokenBudget)
		add(Throughput, r.OutputTokensPerS, p.OutputTokensPerS)
	case measurements.MaxThroughput:
		isl := r.ISL
		if isl <= 0 {
			isl = mlperfISL(r)
		}
		n := sm.MaxConcurrency(isl, r.OSL)
		if n < 1 {
			return nil, fmt.Errorf("no sequence of the row's length fits the KV cache")
		}
		p := sm.Steady(n, isl, r.OSL, eng.TokenBudget)
		add(Throughput, r.OutputTokensPerS, p.OutputTokensPerS)
	case measurements.Server:
		isl := r.ISL
		if isl <= 0 {
			isl = mlperfISL(r)
		}
		p, ok := serverPoint(sm, eng, r.RateRPS, isl, r.OSL)
		if !ok {
			return nil, fmt.Errorf("offered rate above the predicted replica capacity")
		}
		add(TPOT, r.TPOTms, p.TPOTMs)
		add(TTFT, r.TTFTms, p.TTFTMs)
	default:
		return nil, fmt.Errorf("mode %q is not predicted by the step model", r.Mode)
	}
	return pts, nil
}

// mlperfISL is the input length assumed for MLPerf rows, whose results
// give output tokens per sample but no input length. Assumption, not from
// the data: llama2-70b (OpenOrca questions) is taken to have as many input
// as output tokens, 294, and llama3.1-8b (CNN/DailyMail articles to
// summarise) 778. The accuracy report flags MLPerf rows as resting on it.
func mlperfISL(r measurements.Row) int {
	if strings.HasPrefix(r.Model, "llama-3.1-8b") {
		return 778
	}
	return 294
}

// serverPoint finds the steady concurrency n of a replica fed rate
// requests per second: by Little's law n = rate × E2E(n), solved by
// bisection on n in [1, MaxConcurrency].
func serverPoint(sm *serving.StepModel, eng Engine, rate float64, isl, osl int) (serving.Prediction, bool) {
	hi := sm.MaxConcurrency(isl, osl)
	if hi < 1 || !(rate > 0) {
		return serving.Prediction{}, false
	}
	f := func(n int) float64 { // > 0 when n is more than the rate needs
		p := sm.Steady(n, isl, osl, eng.TokenBudget)
		return float64(n) - rate*p.E2EMs/1000
	}
	if f(hi) < 0 {
		return serving.Prediction{}, false
	}
	lo := 1
	for lo < hi {
		mid := (lo + hi) / 2
		if f(mid) >= 0 {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return sm.Steady(lo, isl, osl, eng.TokenBudget), true
}

// PredictLinear predicts a linear-mode row: the time of one layer's
// weight matrix multiplications for r.Tokens tokens on one tensor-parallel
// shard, max(compute, weight read), plus launchS of kernel launch overhead.
func PredictLinear(r measurements.Row, c serving.Coefficients, launchS float64) (Point, error) {
	m, ok := serving.LookupModel(r.Model)
	if !ok {
		return Point{}, fmt.Errorf("unknown model %q", r.Model)
	}
	g, ok := serving.LookupGPU(r.GPU)
	if !ok {
		return Point{}, fmt.Errorf("unknown gpu %q", r.GPU)
	}
	p := r.Precision
	if p == "" {
		p = serving.BF16
	}
	tp := float64(max(r.TP, 1))
	// Per layer: QKV, O and the gated MLP (norms and activations are tiny).
	kv := float64(m.KVHeads * m.HeadDim)
	params := float64(m.Hidden)*(float64(m.Heads*m.HeadDim)+2*kv) + float64(m.Heads*m.HeadDim)*float64(m.Hidden) +
		3*float64(m.Hidden)*float64(m.Intermediate)
	params /= tp
	peak := g.BF16TFLOPs
	if p == serving.FP8 {
		peak = g.FP8TFLOPs
	}
	compute := 2 * params * float64(r.Tokens) / (peak * 1e12 * c.LinearMFU)
	memory := params * p.Bytes() / (g.MemBandwidthTBs * 1e12 * c.MBU)
	return Point{Metric: LinearMs, Measured: r.StepMs, Predicted: 1e3 * (max(compute, memory) + launchS)}, nil
}
