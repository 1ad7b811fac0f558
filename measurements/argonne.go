package measurements

import (
	"fmt"
	"io"

	"github.com/fleetsim/fleetsim/serving"
)

// argonneGPUs maps the hardware names of LLM-Inference-Bench to catalog ids.
//
//   - Argonne's A100 system (Polaris) has A100 SXM4 40 GB GPUs; their batch-1
//     latencies fit 1.56 TB/s, not the 80 GB part's 2.04 TB/s (see the
//     serving package's measured tests).
//   - The H100 runs fit the SXM part's 3.35 TB/s: a PCIe H100 (2.0 TB/s)
//     could not read Llama-3-8B's 16 GB in the measured 7.9 ms per token.
//   - GH200 (Grace Hopper, 96 GB HBM3) has no catalog entry and is skipped.
var argonneGPUs = map[string]string{
	"Nvidia A100 GPU": "a100-40gb",
	"Nvidia H100 GPU": "h100",
	"AMD MI300X GPU":  "mi300x",
}

// ImportArgonne converts LLM-Inference-Bench (Argonne) batch sweeps, the
// shared folder's batch_sweep_results.csv, into static-mode rows: one
// static batch of batch_size requests with input = output length, tp =
// num_devices, e2e_ms = latency_s × 1000 and output_tokens_per_s =
// batch_size × output_len / latency_s, at bf16 (the benchmark runs the
// models at 16-bit; fp16 and bf16 move the same bytes). Rows on GPUs or
// models the catalog lacks, and mixture-of-experts models, are skipped and
// counted. Source is "argonne:<line>", the line in the input. Malformed
// numbers are an error naming the file, line and column.
func ImportArgonne(r io.Reader, name string) ([]Row, ImportReport, error) {
	rep := ImportReport{Dataset: "argonne"}
	t, err := openTable(r, name, "hardware", "num_devices", "framework", "model", "input_len", "output_len", "batch_size", "latency_s")
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
		gpu, ok := argonneGPUs[t.str("hardware")]
		if !ok {
			rep.skip(reasonNoGPU + ": " + t.str("hardware"))
			continue
		}
		m, reason := lookupModel(t.str("model"))
		if reason != "" {
			rep.skip(reason)
			continue
		}
		var fe firstErr
		row := EmptyRow()
		row.Dataset, row.GPU, row.Model = "argonne", gpu, m.ID
		row.TP = fe.int(t, "num_devices")
		row.Precision = serving.BF16
		row.Framework = t.str("framework")
		row.Mode = Static
		row.Batch = fe.int(t, "batch_size")
		row.ISL = fe.int(t, "input_len")
		row.OSL = fe.int(t, "output_len")
		latency := fe.float(t, "latency_s")
		if fe.err != nil {
			return nil, rep, fe.err
		}
		row.E2Ems = sig5(latency * 1000)
		row.OutputTokensPerS = sig5(float64(row.Batch*row.OSL) / latency)
		row.Source = fmt.Sprintf("argonne:%d", t.line)
		rows = append(rows, row)
	}
	rep.Written = len(rows)
	return rows, rep, nil
}
