package measurements

import (
	"fmt"
	"io"
	"strings"

	"github.com/fleetsim/fleetsim/serving"
)

// ImportTRTLLM converts TensorRT-LLM's published max-throughput table (the
// shared folder's trtllm_max_throughput.csv) into max-throughput rows:
// output_tokens_per_s = output_tok_per_s_total (the whole TP group, which
// is one replica), fixed isl/osl, tp from the table, framework
// TensorRT-LLM. The GPU names (H100, H200, B200, GB200) resolve through
// the catalog (H100 is the SXM part of a DGX H100, as the page says). FP4
// rows are skipped ("precision not modelled: fp4"), as are MoE models and
// models the catalog lacks; the model is read from
// model_checkpoint_family. Source is "trtllm:<line>".
func ImportTRTLLM(r io.Reader, name string) ([]Row, ImportReport, error) {
	rep := ImportReport{Dataset: "trtllm"}
	t, err := openTable(r, name, "model_checkpoint_family", "gpu", "tp", "precision", "isl", "osl", "output_tok_per_s_total")
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
		m, reason := lookupModel(t.str("model_checkpoint_family"))
		if reason != "" {
			rep.skip(reason)
			continue
		}
		g, ok := serving.LookupGPU(t.str("gpu"))
		if !ok {
			rep.skip(reasonNoGPU + ": " + t.str("gpu"))
			continue
		}
		p, err := serving.ParsePrecision(t.str("precision"))
		if err != nil || t.str("precision") == "" {
			rep.skip(reasonPrecision + ": " + strings.ToLower(t.str("precision")))
			continue
		}
		var fe firstErr
		row := EmptyRow()
		row.Dataset, row.GPU, row.Model, row.Precision = "trtllm", g.ID, m.ID, p
		row.TP = fe.int(t, "tp")
		row.Framework = "TensorRT-LLM"
		row.Mode = MaxThroughput
		row.ISL = fe.int(t, "isl")
		row.OSL = fe.int(t, "osl")
		row.OutputTokensPerS = fe.float(t, "output_tok_per_s_total")
		if fe.err != nil {
			return nil, rep, fe.err
		}
		row.Source = fmt.Sprintf("trtllm:%d", t.line)
		rows = append(rows, row)
	}
	rep.Written = len(rows)
	return rows, rep, nil
}
