package serving

import (
	"errors"
	"fmt"
	"math"
)

// ReplicaSpec is one inference replica: a model served on TensorParallel
// GPUs of one node with continuous batching.
type ReplicaSpec struct {
	// Model is the served model.
	Model Model
	// GPU is the accelerator type.
	GPU GPU
	// TensorParallel is GPUs per replica: 1, 2, 4 or 8.
	TensorParallel int
	// Precision is the precision of weights and KV cache. Empty means BF16.
	Precision Precision
	// MaxBatch is the most sequences that run at once (>= 1; vLLM max_num_seqs).
	MaxBatch int
	// MemoryFraction is the share of each GPU's memory the engine may use
	// (vLLM gpu_memory_utilization), in (0, 1]. Zero means 0.9, vLLM's default.
	MemoryFraction float64
}

// DefaultMemoryFraction is the MemoryFraction used when a ReplicaSpec leaves
// it zero: vLLM's default gpu_memory_utilization.
const DefaultMemoryFraction = 0.9

// Batch is the work of one engine iteration under continuous batching with
// chunked prefill: prompt chunks of some sequences mixed with one decode
// token for each of the others.
type Batch struct {
	// PrefillTokens is the number of new prompt tokens computed in the step,
	// summed over the sequences that have a prefill chunk in it.
	PrefillTokens int
	// PrefillSeqs is the number of sequences with a prefill chunk in the step.
	PrefillSeqs int
	// PrefillPairs is the attention work of the prefill chunks: the sum over
	// chunks of chunkTokens × (cachedTokens + chunkTokens/2), the (query, key)
	// pairs of causal attention over the chunk and the context before it.
	PrefillPairs float64
	// DecodeSeqs is the number of sequences producing one token each.
	DecodeSeqs int
	// DecodeContext is the KV-cache tokens those sequences attend to, summed.
	DecodeContext int
}

// Estimator is what the simulator asks of a replica's serving model. Times
// are in seconds. Implementations are safe for concurrent use and their
// methods do not allocate.
type Estimator interface {
	// StepSeconds is the duration of one iteration doing the work in b. An
	// empty batch takes 0 s.
	StepSeconds(b Batch) float64
	// StepEnergy is the duration of one iteration and the energy in joules
	// that the replica's GPUs draw during it.
	StepEnergy(b Batch) (seconds, joules float64)
	// DecodeRun is the duration and energy of `steps` consecutive decode
	// iterations of batch sequences, the first attending to contextTokens
	// tokens and each later one to batch more (one new token per sequence).
	DecodeRun(batch, contextTokens, steps int) (seconds, joules float64)
	// IdleWatts is the power the replica's GPUs draw with nothing to do.
	IdleWatts() float64
	// KVCapacityTokens is how many tokens of KV cache fit in the replica after weights and activation reserve.
	KVCapacityTokens() int
	// MaxBatch is the most sequences that run at once.
	MaxBatch() int
}

// Coefficients are the free parameters of the step model: the factors that
// turn peak specifications into achieved rates, and the fixed costs. They
// are what `fleetsim calibrate` fits per GPU (and per model where needed);
// DefaultCoefficients gives uncalibrated values with their sources.
type Coefficients struct {
	// LinearMFU is the achieved fraction of peak tensor FLOP/s in the
	// weight matrix multiplications (QKV, O, MLP, LM head), in (0, 1].
	LinearMFU float64 `yaml:"linearMFU" json:"linearMFU"`
	// AttentionMFU is the achieved fraction of peak BF16 FLOP/s in prefill
	// attention, in (0, 1].
	AttentionMFU float64 `yaml:"attentionMFU" json:"attentionMFU"`
	// MBU is the achieved fraction of peak memory bandwidth when streaming
	// weights and KV cache, in (0, 1].
	MBU float64 `yaml:"mbu" json:"mbu"`
	// KVMBU is the achieved fraction of peak memory bandwidth when decode
	// attention reads the KV cache (paged-attention kernels gather blocks
	// and reach less than streaming GEMVs), in (0, 1].
	KVMBU float64 `yaml:"kvMBU" json:"kvMBU"`
	// StepOverheadS is a fixed cost per iteration (scheduling, kernel
	// launches, synchronisation), in seconds (>= 0).
	StepOverheadS float64 `yaml:"stepOverheadS" json:"stepOverheadS"`
	// SeqOverheadS is a cost per sequence in the iteration (sampling, input
	// preparation, detokenisation), in seconds (>= 0).
	SeqOverheadS float64 `yaml:"seqOverheadS" json:"seqOverheadS"`
	// ActivationReserveFraction is the share of usable memory kept for
	// activations, CUDA graphs and allocator slack, in [0, 1).
	ActivationReserveFraction float64 `yaml:"activationReserveFraction" json:"activationReserveFraction"`
	// IdlePowerFraction is an idle GPU's power draw as a fraction of TDP, in [0, 1].
	IdlePowerFraction float64 `yaml:"idlePowerFraction" json:"idlePowerFraction"`
	// MemoryBoundPowerFraction is the power draw, as a fraction of TDP, of a
	// GPU running memory-bound work (decode); compute-bound work draws TDP.
	// In [IdlePowerFraction, 1].
	MemoryBoundPowerFraction float64 `yaml:"memoryBoundPowerFraction" json:"memoryBoundPowerFraction"`
}

