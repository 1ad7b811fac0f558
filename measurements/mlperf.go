package measurements

import (
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/fleetsim/fleetsim/serving"
)

// mlperfGPUs maps MLPerf system descriptions' accelerator_model_name to
// catalog ids. Names not listed are skipped and counted, among them the
// H200-SXM-141GB-CTS (a 1,000 W custom-thermal part), virtualized H200s,
// the H100/H200 NVL cards and GH200, which the catalog lacks.
var mlperfGPUs = map[string]string{
	"NVIDIA H100-SXM-80GB":                    "h100",
	"NVIDIA H100-PCIe-80GB":                   "h100-pcie",
	"NVIDIA H200-SXM-141GB":                   "h200",
	"NVIDIA B200-SXM-180GB":                   "b200",
	"NVIDIA GB200":                            "gb200",
	"NVIDIA L40S":                             "l40s",
	"AMD Instinct MI300X 192GB HBM3":          "mi300x",
	"AMD Instinct MI300X-NPS1-SPX-192GB-750W": "mi300x",
	"AMD MI300X-NPS1-SPX-192GB-750W":          "mi300x",
	"AMD Instinct MI325X 256GB HBM3e":         "mi325x",
}

// mlperfFP4GPUs are the GPUs whose MLPerf LLM submissions quantize to FP4
// (NVIDIA's Blackwell submissions use NVFP4), which the serving model
// does not model.
var mlperfFP4GPUs = map[string]bool{"b200": true, "gb200": true}

// MLPerfKVHeadroom is the fraction of a replica's GPU memory the weights
// may take when ImportMLPerf chooses the tensor-parallel degree; the rest
// is left for KV cache and activations. It is an assumption: MLPerf
// results do not state the TP degree.
const MLPerfKVHeadroom = 0.5

// MLPerfTP returns the tensor-parallel degree ImportMLPerf assumes for a
// model at precision p on GPU g: the smallest of 1, 2, 4, 8 whose GPUs'
// memory holds the weights in MLPerfKVHeadroom of it. It returns 0 if
// even 8 GPUs do not. Llama-2-70B at fp8 (69 GB) gives 2 on H100 (80 GB)
// and 1 on H200 (141 GB) and MI300X (192 GB).
func MLPerfTP(m serving.Model, g serving.GPU, p serving.Precision) int {
	for _, tp := range []int{1, 2, 4, 8} {
		if m.WeightBytes(p) <= MLPerfKVHeadroom*float64(tp)*g.MemoryGB*1e9 {
			return tp
		}
	}
	return 0
}

