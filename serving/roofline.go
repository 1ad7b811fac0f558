package serving

import (
	"errors"
	"fmt"
	"math"
)

// ReplicaSpec is one inference replica: a model served on TensorParallel
// GPUs of one type with continuous batching.
type ReplicaSpec struct {
	// Model is the served model.
	Model Model
	// GPU is the accelerator type.
	GPU GPU
	// TensorParallel is GPUs per replica: 1, 2, 4 or 8.
	TensorParallel int
	// Precision is the precision of weights and KV cache. Empty means BF16.
	Precision Precision
	// MaxBatch is the most sequences that run at once (>= 1).
	MaxBatch int
	// MemoryFraction is the share of each GPU's memory the engine may use
	// (vLLM gpu_memory_utilization), in (0, 1]. Zero means 0.9, vLLM's default.
	MemoryFraction float64
}

// DefaultMemoryFraction is the MemoryFraction used when a ReplicaSpec leaves
// it zero: vLLM's default gpu_memory_utilization.
const DefaultMemoryFraction = 0.9

// Estimator is what the simulator asks of a replica's serving model. Times
// are in seconds. Implementations are safe for concurrent use and their
// methods do not allocate.
type Estimator interface {
	// PrefillSeconds is one iteration that prefills `tokens` new prompt tokens (summed over the requests in the
	// iteration) whose attention spans attnPairs = sum over requests of newTokens_i * (cachedContext_i + newTokens_i/2).
	PrefillSeconds(tokens int, attnPairs float64) float64
	// DecodeStepSeconds is one decode iteration producing one token for each of `batch` sequences that hold
	// contextTokens tokens of KV cache in total.
	DecodeStepSeconds(batch int, contextTokens int) float64
	// KVCapacityTokens is how many tokens of KV cache fit in the replica after weights and activation reserve.
	KVCapacityTokens() int
	// MaxBatch is the most sequences that run at once.
	MaxBatch() int
}

// Efficiency holds the static factors that turn peak specifications into
// achieved rates. DefaultEfficiency gives values with their sources.
type Efficiency struct {
	// PrefillMFU is the achieved fraction of peak tensor FLOP/s, in (0, 1].
	// It applies wherever an iteration is compute-bound (prefill, and decode
	// at very large batch).
	PrefillMFU float64
	// DecodeMBU is the achieved fraction of peak memory bandwidth, in (0, 1].
	// It applies wherever an iteration is memory-bound (decode, and prefill
	// of a few tokens).
	DecodeMBU float64
	// StepOverheadS is a fixed per-iteration overhead (scheduling, sampling,
	// kernel launch), in seconds (>= 0).
	StepOverheadS float64
	// AllReduceS is the latency of one all-reduce when TensorParallel > 1, in
	// seconds (>= 0). An iteration does 2 all-reduces per layer.
	AllReduceS float64
	// ActivationReserveFraction is the share of usable memory kept for
	// activations, CUDA graphs and allocator slack, in [0, 1).
	ActivationReserveFraction float64
}

// DefaultEfficiency returns the efficiency factors of the first, uncalibrated
// roofline. Each value's source is in the comment beside it; docs/serving.md
// reports the error they give against measured throughput.
func DefaultEfficiency() Efficiency {
	return Efficiency{
		// Vidur operator profiles (shared data vidur_profiling, mlp_linear_ops_median.csv):
		// the per-layer linear ops of Llama-2-7B/70B and Llama-3-8B at TP 1-2 and
		// >= 1024 tokens reach 0.61-0.73 of dense BF16 peak on A100 and H100.
		// Rounded down to 0.6 for attention kernels and sampling, which that profile leaves out.
		PrefillMFU: 0.6,
		// Same profiles at 1-8 tokens, TP 1: the weights stream at 0.68-0.75 of
		// peak HBM bandwidth (A100 and H100).
		DecodeMBU: 0.7,
		// Argonne LLM-Inference-Bench, H100, vLLM, Llama-3-8B, batch 1: 7.9 ms per
		// output token, of which reading 16.06 GB of weights at 0.7 × 3.35 TB/s
		// takes 6.85 ms; the remaining ≈ 1 ms is per-iteration overhead. This is
		// the one value fitted to a measured point (see docs/serving.md).
		StepOverheadS: 1e-3,
		// Vidur NCCL profiles (shared data vidur_profiling, collectives.csv): the
		// median all-reduce of <= 1 MiB on 2, 4 and 8 GPUs of an A100 or H100 DGX
		// takes 0.032-0.054 ms.
		AllReduceS: 40e-6,
		// Assumption, not measured here: vLLM keeps the peak activation memory of
		// its profiling run plus CUDA graphs, a few GB on an 80 GB GPU.
		ActivationReserveFraction: 0.05,
	}
}