// DefaultCoefficients returns the uncalibrated coefficients. Each value's
// source is in the comment beside it. Calibrated profiles (package profile)
// replace them per GPU.
func DefaultCoefficients() Coefficients {
	return Coefficients{
		// Vidur operator profiles (shared data vidur_profiling, mlp_linear_ops_median.csv):
		// the per-layer linear ops of Llama-2-7B/70B and Llama-3-8B at TP 1-2 and
		// >= 1024 tokens reach 0.61-0.73 of dense BF16 peak on A100 and H100.
		LinearMFU: 0.65,
		// FlashAttention-2 reaches 50-73% of A100 peak in the forward pass
		// (Dao, "FlashAttention-2", 2023, figure 4); 0.5 leaves room for short chunks.
		AttentionMFU: 0.5,
		// Same Vidur profiles at 1-8 tokens, TP 1: the weights stream at 0.68-0.75 of
		// peak HBM bandwidth (A100 and H100).
		MBU: 0.7,
		// Assumption until calibrated: paged attention reads KV at the same
		// efficiency as the weights stream.
		KVMBU: 0.7,
		// Argonne LLM-Inference-Bench, H100, vLLM, Llama-3-8B, batch 1: 7.9 ms per
		// output token, of which reading the 15.0 GB of weights a step reads (all
		// but the input embeddings) at 0.7 × 3.35 TB/s takes 6.4 ms; the remaining
		// ≈ 1.5 ms is per-iteration overhead.
		StepOverheadS: 1.5e-3,
		// Assumption: tens of microseconds of CPU work per sequence per step
		// (sampling and bookkeeping in vLLM's scheduler).
		SeqOverheadS: 20e-6,
		// Assumption, not measured here: vLLM keeps the peak activation memory of
		// its profiling run plus CUDA graphs, a few GB on an 80 GB GPU.
		ActivationReserveFraction: 0.05,
		// Assumption: an H100 SXM idles near 70-100 W of its 700 W TDP (nvidia-smi on
		// idle DGX nodes); 0.12 of TDP.
		IdlePowerFraction: 0.12,
		// Splitwise (Patel et al., ISCA 2024, section III): the token (decode) phase
		// draws well below TDP and loses little under a power cap, while the prompt
		// (prefill) phase runs at TDP. Assumption: 0.6 of TDP when memory-bound.
		MemoryBoundPowerFraction: 0.6,
	}
}

// Errors that New wraps, for errors.Is.
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
	// ErrInvalidSpec: any other invalid field of the spec or of the coefficients.
	ErrInvalidSpec = errors.New("invalid replica spec")
)

