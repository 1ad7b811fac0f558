package serving

import (
	"fmt"
	"slices"
	"strings"
)

// GPU is an entry of the GPU catalog: the specifications of one accelerator
// that the serving model needs. Throughputs are dense (no sparsity).
type GPU struct {
	// ID is the catalog id, lower case: a100-80gb, h100, h100-pcie, h200,
	// b200, gb200, l4, l40s, mi300x, mi325x.
	ID string
	// Name is the vendor's product name.
	Name string
	// Aliases are other ids LookupGPU accepts for this GPU.
	Aliases []string
	// MemoryGB is the HBM/GDDR capacity in GB (1e9 bytes).
	MemoryGB float64
	// MemBandwidthTBs is the peak memory bandwidth in TB/s (1e12 B/s).
	MemBandwidthTBs float64
	// BF16TFLOPs is the dense BF16 tensor throughput in TFLOP/s.
	BF16TFLOPs float64
	// FP8TFLOPs is the dense FP8 tensor throughput in TFLOP/s; 0 means the
	// GPU has no FP8 tensor cores.
	FP8TFLOPs float64
	// TDPWatts is the board power in W.
	TDPWatts float64
	// InterconnectGBs is the per-GPU NVLink/xGMI bandwidth in GB/s in one
	// direction (half of the bidirectional figure vendors quote); 0 means the
	// GPUs of a node talk over PCIe only.
	InterconnectGBs float64
	// PCIeGBs is the host link bandwidth in GB/s in one direction (PCIe Gen4
	// x16 ≈ 32, Gen5 x16 ≈ 64), used for tensor parallelism when
	// InterconnectGBs is 0.
	PCIeGBs float64
	// Source says where the numbers come from.
	Source string
}

// Model is an entry of the model catalog: the shape of a dense decoder-only
// transformer, as its config.json gives it.
type Model struct {
	// ID is the catalog id: llama-3.1-8b, llama-3.1-70b, llama-3.1-405b,
	// llama-2-7b, llama-2-70b, llama-3.2-3b, llama-3.2-1b.
	ID string
	// Name is the publisher's model name.
	Name string
	// ParamsB is the number of parameters in billions (embeddings included).
	ParamsB float64
	// Layers is num_hidden_layers.
	Layers int
	// Hidden is hidden_size.
	Hidden int
	// Heads is num_attention_heads.
	Heads int
	// KVHeads is num_key_value_heads (equal to Heads without grouped-query attention).
	KVHeads int
	// HeadDim is the size of one attention head (hidden_size / num_attention_heads
	// unless config.json sets head_dim).
	HeadDim int
	// Intermediate is intermediate_size, the width of the gated MLP.
	Intermediate int
	// Vocab is vocab_size.
	Vocab int
	// TiedEmbeddings is tie_word_embeddings: the output head shares the
	// input embedding matrix.
	TiedEmbeddings bool
	// MaxContext is max_position_embeddings, in tokens.
	MaxContext int
	// Aliases are other ids LookupModel accepts for this model (models with
	// the same shape, such as llama-3.3-70b for llama-3.1-70b).
	Aliases []string
	// Source says where the shape comes from.
	Source string
}

// Precision is the number format of weights and KV cache.
type Precision string

const (
	// BF16 is bfloat16: 2 bytes per element.
	BF16 Precision = "bf16"
	// FP8 is 8-bit floating point (E4M3): 1 byte per element.
	FP8 Precision = "fp8"
)

// ParsePrecision returns the precision named by s, ignoring case. The
// empty string is BF16, the default.
func ParsePrecision(s string) (Precision, error) {
	switch Precision(strings.ToLower(strings.TrimSpace(s))) {
	case "", BF16:
		return BF16, nil
	case FP8:
		return FP8, nil
	}
	return "", fmt.Errorf("precision %q: must be bf16 or fp8", s)
}

// Bytes returns the bytes per element of p. It panics if p is neither BF16
// nor FP8: that is a programmer error, since ParsePrecision and New
// reject other values.
func (p Precision) Bytes() float64 {
	switch p {
	case BF16:
		return 2
	case FP8:
		return 1
	}
	panic(fmt.Sprintf("serving: unknown precision %q", string(p)))
}

