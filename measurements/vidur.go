package measurements

import (
	"fmt"
	"io"
	"slices"

	"github.com/fleetsim/fleetsim/serving"
)

// vidurGPUs maps Vidur's profiling devices to catalog ids. They are taken
// to be the SXM parts of DGX A100 and DGX H100 nodes (Vidur's network
// profiles are named a100_dgx and h100_dgx), the A100 at 80 GB: an
// assumption, and the 40 GB part has the same compute rate. The A40 has no
// catalog entry.
var vidurGPUs = map[string]string{"a100": "a100-80gb", "h100": "h100"}

// VidurLinearOps are the per-layer operator columns ImportVidurLinear adds
// up into step_ms: both RMSNorms, the QKV projection, RoPE, the attention
// output projection, the gated MLP's up (gate+up) projection, its
// activation, its down projection, and the residual add (counted once, as
// profiled). The embedding lookup (emb) is left out: it runs once per
// forward pass, not once per layer. Attention itself is not profiled.
var VidurLinearOps = []string{
	"input_layernorm", "attn_pre_proj", "attn_rope", "attn_post_proj",
	"post_attention_layernorm", "mlp_up_proj", "mlp_act", "mlp_down_proj", "add",
}

// VidurTokenCounts are the token counts ImportVidurLinear keeps: powers of
// two from 1 to 4,096, and 384, 768, 1,536 and 3,072 where the time grows
// linearly (compute-bound) and the steps between powers of two are widest.
// Other counts are skipped to keep the embedded data small.
var VidurTokenCounts = []int{1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096}

// ImportVidurLinear converts Vidur's per-layer operator medians (the
// shared folder's mlp_linear_ops_median.csv) into linear rows: step_ms is
// the sum of the VidurLinearOps medians of one layer, per TP shard, at
// tokens = num_tokens, tp = num_tensor_parallel_workers. The profiles run
// in fp16, recorded as bf16 (the same bytes and tensor-core rate). Rows
// are kept for catalog GPUs and models whose profiled shape (n_embd,
// n_head, n_kv_head, n_expanded_embd) matches the catalog, at the token
// counts of VidurTokenCounts; of repeated (gpu, model, tp, tokens)
// profiles the first is kept. Framework is left empty (the profiler runs
// the operators alone, outside a serving engine). Source is "vidur:<line>".
func ImportVidurLinear(r io.Reader, name string) ([]Row, ImportReport, error) {
	rep := ImportReport{Dataset: "vidur-linear"}
	need := []string{"gpu", "model", "num_tensor_parallel_workers", "num_tokens", "n_head", "n_kv_head", "n_embd", "n_expanded_embd"}
	for _, op := range VidurLinearOps {
		need = append(need, op+"_median_ms")
	}
	t, err := openTable(r, name, need...)
	if err != nil {
		return nil, rep, err
	}
	type key struct {
		gpu, model string
		tp, tokens int
	}
	seen := map[key]bool{}
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
		gid, ok := vidurGPUs[t.str("gpu")]
		if !ok {
			rep.skip(reasonNoGPU + ": " + t.str("gpu"))
			continue
		}
		m, reason := lookupModel(t.str("model"))
		if reason != "" {
			rep.skip(reason)
			continue
		}
		var fe firstErr
		tp := fe.int(t, "num_tensor_parallel_workers")
		tokens := fe.int(t, "num_tokens")
		shape := [4]int{fe.int(t, "n_embd"), fe.int(t, "n_head"), fe.int(t, "n_kv_head"), fe.int(t, "n_expanded_embd")}
		if fe.err != nil {
			return nil, rep, fe.err
		}
		if shape != [4]int{m.Hidden, m.Heads, m.KVHeads, m.Intermediate} {
			rep.skip("profiled shape differs from catalog")
			continue
		}
		if !slices.Contains(VidurTokenCounts, tokens) {
			rep.skip("token count not in subset")
			continue
		}
		k := key{gid, m.ID, tp, tokens}
		if seen[k] {
			rep.skip("repeated profile")
			continue
		}
		seen[k] = true
		sum := 0.0
		for _, op := range VidurLinearOps {
			sum += fe.nonNeg(t, op+"_median_ms")
		}
		if fe.err != nil {
			return nil, rep, fe.err
		}
		row := EmptyRow()
		row.Dataset, row.GPU, row.Model, row.TP, row.Precision = "vidur-linear", gid, m.ID, tp, serving.BF16
		row.Mode = Linear
		row.Tokens = tokens
		row.StepMs = sig5(sum)
		row.Source = fmt.Sprintf("vidur:%d", t.line)
		rows = append(rows, row)
	}
	rep.Written = len(rows)
	return rows, rep, nil
}