// Errors that NewRoofline wraps, for errors.Is.
var (
	// ErrTensorParallel: TensorParallel is not 1, 2, 4 or 8.
	ErrTensorParallel = errors.New("tensor parallelism must be 1, 2, 4 or 8")
	// ErrNoFP8: FP8 was asked of a GPU without FP8 tensor cores.
	ErrNoFP8 = errors.New("gpu has no fp8 support")
	// ErrWeightsDoNotFit: the weights need more than MemoryFraction of the replica's GPU memory.
	ErrWeightsDoNotFit = errors.New("weights do not fit")
	// ErrNoKVCapacity: no memory is left for KV cache after weights and activation reserve.
	ErrNoKVCapacity = errors.New("no memory left for kv cache")
	// ErrMaxBatch: MaxBatch is below 1.
	ErrMaxBatch = errors.New("max batch must be >= 1")
	// ErrInvalidSpec: any other invalid field of the spec or of the efficiency factors.
	ErrInvalidSpec = errors.New("invalid replica spec")
)

// Roofline is the roofline serving model: each iteration takes the longer of
// its compute time and its memory time, plus a fixed overhead and the
// tensor-parallel all-reduces. It implements Estimator; build one with
// NewRoofline. Its methods do not allocate and are safe for concurrent use.
type Roofline struct {
	spec ReplicaSpec
	eff  Efficiency

	computeRate      float64 // achieved FLOP/s of the replica: TP × peak × MFU
	memRate          float64 // achieved B/s of the replica: TP × bandwidth × MBU
	weightBytes      float64 // bytes of all weights
	flopsPerToken    float64 // 2 × parameters: one multiply-add per weight
	attnFlopsPerPair float64 // 4 × layers × heads × headDim: QK^T and AV per (query, key) pair
	kvBytesPerToken  float64 // KV bytes per token over the replica, replication included
	fixedS           float64 // StepOverheadS + 2 × layers × AllReduceS (TP > 1)
	commSPerToken    float64 // all-reduce transfer time per token in the iteration (TP > 1)
	kvCapacity       int
}

var _ Estimator = (*Roofline)(nil)

// activationBytes is the size of one activation element that tensor
// parallelism all-reduces: BF16, also under FP8 weights (TensorRT-LLM and
// vLLM keep activations between layers in 16-bit).
const activationBytes = 2