// KVBytesPerToken returns the KV-cache bytes one token occupies across the
// whole model: 2 (K and V) × Layers × KVHeads × HeadDim × bytes per element.
func (m Model) KVBytesPerToken(p Precision) float64 {
	return 2 * float64(m.Layers) * float64(m.KVHeads) * float64(m.HeadDim) * p.Bytes()
}

// WeightBytes returns the bytes of all weights at precision p:
// ParamsB × 1e9 × bytes per element.
func (m Model) WeightBytes(p Precision) float64 {
	return m.ParamsB * 1e9 * p.Bytes()
}

// Sources of the GPU catalog. Epoch AI's "Machine Learning Hardware"
// dataset (CC-BY 4.0) is copied in serving/testdata/gpu_specs_targets.csv,
// and catalog_test.go checks every number that comes from it.
const (
	srcEpoch = "Epoch AI, Machine Learning Hardware dataset (CC-BY 4.0), via serving/testdata/gpu_specs_targets.csv"
)

var gpuCatalog = []GPU{
	{
		ID: "a100-80gb", Name: "NVIDIA A100 SXM4 80GB",
		Aliases:  []string{"a100", "a100-sxm", "a100-sxm4", "a100-sxm4-80gb"},
		MemoryGB: 80, MemBandwidthTBs: 2.039, BF16TFLOPs: 312, FP8TFLOPs: 0, TDPWatts: 400,
		// NVLink 3: 600 GB/s bidirectional per GPU (Epoch, NVIDIA A100 datasheet) -> 300 one way. PCIe Gen4 x16.
		InterconnectGBs: 300, PCIeGBs: 32,
		Source: srcEpoch + " (row A100-SXM4-80GB); Ampere has no FP8; NVLink 600 GB/s bidirectional halved",
	},
	{
		ID: "a100-40gb", Name: "NVIDIA A100 SXM4 40GB",
		Aliases:  []string{"a100-sxm4-40gb"},
		MemoryGB: 40, MemBandwidthTBs: 1.56, BF16TFLOPs: 312, FP8TFLOPs: 0, TDPWatts: 400,
		// NVLink 3: 600 GB/s bidirectional per GPU (Epoch) -> 300 one way. PCIe Gen4 x16.
		InterconnectGBs: 300, PCIeGBs: 32,
		Source: "Epoch AI, Machine Learning Hardware dataset (CC-BY 4.0), row NVIDIA A100 SXM4 40 GB, via serving/testdata/epoch_a100_40gb.csv; Ampere has no FP8; NVLink 600 GB/s bidirectional halved",
	},
	{
		ID: "h100", Name: "NVIDIA H100 SXM5 80GB",
		Aliases:  []string{"h100-sxm", "h100-sxm5", "h100-80gb", "h100-sxm5-80gb"},
		MemoryGB: 80, MemBandwidthTBs: 3.35, BF16TFLOPs: 989.4,
		// FP8 dense 1979 TFLOP/s: NVIDIA H100 datasheet (3,958 with sparsity); Epoch leaves FP8 blank.
		FP8TFLOPs: 1979, TDPWatts: 700,
		// NVLink 4: 900 GB/s bidirectional per GPU (Epoch, NVIDIA datasheet) -> 450 one way. PCIe Gen5 x16.
		InterconnectGBs: 450, PCIeGBs: 64,
		Source: srcEpoch + " (row H100-SXM5-80GB); FP8 from the NVIDIA H100 datasheet; NVLink 900 GB/s bidirectional halved",
	},
	{
		ID: "h100-pcie", Name: "NVIDIA H100 PCIe 80GB",
		Aliases:  []string{"h100-pcie-80gb"},
		MemoryGB: 80, MemBandwidthTBs: 2.04, BF16TFLOPs: 756,
		// FP8 dense 1513 TFLOP/s: NVIDIA H100 datasheet, PCIe column (3,026 with sparsity).
		FP8TFLOPs: 1513, TDPWatts: 350,
		// Epoch lists 600 GB/s: the optional NVLink bridge joins pairs of cards only,
		// so tensor parallelism beyond 2 runs over PCIe Gen5; the catalog assumes no bridge.
		InterconnectGBs: 0, PCIeGBs: 64,
		Source: srcEpoch + " (row H100-PCIe-80GB); FP8 from the NVIDIA H100 datasheet; NVLink bridge not assumed",
	},
	{
		ID: "h200", Name: "NVIDIA H200 SXM 141GB",
		Aliases:  []string{"h200-sxm", "h200-141gb", "h200-sxm-141gb"},
		MemoryGB: 141, MemBandwidthTBs: 4.8, BF16TFLOPs: 989.5,
		// FP8 dense 1979 TFLOP/s: NVIDIA H200 datasheet (3,958 with sparsity); Epoch leaves FP8 blank.
		FP8TFLOPs: 1979, TDPWatts: 700,
		// NVLink 900 GB/s bidirectional (NVIDIA H200 datasheet; Epoch blank) -> 450 one way.
		InterconnectGBs: 450, PCIeGBs: 64,
		Source: srcEpoch + " (row H200-SXM-141GB; memory from MLPerf v4.1 system descriptions); FP8 and NVLink from the NVIDIA H200 datasheet",
	},
	{
		ID: "b200", Name: "NVIDIA B200",
		Aliases:  []string{"b200-180gb"},
		MemoryGB: 180, MemBandwidthTBs: 7.7, BF16TFLOPs: 2250, FP8TFLOPs: 4500, TDPWatts: 1000,
		// NVLink 5: 1.8 TB/s bidirectional per GPU (NVIDIA DGX B200 datasheet; Epoch blank) -> 900 one way.
		InterconnectGBs: 900, PCIeGBs: 64,
		Source: srcEpoch + " (row B200); NVLink 5 1.8 TB/s bidirectional from the NVIDIA DGX B200 datasheet, halved",
	},
	{
		ID: "gb200", Name: "NVIDIA GB200 (one Blackwell GPU)",
		Aliases:  []string{"gb200-nvl72"},
		MemoryGB: 186, MemBandwidthTBs: 8.0, BF16TFLOPs: 2500, FP8TFLOPs: 5000, TDPWatts: 1200,
		// NVLink 5: 1.8 TB/s bidirectional per GPU (NVIDIA GB200 NVL72 page; Epoch blank) -> 900 one way.
		InterconnectGBs: 900, PCIeGBs: 64,
		Source: srcEpoch + " (row GB200 (per GPU)); NVLink 5 1.8 TB/s bidirectional from NVIDIA, halved",
	},
	{
		ID: "l4", Name: "NVIDIA L4",
		Aliases:  []string{"l4-24gb"},
		MemoryGB: 24, MemBandwidthTBs: 0.3001, BF16TFLOPs: 121,
		// FP8 dense 242.5 TFLOP/s: NVIDIA L4 datasheet (485 with sparsity); Epoch leaves FP8 blank.
		FP8TFLOPs: 242.5, TDPWatts: 72,
		// No NVLink; PCIe Gen4 x16 (NVIDIA L4 datasheet).
		InterconnectGBs: 0, PCIeGBs: 32,
		Source: srcEpoch + " (row L4); FP8 and PCIe Gen4 from the NVIDIA L4 datasheet",
	},
	{
		ID: "l40s", Name: "NVIDIA L40S",
		Aliases:  []string{"l40s-48gb"},
		MemoryGB: 48, MemBandwidthTBs: 0.864, BF16TFLOPs: 362, FP8TFLOPs: 733,
		// 350 W is the NVIDIA L40S datasheet's max power; the compact table's
		// source (winston-zhang-orz/gpu-specs) says 300 W. The datasheet wins.
		TDPWatts: 350,
		// No NVLink; PCIe Gen4 x16 (NVIDIA L40S datasheet).
		InterconnectGBs: 0, PCIeGBs: 32,
		Source: "winston-zhang-orz/gpu-specs data/specs.json (cites the NVIDIA L40S datasheet), via serving/testdata/gpu_specs_targets.csv; TDP 350 W from the NVIDIA L40S datasheet (the file says 300 W)",
	},
	{
		ID: "mi300x", Name: "AMD Instinct MI300X",
		Aliases:  []string{"mi300x-192gb"},
		MemoryGB: 192, MemBandwidthTBs: 5.3, BF16TFLOPs: 1307.4,
		// FP8 dense 2614.9 TFLOP/s: AMD MI300X datasheet (Epoch lists it as INT8 only).
		FP8TFLOPs: 2614.9, TDPWatts: 750,
		// 7 Infinity Fabric links, 896 GB/s aggregate bidirectional peak (AMD datasheet) -> 448 one way. PCIe Gen5 x16.
		InterconnectGBs: 448, PCIeGBs: 64,
		Source: srcEpoch + " (row MI300X); FP8 and Infinity Fabric from the AMD MI300X datasheet",
	},
	{
		ID: "mi325x", Name: "AMD Instinct MI325X",
		Aliases:  []string{"mi325x-256gb"},
		MemoryGB: 256, MemBandwidthTBs: 6.0, BF16TFLOPs: 1307.4,
		// FP8 dense 2614.9 TFLOP/s: AMD MI325X datasheet (same compute die as MI300X).
		FP8TFLOPs: 2614.9, TDPWatts: 1000,
		// Infinity Fabric 896 GB/s aggregate bidirectional (AMD datasheet) -> 448 one way.
		InterconnectGBs: 448, PCIeGBs: 64,
		Source: srcEpoch + " (row MI325X); FP8 and Infinity Fabric from the AMD MI325X datasheet",
	},
}