// StepModel is the serving model of one replica. An iteration's time is
//
//	linear    = max(2 × body params × tokens + 2 × head params × seqs) / (TP × peak × LinearMFU),
//	                weight bytes / (TP × bandwidth × MBU))
//	attention = prefill: 4 × layers × heads × headDim × PrefillPairs / (TP × peak BF16 × AttentionMFU)
//	          + decode: max(KV bytes per token × DecodeContext / (TP × bandwidth × KVMBU),
//	                        4 × layers × heads × headDim × DecodeContext / (TP × peak BF16 × AttentionMFU))
//	comm      = 2 × layers × all-reduce(tokens × hidden × 2 bytes) when TP > 1 (AllReduceSeconds)
//	time      = linear + attention + comm + StepOverheadS + SeqOverheadS × (PrefillSeqs + DecodeSeqs)
//
// where tokens = PrefillTokens + DecodeSeqs and seqs = PrefillSeqs + DecodeSeqs
// (the LM head runs only for the last token of each sequence). Build one
// with New. Its methods do not allocate and are safe for concurrent use.
type StepModel struct {
	spec ReplicaSpec
	c    Coefficients

	linearRate       float64 // achieved FLOP/s of the replica in GEMMs
	attnRate         float64 // achieved FLOP/s of the replica in attention (BF16)
	memRate          float64 // achieved B/s of the replica streaming weights
	kvRate           float64 // achieved B/s of the replica reading KV cache
	weightBytes      float64 // bytes of all weights the forward pass reads
	bodyFlopsPerTok  float64 // 2 × (params − embeddings − LM head)
	headFlopsPerSeq  float64 // 2 × vocab × hidden
	attnFlopsPerPair float64 // 4 × layers × heads × headDim
	kvBytesPerToken  float64 // KV bytes per token over the replica, replication included
	allReduces       float64 // all-reduces per iteration (2 × layers), 0 without TP
	arBytesPerToken  float64 // bytes one all-reduce carries per token
	tdpWatts         float64 // replica TDP (TP × GPU TDP)
	kvCapacity       int
}

var _ Estimator = (*StepModel)(nil)

// activationBytes is the size of one activation element that tensor
// parallelism all-reduces: BF16, also under FP8 weights (TensorRT-LLM and
// vLLM keep activations between layers in 16-bit).
const activationBytes = 2