// NewRoofline builds the roofline model of one replica. It returns an error,
// listing every problem found, when TensorParallel is not 1, 2, 4 or 8, when
// FP8 is asked of a GPU without FP8, when MaxBatch < 1, when the weights do
// not fit in MemoryFraction of the TensorParallel GPUs' memory, when no KV
// capacity is left, or when a model, GPU or efficiency field is out of range.
// The errors wrap ErrTensorParallel, ErrNoFP8, ErrMaxBatch,
// ErrWeightsDoNotFit, ErrNoKVCapacity or ErrInvalidSpec.
func NewRoofline(spec ReplicaSpec, eff Efficiency) (*Roofline, error) {
	if spec.Precision == "" {
		spec.Precision = BF16
	}
	if spec.MemoryFraction == 0 {
		spec.MemoryFraction = DefaultMemoryFraction
	}
	if err := validate(spec, eff); err != nil {
		return nil, err
	}

	m, g, p := spec.Model, spec.GPU, spec.Precision
	tp := float64(spec.TensorParallel)
	peakTFLOPs := g.BF16TFLOPs
	if p == FP8 {
		peakTFLOPs = g.FP8TFLOPs
	}

	usable := spec.MemoryFraction * g.MemoryGB * 1e9 * tp
	weights := m.WeightBytes(p)
	if weights > usable {
		return nil, fmt.Errorf("%s on %d × %s at %s: weights need %.1f GB, %.2f of the GPUs' memory is %.1f GB: %w",
			m.ID, spec.TensorParallel, g.ID, p, weights/1e9, spec.MemoryFraction, usable/1e9, ErrWeightsDoNotFit)
	}
	// With more GPUs than KV heads, each GPU keeps whole heads: a head is
	// replicated rather than split, so the replica stores more than the
	// model's KVBytesPerToken.
	headsPerGPU := (m.KVHeads + spec.TensorParallel - 1) / spec.TensorParallel
	kvPerToken := 2 * float64(m.Layers) * float64(m.HeadDim) * p.Bytes() * float64(headsPerGPU) * tp
	kvBytes := usable*(1-eff.ActivationReserveFraction) - weights
	capacity := math.Floor(kvBytes / kvPerToken)
	if capacity < 1 {
		return nil, fmt.Errorf("%s on %d × %s at %s: %.1f GB usable, %.1f GB weights, %.0f%% activation reserve: %w",
			m.ID, spec.TensorParallel, g.ID, p, usable/1e9, weights/1e9, 100*eff.ActivationReserveFraction, ErrNoKVCapacity)
	}

	r := &Roofline{
		spec:             spec,
		eff:              eff,
		computeRate:      tp * peakTFLOPs * 1e12 * eff.PrefillMFU,
		memRate:          tp * g.MemBandwidthTBs * 1e12 * eff.DecodeMBU,
		weightBytes:      weights,
		flopsPerToken:    2 * m.ParamsB * 1e9,
		attnFlopsPerPair: 4 * float64(m.Layers) * float64(m.Heads) * float64(m.HeadDim),
		kvBytesPerToken:  kvPerToken,
		fixedS:           eff.StepOverheadS,
		kvCapacity:       int(capacity),
	}
	if spec.TensorParallel > 1 {
		link := g.InterconnectGBs
		if link == 0 {
			link = g.PCIeGBs
		}
		allReduces := 2 * float64(m.Layers)
		r.fixedS += allReduces * eff.AllReduceS
		// A ring all-reduce sends and receives 2 × (TP-1)/TP of the message on
		// each GPU's link; the message is one activation row per token.
		r.commSPerToken = allReduces * 2 * (tp - 1) / tp * float64(m.Hidden) * activationBytes / (link * 1e9)
	}
	return r, nil
}

func validate(spec ReplicaSpec, eff Efficiency) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %w", field, fmt.Sprintf(format, args...), ErrInvalidSpec))
	}
	m, g := spec.Model, spec.GPU

	switch spec.TensorParallel {
	case 1, 2, 4, 8:
	default:
		errs = append(errs, fmt.Errorf("tensorParallel: got %d: %w", spec.TensorParallel, ErrTensorParallel))
	}
	if spec.MaxBatch < 1 {
		errs = append(errs, fmt.Errorf("maxBatch: got %d: %w", spec.MaxBatch, ErrMaxBatch))
	}
	switch spec.Precision {
	case BF16:
	case FP8:
		if g.FP8TFLOPs <= 0 {
			errs = append(errs, fmt.Errorf("precision: fp8 on %s: %w", g.ID, ErrNoFP8))
		}
	default:
		bad("precision", "must be bf16 or fp8, got %q", string(spec.Precision))
	}
	if !(spec.MemoryFraction > 0 && spec.MemoryFraction <= 1) {
		bad("memoryFraction", "must be in (0, 1], got %g", spec.MemoryFraction)
	}

	if !(m.ParamsB > 0) {
		bad("model.paramsB", "must be > 0, got %g", m.ParamsB)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"model.layers", m.Layers}, {"model.hidden", m.Hidden}, {"model.heads", m.Heads}, {"model.kvHeads", m.KVHeads}, {"model.headDim", m.HeadDim}} {
		if f.v < 1 {
			bad(f.name, "must be >= 1, got %d", f.v)
		}
	}

	if !(g.MemoryGB > 0) {
		bad("gpu.memoryGB", "must be > 0, got %g", g.MemoryGB)
	}
	if !(g.MemBandwidthTBs > 0) {
		bad("gpu.memBandwidthTBs", "must be > 0, got %g", g.MemBandwidthTBs)
	}
	if !(g.BF16TFLOPs > 0) {
		bad("gpu.bf16TFLOPs", "must be > 0, got %g", g.BF16TFLOPs)
	}
	if spec.TensorParallel > 1 && !(g.InterconnectGBs > 0) && !(g.PCIeGBs > 0) {
		bad("gpu.interconnectGBs", "tensor parallelism needs interconnectGBs or pcieGBs > 0")
	}

	if !(eff.PrefillMFU > 0 && eff.PrefillMFU <= 1) {
		bad("efficiency.prefillMFU", "must be in (0, 1], got %g", eff.PrefillMFU)
	}
	if !(eff.DecodeMBU > 0 && eff.DecodeMBU <= 1) {
		bad("efficiency.decodeMBU", "must be in (0, 1], got %g", eff.DecodeMBU)
	}
	if !(eff.StepOverheadS >= 0) || math.IsInf(eff.StepOverheadS, 1) {
		bad("efficiency.stepOverheadS", "must be >= 0 and finite, got %g", eff.StepOverheadS)
	}
	if !(eff.AllReduceS >= 0) || math.IsInf(eff.AllReduceS, 1) {
		bad("efficiency.allReduceS", "must be >= 0 and finite, got %g", eff.AllReduceS)
	}
	if !(eff.ActivationReserveFraction >= 0 && eff.ActivationReserveFraction < 1) {
		bad("efficiency.activationReserveFraction", "must be in [0, 1), got %g", eff.ActivationReserveFraction)
	}
	return errors.Join(errs...)
}

