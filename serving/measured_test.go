package serving

// Tests that predict public measurements (serving/testdata, see its README)
// with the default roofline and assert the prediction is within a stated
// factor. They report the observed error with t.Log; docs/serving.md quotes
// it (go test ./serving -run Measured -v).

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"
)

// staticBatchSeconds predicts the end-to-end time of a static batch of
// batch requests, each with isl prompt tokens and osl output tokens: one
// prefill iteration over all prompts (it yields the first output token),
// then osl-1 decode steps, step i running with batch × (isl + i) tokens of
// KV cache. It uses only the Estimator interface.
func staticBatchSeconds(e Estimator, batch, isl, osl int) float64 {
	n := float64(isl)
	t := e.PrefillSeconds(batch*isl, float64(batch)*n*n/2)
	for i := 1; i < osl; i++ {
		t += e.DecodeStepSeconds(batch, batch*(isl+i))
	}
	return t
}

// errorStats summarises predicted/measured ratios: the geometric mean ratio,
// the median and the worst error factor (max(r, 1/r)).
type errorStats struct {
	n                      int
	geoMean, median, worst float64
}

func summarize(ratios []float64) errorStats {
	if len(ratios) == 0 {
		return errorStats{}
	}
	factors := make([]float64, len(ratios))
	sumLog := 0.0
	for i, r := range ratios {
		sumLog += math.Log(r)
		factors[i] = math.Max(r, 1/r)
	}
	slices.Sort(factors)
	return errorStats{
		n:       len(ratios),
		geoMean: math.Exp(sumLog / float64(len(ratios))),
		median:  factors[len(factors)/2],
		worst:   factors[len(factors)-1],
	}
}