// srcConfig is the source of every model shape.
const srcConfig = "model config.json on the publisher's model card (huggingface.co/meta-llama/%s)"

var modelCatalog = []Model{
	{
		ID: "llama-3.1-8b", Name: "Llama 3.1 8B", ParamsB: 8.03,
		Layers: 32, Hidden: 4096, Heads: 32, KVHeads: 8, HeadDim: 128, Intermediate: 14336, Vocab: 128256,
		MaxContext: 131072,
		Aliases:    []string{"llama-3-8b"},
		Source:     fmt.Sprintf(srcConfig, "Llama-3.1-8B"),
	},
	{
		ID: "llama-3.1-70b", Name: "Llama 3.1 70B", ParamsB: 70.55,
		Layers: 80, Hidden: 8192, Heads: 64, KVHeads: 8, HeadDim: 128, Intermediate: 28672, Vocab: 128256,
		MaxContext: 131072,
		Aliases:    []string{"llama-3.3-70b", "llama-3-70b"},
		Source:     fmt.Sprintf(srcConfig, "Llama-3.1-70B"),
	},
	{
		ID: "llama-3.1-405b", Name: "Llama 3.1 405B", ParamsB: 405.85,
		Layers: 126, Hidden: 16384, Heads: 128, KVHeads: 8, HeadDim: 128, Intermediate: 53248, Vocab: 128256,
		MaxContext: 131072,
		Source:     fmt.Sprintf(srcConfig, "Llama-3.1-405B"),
	},
	{
		ID: "llama-2-7b", Name: "Llama 2 7B", ParamsB: 6.74,
		Layers: 32, Hidden: 4096, Heads: 32, KVHeads: 32, HeadDim: 128, Intermediate: 11008, Vocab: 32000,
		MaxContext: 4096,
		Source:     fmt.Sprintf(srcConfig, "Llama-2-7b-hf"),
	},
	{
		ID: "llama-2-70b", Name: "Llama 2 70B", ParamsB: 68.98,
		Layers: 80, Hidden: 8192, Heads: 64, KVHeads: 8, HeadDim: 128, Intermediate: 28672, Vocab: 32000,
		MaxContext: 4096,
		Source:     fmt.Sprintf(srcConfig, "Llama-2-70b-hf"),
	},
	{
		ID: "llama-3.2-3b", Name: "Llama 3.2 3B", ParamsB: 3.21,
		Layers: 28, Hidden: 3072, Heads: 24, KVHeads: 8, HeadDim: 128, Intermediate: 8192, Vocab: 128256,
		TiedEmbeddings: true, MaxContext: 131072,
		Source: fmt.Sprintf(srcConfig, "Llama-3.2-3B"),
	},
	{
		ID: "llama-3.2-1b", Name: "Llama 3.2 1B", ParamsB: 1.24,
		Layers: 16, Hidden: 2048, Heads: 32, KVHeads: 8, HeadDim: 64, Intermediate: 8192, Vocab: 128256,
		TiedEmbeddings: true, MaxContext: 131072,
		Source: fmt.Sprintf(srcConfig, "Llama-3.2-1B"),
	},
	{
		// Mistral-7B uses sliding-window attention (4,096 tokens); the shape
		// here is that of a dense model with full attention.
		ID: "mistral-7b", Name: "Mistral 7B v0.1", ParamsB: 7.24,
		Layers: 32, Hidden: 4096, Heads: 32, KVHeads: 8, HeadDim: 128, Intermediate: 14336, Vocab: 32000,
		MaxContext: 32768,
		Aliases:    []string{"mistral-7b-v0.1"},
		Source:     "model config.json on the publisher's model card (huggingface.co/mistralai/Mistral-7B-v0.1/blob/main/config.json)",
	},
	{
		// Qwen2 has biases on the Q, K and V projections (3,584 + 2 × 512
		// per layer): 0.13 M parameters, included in ParamsB.
		ID: "qwen2-7b", Name: "Qwen2 7B", ParamsB: 7.62,
		Layers: 28, Hidden: 3584, Heads: 28, KVHeads: 4, HeadDim: 128, Intermediate: 18944, Vocab: 152064,
		MaxContext: 131072,
		Source:     "model config.json on the publisher's model card (huggingface.co/Qwen/Qwen2-7B/blob/main/config.json)",
	},
	{
		// Qwen2 has biases on the Q, K and V projections (8,192 + 2 × 1,024
		// per layer): 0.82 M parameters, included in ParamsB.
		ID: "qwen2-72b", Name: "Qwen2 72B", ParamsB: 72.71,
		Layers: 80, Hidden: 8192, Heads: 64, KVHeads: 8, HeadDim: 128, Intermediate: 29568, Vocab: 152064,
		MaxContext: 131072,
		Source:     "model config.json on the publisher's model card (huggingface.co/Qwen/Qwen2-72B/blob/main/config.json)",
	},
}