// New builds the step model of one replica. It returns an error, listing
// every problem found, when TensorParallel is not 1, 2, 4 or 8, when FP8 is
// asked of a GPU without FP8, when MaxBatch < 1, when the weights do not fit
// in MemoryFraction of the TensorParallel GPUs' memory, when no KV capacity
// is left, or when a model, GPU or coefficient is out of range. The errors
// wrap ErrTensorParallel, ErrNoFP8, ErrMaxBatch, ErrWeightsDoNotFit,
// ErrNoKVCapacity or ErrInvalidSpec.
func New(spec ReplicaSpec, c Coefficients) (*StepModel, error) {
	if spec.Precision == "" {
		spec.Precision = BF16
	}
	if spec.MemoryFraction == 0 {
		spec.MemoryFraction = DefaultMemoryFraction
	}
	if err := validate(spec, c); err != nil {
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
	kvBytes := usable*(1-c.ActivationReserveFraction) - weights
	capacity := math.Floor(kvBytes / kvPerToken)
	if capacity < 1 {
		return nil, fmt.Errorf("%s on %d × %s at %s: %.1f GB usable, %.1f GB weights, %.0f%% activation reserve: %w",
			m.ID, spec.TensorParallel, g.ID, p, usable/1e9, weights/1e9, 100*c.ActivationReserveFraction, ErrNoKVCapacity)
	}

	headParams := float64(m.Vocab) * float64(m.Hidden)
	embeddings := 2 * headParams
	if m.TiedEmbeddings {
		embeddings = headParams
	}
	body := m.ParamsB*1e9 - embeddings
	if body <= 0 {
		body = m.ParamsB * 1e9
		headParams = 0
	}

	s := &StepModel{
		spec:             spec,
		c:                c,
		linearRate:       tp * peakTFLOPs * 1e12 * c.LinearMFU,
		attnRate:         tp * g.BF16TFLOPs * 1e12 * c.AttentionMFU,
		memRate:          tp * g.MemBandwidthTBs * 1e12 * c.MBU,
		kvRate:           tp * g.MemBandwidthTBs * 1e12 * c.KVMBU,
		weightBytes:      (body + headParams) * p.Bytes(),
		bodyFlopsPerTok:  2 * body,
		headFlopsPerSeq:  2 * headParams,
		attnFlopsPerPair: 4 * float64(m.Layers) * float64(m.Heads) * float64(m.HeadDim),
		kvBytesPerToken:  kvPerToken,
		tdpWatts:         tp * g.TDPWatts,
		kvCapacity:       int(capacity),
	}
	if spec.TensorParallel > 1 {
		s.allReduces = 2 * float64(m.Layers)
		s.arBytesPerToken = float64(m.Hidden) * activationBytes
	}
	return s, nil
}

func validate(spec ReplicaSpec, c Coefficients) error {
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
	if m.Vocab < 0 {
		bad("model.vocab", "must be >= 0, got %d", m.Vocab)
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
	if !(g.TDPWatts >= 0) {
		bad("gpu.tdpWatts", "must be >= 0, got %g", g.TDPWatts)
	}
	if spec.TensorParallel > 1 && !(g.InterconnectGBs > 0) && !(g.PCIeGBs > 0) {
		bad("gpu.interconnectGBs", "tensor parallelism needs interconnectGBs or pcieGBs > 0")
	}
	errs = append(errs, c.Validate())
	return errors.Join(errs...)
}

// Validate reports every coefficient out of its range, each error wrapping
// ErrInvalidSpec and naming the field; nil when all are valid.
func (c Coefficients) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %w", field, fmt.Sprintf(format, args...), ErrInvalidSpec))
	}
	frac := func(name string, v float64) {
		if !(v > 0 && v <= 1) {
			bad(name, "must be in (0, 1], got %g", v)
		}
	}
	frac("linearMFU", c.LinearMFU)
	frac("attentionMFU", c.AttentionMFU)
	frac("mbu", c.MBU)
	frac("kvMBU", c.KVMBU)
	for _, f := range []struct {
		name string
		v    float64
	}{{"stepOverheadS", c.StepOverheadS}, {"seqOverheadS", c.SeqOverheadS}} {
		if !(f.v >= 0) || math.IsInf(f.v, 1) || f.v > 1 {
			bad(f.name, "must be in [0, 1] seconds, got %g", f.v)
		}
	}
	if !(c.ActivationReserveFraction >= 0 && c.ActivationReserveFraction < 1) {
		bad("activationReserveFraction", "must be in [0, 1), got %g", c.ActivationReserveFraction)
	}
	if !(c.IdlePowerFraction >= 0 && c.IdlePowerFraction <= 1) {
		bad("idlePowerFraction", "must be in [0, 1], got %g", c.IdlePowerFraction)
	}
	if !(c.MemoryBoundPowerFraction >= c.IdlePowerFraction && c.MemoryBoundPowerFraction <= 1) {
		bad("memoryBoundPowerFraction", "must be in [idlePowerFraction, 1], got %g", c.MemoryBoundPowerFraction)
	}
	return errors.Join(errs...)
}

// work is a Batch in real numbers, for the averaged batches of steady-state
// prediction.
type work struct {
	prefillTokens, prefillSeqs, prefillPairs, decodeSeqs, decodeContext float64
}

func (b Batch) work() work {
	return work{
		prefillTokens: float64(max(b.PrefillTokens, 0)),
		prefillSeqs:   float64(max(b.PrefillSeqs, 0)),
		prefillPairs:  max(b.PrefillPairs, 0),
		decodeSeqs:    float64(max(b.DecodeSeqs, 0)),
		decodeContext: float64(max(b.DecodeContext, 0)),
	}
}

// parts returns the compute-bound and memory-bound seconds of an
// iteration's kernels, and its fixed seconds (communication and overhead).
func (s *StepModel) parts(w work) (computeS, memoryS, fixedS float64) {
	n := w.prefillTokens + w.decodeSeqs
	seqs := w.prefillSeqs + w.decodeSeqs
	if n <= 0 {
		return 0, 0, 0
	}
	linC := (s.bodyFlopsPerTok*n + s.headFlopsPerSeq*seqs) / s.linearRate
	linM := s.weightBytes / s.memRate
	if linC >= linM {
		computeS += linC
	} else {
		memoryS += linM
	}
	if w.prefillPairs > 0 {
		computeS += s.attnFlopsPerPair * w.prefillPairs / s.attnRate
	}
	if w.decodeContext > 0 {
		kvM := s.kvBytesPerToken * w.decodeContext / s.kvRate
		kvC := s.attnFlopsPerPair * w.decodeContext / s.attnRate
		if kvC > kvM {
			computeS += kvC
		} else {
			memoryS += kvM
		}
	}
	fixedS = s.c.StepOverheadS + s.c.SeqOverheadS*seqs
	if s.allReduces > 0 {
		fixedS += s.allReduces * AllReduceSeconds(s.spec.GPU, s.spec.TensorParallel, n*s.arBytesPerToken)
	}
	return computeS, memoryS, fixedS
}