// ImportMLPerf converts MLPerf Inference LLM results (the shared folder's
// mlperf_llm_results.csv) into per-replica rows. Only closed-division
// VALID results are kept, and of the llama2-70b accuracy targets only the
// 99% one (the 99.9% runs mostly repeat it). Offline becomes max-throughput; Server and
// Interactive become server, with ttft_ms, tpot_ms and e2e_ms the p50
// values and rate_rps = target_qps / replicas (the offered Poisson rate,
// split evenly). The system runs total_accelerators / tp replicas, tp from
// MLPerfTP, and output_tokens_per_s = tokens_per_s / replicas. osl is the
// measured output tokens per sample, tokens_per_s / samples_per_s,
// rounded; isl is left empty because the results do not give it.
// Precision is assumed fp8: the results do not say, and Hopper, Ada and
// MI300-series LLM submissions typically quantize the weights to FP8.
// Blackwell rows are taken to be FP4 and are skipped. Source is
// "mlperf-<round>:<submitter>/<system>/<benchmark>/<scenario>": the
// source_path less its constant parts ("closed/", "/results",
// "/performance/run_1/mlperf_log_summary.txt").
func ImportMLPerf(r io.Reader, name string) ([]Row, ImportReport, error) {
	rep := ImportReport{Dataset: "mlperf"}
	t, err := openTable(r, name, "round", "division", "accelerator", "accelerators_per_node", "total_accelerators",
		"framework", "benchmark", "model", "scenario", "result", "samples_per_s", "tokens_per_s", "target_qps",
		"ttft_p50_ms", "tpot_p50_ms", "latency_p50_ms", "source_path")
	if err != nil {
		return nil, rep, err
	}
	var rows []Row
	for {
		ok, err := t.next()
		if err != nil {
			return nil, rep, err
		}
		if !ok {
			break
		}
		rep.Read++
		if d := t.str("division"); d != "closed" {
			rep.skip("division not closed: " + d)
			continue
		}
		if res := t.str("result"); res != "VALID" {
			rep.skip("result not VALID")
			continue
		}
		if strings.HasSuffix(t.str("benchmark"), "-99.9") {
			// The 99.9% accuracy target runs the same model; submitters
			// mostly repeat their 99% run, which would count twice.
			rep.skip("accuracy target 99.9 (the 99 run is kept)")
			continue
		}
		var mode Mode
		switch sc := t.str("scenario"); sc {
		case "Offline":
			mode = MaxThroughput
		case "Server", "Interactive":
			mode = Server
		default:
			rep.skip("scenario not imported: " + sc)
			continue
		}
		m, reason := lookupModel(t.str("model"))
		if reason != "" {
			rep.skip(reason)
			continue
		}
		gid, ok := mlperfGPUs[t.str("accelerator")]
		if !ok {
			rep.skip(reasonNoGPU + ": " + t.str("accelerator"))
			continue
		}
		if mlperfFP4GPUs[gid] {
			rep.skip(reasonPrecision + ": fp4 (blackwell submissions)")
			continue
		}
		if t.str("tokens_per_s") == "" {
			rep.skip("no tokens/s")
			continue
		}
		g, _ := serving.LookupGPU(gid)
		tp := MLPerfTP(m, g, serving.FP8)
		perNode, err1 := strconv.Atoi(t.str("accelerators_per_node"))
		total, err2 := strconv.Atoi(t.str("total_accelerators"))
		if err1 != nil || err2 != nil || perNode < 1 || total < 1 {
			rep.skip("accelerator count not given")
			continue
		}
		if tp == 0 || perNode%tp != 0 || total%tp != 0 {
			rep.skip("replicas do not divide the system")
			continue
		}
		replicas := float64(total / tp)
		var fe firstErr
		samples := fe.float(t, "samples_per_s")
		tokens := fe.float(t, "tokens_per_s")
		row := EmptyRow()
		row.Dataset, row.GPU, row.Model, row.TP, row.Precision = "mlperf", gid, m.ID, tp, serving.FP8
		row.Framework = mlperfFramework(t.str("framework"))
		row.Mode = mode
		row.OSL = int(math.Round(tokens / samples))
		row.OutputTokensPerS = sig5(tokens / replicas)
		if mode == Server {
			row.RateRPS = sig5(fe.float(t, "target_qps") / replicas)
			row.TTFTms = fe.optFloat(t, "ttft_p50_ms")
			row.TPOTms = fe.optFloat(t, "tpot_p50_ms")
			row.E2Ems = fe.optFloat(t, "latency_p50_ms")
		}
		if fe.err != nil {
			return nil, rep, fe.err
		}
		src := strings.TrimSuffix(t.str("source_path"), "/performance/run_1/mlperf_log_summary.txt")
		src = strings.Replace(strings.TrimPrefix(src, "closed/"), "/results/", "/", 1)
		row.Source = "mlperf-" + t.str("round") + ":" + src
		rows = append(rows, row)
	}
	rep.Written = len(rows)
	return rows, rep, nil
}

// mlperfFramework shortens a system description's software stack to the
// serving framework: TensorRT-LLM for TensorRT stacks, vLLM where vLLM is
// named, otherwise the text before the first comma.
func mlperfFramework(s string) string {
	low := strings.ToLower(s)
	switch {
	case strings.HasPrefix(low, "tensorrt"):
		return "TensorRT-LLM"
	case strings.Contains(low, "vllm"):
		return "vLLM"
	}
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