// gpuIndex and modelIndex map every lower-case id and alias to a catalog
// index. They are built once and never written afterwards.
var (
	gpuIndex   = buildIndex(gpuCatalog, func(g GPU) (string, []string) { return g.ID, g.Aliases })
	modelIndex = buildIndex(modelCatalog, func(m Model) (string, []string) { return m.ID, m.Aliases })
)

func buildIndex[T any](entries []T, names func(T) (string, []string)) map[string]int {
	idx := make(map[string]int)
	for i, e := range entries {
		id, aliases := names(e)
		for _, n := range append([]string{id}, aliases...) {
			key := strings.ToLower(n)
			if _, dup := idx[key]; dup {
				// The catalogs are literals in this file: a duplicate is a programmer error.
				panic(fmt.Sprintf("serving: duplicate catalog name %q", key))
			}
			idx[key] = i
		}
	}
	return idx
}

// GPUs returns a copy of the GPU catalog in catalog order.
func GPUs() []GPU {
	out := make([]GPU, len(gpuCatalog))
	for i, g := range gpuCatalog {
		out[i] = g.clone()
	}
	return out
}

// LookupGPU finds a GPU by id or alias, ignoring case and surrounding
// space (a100 is a100-80gb, h100-sxm is h100).
func LookupGPU(id string) (GPU, bool) {
	i, ok := gpuIndex[strings.ToLower(strings.TrimSpace(id))]
	if !ok {
		return GPU{}, false
	}
	return gpuCatalog[i].clone(), true
}