// StepSeconds returns the duration of one iteration doing the work in b
// (see StepModel for the formula). An empty batch takes 0 s; negative
// counts count as 0.
func (s *StepModel) StepSeconds(b Batch) float64 {
	c, m, f := s.parts(b.work())
	return c + m + f
}

// StepEnergy returns the duration of one iteration and the energy its GPUs
// draw: TDP during compute-bound kernels, MemoryBoundPowerFraction × TDP
// during memory-bound kernels, and the memory-bound figure during
// communication and overhead.
func (s *StepModel) StepEnergy(b Batch) (seconds, joules float64) {
	c, m, f := s.parts(b.work())
	seconds = c + m + f
	joules = s.tdpWatts * (c + s.c.MemoryBoundPowerFraction*(m+f))
	return seconds, joules
}

// DecodeRun returns the duration and energy of steps decode iterations of
// batch sequences whose context starts at contextTokens and grows by batch
// per iteration. A decode iteration's time is linear in its context (the
// weights' part is fixed, and attention is either memory- or compute-bound
// for every context), so the sum has a closed form and costs the same for
// any number of steps.
func (s *StepModel) DecodeRun(batch, contextTokens, steps int) (seconds, joules float64) {
	if batch <= 0 || steps <= 0 {
		return 0, 0
	}
	b := float64(batch)
	c0, m0, f0 := s.parts(work{decodeSeqs: b})
	// Per context token: whichever of KV reading and attention compute is slower.
	kvM := s.kvBytesPerToken / s.kvRate
	kvC := s.attnFlopsPerPair / s.attnRate
	n := float64(steps)
	ctxSum := n*float64(max(contextTokens, 0)) + b*n*(n-1)/2
	seconds = n*(c0+m0+f0) + max(kvM, kvC)*ctxSum
	joules = s.tdpWatts * n * (c0 + s.c.MemoryBoundPowerFraction*(m0+f0))
	if kvC > kvM {
		joules += s.tdpWatts * kvC * ctxSum
	} else {
		joules += s.tdpWatts * s.c.MemoryBoundPowerFraction * kvM * ctxSum
	}
	return seconds, joules
}

// IdleWatts returns IdlePowerFraction × TP × TDP.
func (s *StepModel) IdleWatts() float64 { return s.c.IdlePowerFraction * s.tdpWatts }

// PrefillSeconds returns the time of an iteration that only prefills
// prompts of seqs sequences with tokens new tokens in total and attnPairs
// (query, key) pairs of attention.
func (s *StepModel) PrefillSeconds(tokens, seqs int, attnPairs float64) float64 {
	return s.StepSeconds(Batch{PrefillTokens: tokens, PrefillSeqs: seqs, PrefillPairs: attnPairs})
}

// DecodeStepSeconds returns the time of an iteration that produces one token
// for each of batch sequences holding contextTokens tokens of KV cache in total.
func (s *StepModel) DecodeStepSeconds(batch, contextTokens int) float64 {
	return s.StepSeconds(Batch{DecodeSeqs: batch, DecodeContext: contextTokens})
}

// KVCapacityTokens returns how many tokens of KV cache fit in the replica:
// (MemoryFraction × TP × GPU memory × (1 − ActivationReserveFraction) − weight
// bytes) / KV bytes per token, rounded down.
func (s *StepModel) KVCapacityTokens() int { return s.kvCapacity }

// MaxBatch returns the spec's MaxBatch.
func (s *StepModel) MaxBatch() int { return s.spec.MaxBatch }

// Spec returns the replica spec, with defaults applied.
func (s *StepModel) Spec() ReplicaSpec {
	sp := s.spec
	sp.Model = sp.Model.clone()
	sp.GPU = sp.GPU.clone()
	return sp
}

// Coefficients returns the coefficients the model was built with.
func (s *StepModel) Coefficients() Coefficients { return s.c }