func (s errorStats) String() string {
	return fmt.Sprintf("n=%d predicted/measured geometric mean %.2f, median error ×%.2f, worst ×%.2f", s.n, s.geoMean, s.median, s.worst)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	v, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

// TestMeasuredArgonneStaticBatch predicts the static-batch latencies of
// Argonne's LLM-Inference-Bench (vLLM and TensorRT-LLM, BF16/FP16, input =
// output length) and asserts every NVIDIA prediction is within a factor 2 of
// the measurement, and the median within ×1.3. Observed over 87 rows: median
// error ×1.12, worst ×1.87 (Llama-3-8B on 4 × H100, vLLM, batch 64; see
// docs/serving.md). MI300X rows are reported, not asserted: the roofline is
// 1.8-6.9× optimistic for that vLLM ROCm build.
func TestMeasuredArgonneStaticBatch(t *testing.T) {
	// Argonne's A100 system (Polaris) has A100 SXM4 40 GB GPUs: their batch-1
	// latencies match 1.56 TB/s, not the 80 GB part's 2.04 TB/s. The H100 rows
	// match the SXM part's 3.35 TB/s (a PCIe H100 could not read the 16 GB of
	// Llama-3-8B in the measured 7.9 ms per token).
	gpuOf := map[string]string{"Nvidia H100 GPU": "h100", "Nvidia A100 GPU": "a100-40gb", "AMD MI300X GPU": "mi300x"}
	eff := DefaultEfficiency()
	groups := map[string][]float64{}
	var nvidia []float64
	skipped := 0
	for _, row := range readCSV(t, "argonne_batch_sweep.csv") {
		gid, ok := gpuOf[row["hardware"]]
		if !ok {
			t.Fatalf("unmapped hardware %q", row["hardware"])
		}
		m, ok := LookupModel(row["model"])
		if !ok {
			t.Fatalf("unknown model %q", row["model"])
		}
		tp, isl, osl, batch := atoi(t, row["num_devices"]), atoi(t, row["input_len"]), atoi(t, row["output_len"]), atoi(t, row["batch_size"])
		measured := num(t, row["latency_s"])
		spec := ReplicaSpec{Model: m, GPU: mustGPU(t, gid), TensorParallel: tp, Precision: BF16, MaxBatch: batch}
		r, err := NewRoofline(spec, eff)
		if errors.Is(err, ErrWeightsDoNotFit) || errors.Is(err, ErrNoKVCapacity) {
			// 70B in BF16 on 4 × 40 GB: the run must have used a larger
			// memory fraction than the default 0.9; out of this model's scope.
			skipped++
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", row, err)
		}
		if batch*(isl+osl) > r.KVCapacityTokens() {
			// The batch does not fit in KV cache: the engine preempts and
			// recomputes, which the roofline does not model.
			skipped++
			continue
		}
		predicted := staticBatchSeconds(r, batch, isl, osl)
		ratio := predicted / measured
		key := fmt.Sprintf("%s %s", gid, row["framework"])
		groups[key] = append(groups[key], ratio)
		name := fmt.Sprintf("%s/%dx%s/%s/b%d/L%d", row["framework"], tp, gid, m.ID, batch, isl)
		if gid == "mi300x" {
			continue
		}
		nvidia = append(nvidia, ratio)
		t.Run(name, func(t *testing.T) {
			if ratio < 0.5 || ratio > 2 {
				t.Errorf("latency: predicted %.2f s, measured %.2f s (ratio %.2f); want within a factor 2", predicted, measured, ratio)
			}
		})
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("%-22s %v", k, summarize(groups[k]))
	}
	all := summarize(nvidia)
	t.Logf("%-22s %v (%d rows skipped: do not fit)", "all NVIDIA", all, skipped)
	if all.n < 80 {
		t.Errorf("checked %d NVIDIA rows, want >= 80", all.n)
	}
	if all.median > 1.3 {
		t.Errorf("median error: got ×%.2f, want <= ×1.3", all.median)
	}
}

// TestMeasuredTRTLLMMaxThroughput predicts TensorRT-LLM's published offline
// max throughput (FP8, fixed ISL/OSL, H100 and H200) and asserts every
// prediction is within a factor 2, and the median within ×1.3. Observed over
// 50 rows: median error ×1.14, worst ×1.46 (405B on 8 × H200, optimistic; see
// docs/serving.md).
//
// The page does not give the batch size. The prediction runs as many
// requests at once as fit in KV cache, up to 2,048 (an assumption), as
// one static batch: all prefills, then all decode steps. That is an upper
// bound for continuous batching, which mixes prefills into decode steps.
func TestMeasuredTRTLLMMaxThroughput(t *testing.T) {
	const maxBatch = 2048
	eff := DefaultEfficiency()
	groups := map[string][]float64{}
	var all []float64
	for _, row := range readCSV(t, "trtllm_max_throughput.csv") {
		m, ok := LookupModel(row["model_checkpoint_family"])
		if !ok {
			t.Fatalf("unknown model %q", row["model_checkpoint_family"])
		}
		gpu := mustGPU(t, row["gpu"])
		tp, isl, osl := atoi(t, row["tp"]), atoi(t, row["isl"]), atoi(t, row["osl"])
		measured := num(t, row["output_tok_per_s_total"])
		r := mustRoofline(t, ReplicaSpec{Model: m, GPU: gpu, TensorParallel: tp, Precision: FP8, MaxBatch: maxBatch}, eff)
		batch := min(r.MaxBatch(), r.KVCapacityTokens()/(isl+osl))
		predicted := float64(batch*osl) / staticBatchSeconds(r, batch, isl, osl)
		ratio := predicted / measured
		key := fmt.Sprintf("%s %s", m.ID, gpu.ID)
		groups[key] = append(groups[key], ratio)
		all = append(all, ratio)
		t.Run(fmt.Sprintf("%s/%dx%s/%d-%d", m.ID, tp, gpu.ID, isl, osl), func(t *testing.T) {
			if ratio < 0.5 || ratio > 2 {
				t.Errorf("throughput: predicted %.0f tok/s (batch %d), measured %.0f tok/s (ratio %.2f); want within a factor 2",
					predicted, batch, measured, ratio)
			}
		})
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("%-22s %v", k, summarize(groups[k]))
	}
	s := summarize(all)
	t.Logf("%-22s %v", "all", s)
	if s.n != 50 {
		t.Errorf("checked %d rows, want 50", s.n)
	}
	if s.median > 1.3 {
		t.Errorf("median error: got ×%.2f, want <= ×1.3", s.median)
	}
}

// TestMeasuredMLPerfLlama2Offline is a consistency check against MLPerf
// Inference llama2-70b Offline (closed division), per-GPU output tokens/s.
// The shared data lacks the input lengths of the benchmark's dataset, so
// this is not an error measurement. The reference README caps inputs at
// 1,024 tokens (processorca.py --seqlen_limit=1024) and gives 294.45 output
// tokens per sample. The test predicts FP8 at TP 2, the same static-batch way
// as the TensorRT-LLM test, for mean inputs of 128 and 1,024 tokens. It
// asserts that the median submission lies in that band, widened by ×1.5.
func TestMeasuredMLPerfLlama2Offline(t *testing.T) {
	const osl = 294
	byGPU := map[string][]float64{}
	for _, row := range readCSV(t, "mlperf_llama2_70b_offline.csv") {
		var gid string
		switch row["accelerator"] {
		case "NVIDIA H100-SXM-80GB":
			gid = "h100"
		case "NVIDIA H200-SXM-141GB":
			gid = "h200"
		default:
			t.Fatalf("unexpected accelerator %q", row["accelerator"])
		}
		byGPU[gid] = append(byGPU[gid], num(t, row["tokens_per_s_per_accel"]))
	}
	for _, gid := range []string{"h100", "h200"} {
		t.Run(gid, func(t *testing.T) {
			vals := byGPU[gid]
			if len(vals) < 5 {
				t.Fatalf("got %d submissions, want >= 5", len(vals))
			}
			slices.Sort(vals)
			measured := vals[len(vals)/2]
			r := mustRoofline(t, ReplicaSpec{Model: mustModel(t, "llama-2-70b"), GPU: mustGPU(t, gid), TensorParallel: 2, Precision: FP8, MaxBatch: 2048}, DefaultEfficiency())
			perGPU := func(isl int) float64 {
				batch := min(r.MaxBatch(), r.KVCapacityTokens()/(isl+osl))
				return float64(batch*osl) / staticBatchSeconds(r, batch, isl, osl) / 2
			}
			lo, hi := perGPU(1024), perGPU(128)
			t.Logf("median of %d submissions %.0f tok/s/GPU; predicted %.0f (mean input 1,024) to %.0f (mean input 128)", len(vals), measured, lo, hi)
			if measured < lo/1.5 || measured > hi*1.5 {
				t.Errorf("measured %.0f tok/s/GPU outside the predicted band [%.0f, %.0f] widened by ×1.5", measured, lo, hi)
			}
		})
	}
}