// Models returns a copy of the model catalog in catalog order.
func Models() []Model {
	out := make([]Model, len(modelCatalog))
	for i, m := range modelCatalog {
		out[i] = m.clone()
	}
	return out
}

// LookupModel finds a model by id or alias, ignoring case. It also accepts
// the names models are published under: an organisation prefix
// ("meta-llama/"), a leading "meta-" and the suffixes "-instruct", "-chat"
// and "-hf" are ignored, so "meta-llama/Meta-Llama-3-8B-Instruct" is
// llama-3.1-8b and "Llama-2-70b-chat-hf" is llama-2-70b.
func LookupModel(id string) (Model, bool) {
	key := strings.ToLower(strings.TrimSpace(id))
	if i, ok := modelIndex[key]; ok {
		return modelCatalog[i].clone(), true
	}
	if j := strings.LastIndexByte(key, '/'); j >= 0 {
		key = key[j+1:]
	}
	key = strings.TrimPrefix(key, "meta-")
	for _, suffix := range []string{"-hf", "-instruct", "-chat"} {
		key = strings.TrimSuffix(key, suffix)
	}
	if i, ok := modelIndex[key]; ok {
		return modelCatalog[i].clone(), true
	}
	return Model{}, false
}

func (g GPU) clone() GPU {
	g.Aliases = slices.Clone(g.Aliases)
	return g
}

func (m Model) clone() Model {
	m.Aliases = slices.Clone(m.Aliases)
	return m
}