// PrefillSeconds returns the time of one iteration that prefills tokens new
// prompt tokens with attnPairs (query, key) pairs of attention:
//
//	compute = (2 × params × tokens + 4 × layers × heads × headDim × attnPairs) / (TP × peak FLOP/s × PrefillMFU)
//	memory  = weight bytes / (TP × bandwidth × DecodeMBU)
//	time    = max(compute, memory) + StepOverheadS + all-reduces(tokens)
//
// tokens <= 0 is an empty iteration and takes 0 s; a negative attnPairs counts as 0.
func (r *Roofline) PrefillSeconds(tokens int, attnPairs float64) float64 {
	if tokens <= 0 {
		return 0
	}
	if attnPairs < 0 {
		attnPairs = 0
	}
	n := float64(tokens)
	compute := (r.flopsPerToken*n + r.attnFlopsPerPair*attnPairs) / r.computeRate
	memory := r.weightBytes / r.memRate
	return max(compute, memory) + r.fixedS + r.commSPerToken*n
}

// DecodeStepSeconds returns the time of one decode iteration that produces
// one token for each of batch sequences holding contextTokens tokens of KV
// cache in total:
//
//	compute = (2 × params × batch + 4 × layers × heads × headDim × contextTokens) / (TP × peak FLOP/s × PrefillMFU)
//	memory  = (weight bytes + KV bytes per token × contextTokens) / (TP × bandwidth × DecodeMBU)
//	time    = max(compute, memory) + StepOverheadS + all-reduces(batch)
//
// batch <= 0 is an empty iteration and takes 0 s; a negative contextTokens counts as 0.
func (r *Roofline) DecodeStepSeconds(batch int, contextTokens int) float64 {
	if batch <= 0 {
		return 0
	}
	c := float64(max(contextTokens, 0))
	b := float64(batch)
	compute := (r.flopsPerToken*b + r.attnFlopsPerPair*c) / r.computeRate
	memory := (r.weightBytes + r.kvBytesPerToken*c) / r.memRate
	return max(compute, memory) + r.fixedS + r.commSPerToken*b
}

// KVCapacityTokens returns how many tokens of KV cache fit in the replica:
// (MemoryFraction × TP × GPU memory × (1 − ActivationReserveFraction) − weight
// bytes) / KV bytes per token, rounded down.
func (r *Roofline) KVCapacityTokens() int { return r.kvCapacity }

// MaxBatch returns the spec's MaxBatch.
func (r *Roofline) MaxBatch() int { return r.spec.MaxBatch }

// Spec returns the replica spec, with defaults applied.
func (r *Roofline) Spec() ReplicaSpec {
	s := r.spec
	s.Model = s.Model.clone()
	s.GPU = s.GPU.clone()
	return s
}

// Efficiency returns the efficiency factors the model was built with.
func (r *Roofline) Efficiency() Efficiency { return r.eff }
