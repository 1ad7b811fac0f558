package measurements

import (
	"math"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/serving"
)

// checkReport asserts the report's invariant, Read = Written + skipped,
// and the expected counts.
func checkReport(t *testing.T, rep ImportReport, rows []Row, read int, skipped map[string]int) {
	t.Helper()
	sum := 0
	for _, n := range rep.Skipped {
		sum += n
	}
	if rep.Read != rep.Written+sum {
		t.Errorf("report: read %d, want written %d + skipped %d", rep.Read, rep.Written, sum)
	}
	if rep.Read != read || rep.Written != len(rows) {
		t.Errorf("report: got read %d written %d, want read %d written %d", rep.Read, rep.Written, read, len(rows))
	}
	for k, want := range skipped {
		if got := rep.Skipped[k]; got != want {
			t.Errorf("skipped %q: got %d, want %d (all: %v)", k, got, want, rep.Skipped)
		}
	}
	if len(rep.Skipped) != len(skipped) {
		t.Errorf("skip reasons: got %v, want %v", rep.Skipped, skipped)
	}
	for _, r := range rows {
		if err := r.Validate(); err != nil {
			t.Errorf("row %s invalid: %v", r.Source, err)
		}
	}
}

func near(got, want, rel float64) bool { return math.Abs(got-want) <= rel*math.Abs(want) }

const argonneHead = "hardware,num_devices,framework,model,input_len,output_len,batch_size,latency_s,throughput_tok_s,decode_tok_s_derived\n"

func TestImportArgonne(t *testing.T) {
	in := argonneHead +
		"Nvidia H100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,1024,1024,64,18.8,6971.9,3485.9\n" +
		"Nvidia A100 GPU,4,TensorRT-LLM,Qwen/Qwen2-72B,128,128,16,2.5,1638.4,819.2\n" +
		"Nvidia GH200 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,128,128,1,1.0,256,128\n" +
		"AMD MI300X GPU,1,vLLM,mistralai/Mixtral-8x7B-v0.1,128,128,1,1.0,256,128\n" +
		"AMD MI300X GPU,1,vLLM,Deci/DeciLM-7B,128,128,1,1.0,256,128\n"
	rows, rep, err := ImportArgonne(strings.NewReader(in), "argonne.csv")
	if err != nil {
		t.Fatalf("ImportArgonne: %v", err)
	}
	checkReport(t, rep, rows, 5, map[string]int{
		"gpu not in catalog: Nvidia GH200 GPU": 1, reasonMoE: 1, reasonNoModel: 1,
	})
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	// By hand: 18.8 s = 18,800 ms; 64 × 1024 / 18.8 = 3,485.96 output tokens/s
	// (computed values are rounded to 5 significant digits: 1e-4 allowed).
	r := rows[0]
	if r.GPU != "h100" || r.Model != "llama-3.1-8b" || r.TP != 1 || r.Mode != Static || r.Precision != serving.BF16 ||
		r.Batch != 64 || r.ISL != 1024 || r.OSL != 1024 || r.Framework != "vLLM" || r.Source != "argonne:2" {
		t.Errorf("row 0: got %+v", r)
	}
	if r.E2Ems != 18800 || !near(r.OutputTokensPerS, 3485.96, 1e-4) {
		t.Errorf("row 0: got e2e %g ms, %g tok/s; want 18800 ms, 3485.96 tok/s", r.E2Ems, r.OutputTokensPerS)
	}
	// Argonne's A100s are the 40 GB part; Qwen2-72B is in the catalog.
	if rows[1].GPU != "a100-40gb" || rows[1].Model != "qwen2-72b" || rows[1].TP != 4 || rows[1].OutputTokensPerS != 819.2 {
		t.Errorf("row 1: got %+v", rows[1])
	}
}

func TestImportErrors(t *testing.T) {
	tests := []struct {
		name    string
		imp     func(string) error
		wantErr string
	}{
		{"argonne missing column", func(s string) error {
			_, _, err := ImportArgonne(strings.NewReader("hardware,model\n"), s)
			return err
		}, "in.csv:1: header lacks columns num_devices"},
		{"argonne bad latency", func(s string) error {
			_, _, err := ImportArgonne(strings.NewReader(argonneHead+"Nvidia H100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,128,128,1,-2,1,1\n"), s)
			return err
		}, "in.csv:2: latency_s: want a finite positive number"},
		{"argonne empty", func(s string) error {
			_, _, err := ImportArgonne(strings.NewReader(""), s)
			return err
		}, "in.csv:1: empty file"},
		{"trtllm bad tp", func(s string) error {
			_, _, err := ImportTRTLLM(strings.NewReader(trtHead+"Llama 3.1 8B,Llama-3.1-8B-Instruct,H100,x,1,FP8,128,128,100,100\n"), s)
			return err
		}, "in.csv:2: tp: want a positive integer"},
		{"mlperf bad samples", func(s string) error {
			_, _, err := ImportMLPerf(strings.NewReader(mlperfHead+mlperfRow("closed", "NVIDIA H100-SXM-80GB", "8", "1", "8", "llama2-70b-99", "Llama-2-70B", "Offline", "VALID", "zero", "8000", "", "", "", "")), s)
			return err
		}, "in.csv:2: samples_per_s"},
		{"vidur ragged row", func(s string) error {
			_, _, err := ImportVidurLinear(strings.NewReader(vidurHead+"h100,meta-llama/Llama-2-7b-hf\n"), s)
			return err
		}, "in.csv:2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.imp("in.csv")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

const trtHead = "model,model_checkpoint_family,gpu,tp,num_gpus,precision,isl,osl,output_tok_per_s_total,output_tok_per_s_per_gpu\n"

func TestImportTRTLLM(t *testing.T) {
	in := trtHead +
		"Llama 3.1 8B,Llama-3.1-8B-Instruct,H100,1,1,FP8,1000,1000,15220,15220.0\n" +
		"Llama 3.3 70B,Llama-3.3-70B-Instruct,H200,2,2,FP8,128,2048,9000,4500.0\n" +
		"Llama 3.3 70B,Llama-3.3-70B-Instruct,B200,1,1,FP4,128,128,25000,25000.0\n" +
		"Llama 4 Scout,Llama-4-Scout-17B-16E,H200,4,4,FP8,128,128,30354,7588.5\n" +
		"Qwen3-30B-A3B,Qwen3-30B-A3B,H200,1,1,FP8,128,128,30000,30000.0\n"
	rows, rep, err := ImportTRTLLM(strings.NewReader(in), "trt.csv")
	if err != nil {
		t.Fatalf("ImportTRTLLM: %v", err)
	}
	checkReport(t, rep, rows, 5, map[string]int{reasonMoE: 2, "precision not modelled: fp4": 1})
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(rows))
	}
	want := []struct {
		gpu, model string
		tp, isl    int
		osl        int
		tps        float64
	}{
		{"h100", "llama-3.1-8b", 1, 1000, 1000, 15220},
		{"h200", "llama-3.1-70b", 2, 128, 2048, 9000}, // the TP group's total is the replica's
	}
	for i, w := range want {
		r := rows[i]
		if r.GPU != w.gpu || r.Model != w.model || r.TP != w.tp || r.ISL != w.isl || r.OSL != w.osl ||
			r.OutputTokensPerS != w.tps || r.Precision != serving.FP8 || r.Mode != MaxThroughput || r.Framework != "TensorRT-LLM" {
			t.Errorf("row %d: got %+v, want %+v", i, r, w)
		}
	}
}

const mlperfHead = "round,division,submitter,system_id,system_name,accelerator,accel_memory,accelerators_per_node,number_of_nodes,total_accelerators,framework,benchmark,model,scenario,result,samples_per_s,tokens_per_s,tokens_per_s_per_accel,target_qps,ttft_limit_ms,tpot_limit_ms,ttft_mean_ms,ttft_p50_ms,ttft_p90_ms,ttft_p99_ms,tpot_mean_ms,tpot_p50_ms,tpot_p90_ms,tpot_p99_ms,latency_p50_ms,latency_p99_ms,source_path\n"

func mlperfRow(division, accel, perNode, nodes, total, bench, model, scenario, result, samples, tokens, qps, ttft, tpot, lat string) string {
	return "v4.1," + division + ",Sub,sys,System," + accel + ",80 GB," + perNode + "," + nodes + "," + total +
		",\"TensorRT 10.2.0, CUDA 12.4\"," + bench + "," + model + "," + scenario + "," + result + "," + samples + "," + tokens +
		",," + qps + ",2000,200,," + ttft + ",,,," + tpot + ",,," + lat + ",," +
		"closed/Sub/results/sys/" + bench + "/" + scenario + "/performance/run_1/mlperf_log_summary.txt\n"
}

func TestImportMLPerf(t *testing.T) {
	in := mlperfHead +
		// 8 × H100, Offline: llama-2-70b fp8 (69 GB) needs tp 2 → 4 replicas.
		mlperfRow("closed", "NVIDIA H100-SXM-80GB", "8", "1", "8", "llama2-70b-99", "Llama-2-70B", "Offline", "VALID", "82.0", "24000", "", "", "", "") +
		// 2 nodes × 8 × H200, Server: tp 1 → 16 replicas.
		mlperfRow("closed", "NVIDIA H200-SXM-141GB", "8", "2", "16", "llama2-70b-99", "Llama-2-70B", "Server", "VALID", "160", "46720", "160.5", "400.5", "120.25", "35000") +
		mlperfRow("closed", "NVIDIA H200-SXM-141GB", "8", "1", "8", "llama2-70b-99", "Llama-2-70B", "Interactive", "VALID", "60", "17520", "60", "300", "30", "9000") +
		mlperfRow("closed", "NVIDIA H100-SXM-80GB", "8", "1", "8", "llama2-70b-99.9", "Llama-2-70B", "Offline", "VALID", "82.0", "24000", "", "", "", "") +
		mlperfRow("open", "NVIDIA H100-SXM-80GB", "8", "1", "8", "llama2-70b-99", "Llama-2-70B", "Offline", "VALID", "82.0", "24000", "", "", "", "") +
		mlperfRow("closed", "NVIDIA H100-SXM-80GB", "8", "1", "8", "llama2-70b-99", "Llama-2-70B", "Offline", "INVALID", "82.0", "24000", "", "", "", "") +
		mlperfRow("closed", "NVIDIA B200-SXM-180GB", "8", "1", "8", "llama2-70b-99", "Llama-2-70B", "Offline", "VALID", "300", "90000", "", "", "", "") +
		mlperfRow("closed", "NVIDIA H100-SXM-80GB", "8", "1", "8", "gptj-99", "GPT-J-6B", "Offline", "VALID", "100", "", "", "", "", "") +
		mlperfRow("closed", "NVIDIA H100-SXM-80GB", "8", "1", "8", "mixtral-8x7b", "Mixtral-8x7B", "Offline", "VALID", "100", "14500", "", "", "", "") +
		mlperfRow("closed", "NVIDIA H100-NVL-94GB", "8", "1", "8", "llama2-70b-99", "Llama-2-70B", "Offline", "VALID", "82.0", "24000", "", "", "", "") +
		mlperfRow("closed", "NVIDIA H100-SXM-80GB", "1", "1", "1", "llama2-70b-99", "Llama-2-70B", "Offline", "VALID", "10", "2920", "", "", "", "") +
		mlperfRow("closed", "NVIDIA H100-SXM-80GB", "8", "1", "8", "llama2-70b-99", "Llama-2-70B", "SingleStream", "VALID", "1", "290", "", "", "", "")
	rows, rep, err := ImportMLPerf(strings.NewReader(in), "mlperf.csv")
	if err != nil {
		t.Fatalf("ImportMLPerf: %v", err)
	}
	checkReport(t, rep, rows, 12, map[string]int{
		"accuracy target 99.9 (the 99 run is kept)":           1,
		"division not closed: open":                           1,
		"result not VALID":                                    1,
		"precision not modelled: fp4 (blackwell submissions)": 1,
		reasonNoModel:                                         1,
		reasonMoE:                                             1,
		"gpu not in catalog: NVIDIA H100-NVL-94GB":            1,
		"replicas do not divide the system":                   1, // 1 × H100 cannot hold tp 2
		"scenario not imported: SingleStream":                 1,
	})
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want 3", len(rows))
	}
	// By hand: 24,000 tok/s over 4 replicas = 6,000; 24,000 / 82 = 292.7 → 293 tokens per sample.
	off := rows[0]
	if off.GPU != "h100" || off.TP != 2 || off.Mode != MaxThroughput || off.OutputTokensPerS != 6000 || off.OSL != 293 ||
		off.ISL != 0 || !math.IsNaN(off.RateRPS) || !math.IsNaN(off.TTFTms) || off.Precision != serving.FP8 || off.Framework != "TensorRT-LLM" {
		t.Errorf("offline row: got %+v", off)
	}
	if off.Source != "mlperf-v4.1:Sub/sys/llama2-70b-99/Offline" {
		t.Errorf("offline source: got %q", off.Source)
	}
	// 16 replicas: 46,720 / 16 = 2,920 tok/s, 160.5 / 16 = 10.03125 req/s; 46,720 / 160 = 292.
	srv := rows[1]
	if srv.GPU != "h200" || srv.TP != 1 || srv.Mode != Server || srv.OutputTokensPerS != 2920 || !near(srv.RateRPS, 10.03125, 1e-4) ||
		srv.TTFTms != 400.5 || srv.TPOTms != 120.25 || srv.E2Ems != 35000 || srv.OSL != 292 {
		t.Errorf("server row: got %+v", srv)
	}
	if rows[2].Mode != Server || rows[2].TPOTms != 30 {
		t.Errorf("interactive row: got %+v, want server mode with tpot 30", rows[2])
	}
}

func TestMLPerfTP(t *testing.T) {
	// By hand: weights ≤ half of tp × memory. Llama-2-70B fp8 = 68.98 GB,
	// Llama-3.1-405B fp8 = 405.85 GB, Llama-3.1-8B fp8 = 8.03 GB.
	tests := []struct {
		model, gpu string
		want       int
	}{
		{"llama-2-70b", "h100", 2},   // 40 < 68.98 <= 80
		{"llama-2-70b", "h200", 1},   // 68.98 <= 70.5
		{"llama-2-70b", "mi300x", 1}, // <= 96
		{"llama-2-70b", "l40s", 4},   // 24, 48 < 68.98 <= 96
		{"llama-3.1-8b", "l4", 1},    // 8.03 <= 12
		{"llama-3.1-405b", "h100", 0},
		{"llama-3.1-405b", "h200", 8}, // 282 < 405.85 <= 564
	}
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.gpu, func(t *testing.T) {
			m, _ := serving.LookupModel(tt.model)
			g, _ := serving.LookupGPU(tt.gpu)
			if got := MLPerfTP(m, g, serving.FP8); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestMLPerfFramework(t *testing.T) {
	tests := map[string]string{
		"TensorRT 10.2.0, CUDA 12.4":                          "TensorRT-LLM",
		"vLLM 0.4.3+rocm614, PyTorch 2.3.0, ROCm 6.1.2":       "vLLM",
		"Mango LLMBoost AI Enterprise Platform, vllm-0.9.0":   "vLLM",
		"Mango LLMBoost AI Enterprise Platform, ROCm 6.12.12": "Mango LLMBoost AI Enterprise Platform",
		"CUDA 12.2": "CUDA 12.2",
	}
	for in, want := range tests {
		if got := mlperfFramework(in); got != want {
			t.Errorf("mlperfFramework(%q): got %q, want %q", in, got, want)
		}
	}
}

const vidurHead = "gpu,model,num_tensor_parallel_workers,num_tokens,n_head,n_kv_head,n_embd,n_expanded_embd,vocab_size,use_gated_mlp,emb_median_ms,input_layernorm_median_ms,attn_pre_proj_median_ms,attn_rope_median_ms,attn_post_proj_median_ms,post_attention_layernorm_median_ms,mlp_up_proj_median_ms,mlp_act_median_ms,mlp_down_proj_median_ms,add_median_ms\n"

func TestImportVidurLinear(t *testing.T) {
	ops := ",0.5,0.01,0.02,0.03,0.004,0.05,0.006,0.07,0.008,0.009\n" // emb first: left out
	in := vidurHead +
		"h100,meta-llama/Llama-2-7b-hf,1,512,32,32,4096,11008,32000,True" + ops +
		"h100,meta-llama/Llama-2-7b-hf,1,512,32,32,4096,11008,32000,True,0.5,1,1,1,1,1,1,1,1,1\n" + // repeated
		"a100,meta-llama/Meta-Llama-3-70B,8,3072,64,8,8192,28672,128256,True" + ops +
		"a100,meta-llama/Llama-2-7b-hf,1,520,32,32,4096,11008,32000,True" + ops + // not in the subset
		"a40,meta-llama/Llama-2-7b-hf,1,512,32,32,4096,11008,32000,True" + ops +
		"h100,microsoft/phi-2,1,512,32,32,2560,10240,51200,False" + ops +
		"h100,meta-llama/Llama-2-7b-hf,2,512,32,32,4096,14336,32000,True" + ops + // wrong shape
		"h100,meta-llama/Llama-2-7b-hf,2,1,32,32,4096,11008,32000,True,0,0,0.01,0,0.01,0,0.01,0,0.01,0\n" // zeros are allowed
	rows, rep, err := ImportVidurLinear(strings.NewReader(in), "vidur.csv")
	if err != nil {
		t.Fatalf("ImportVidurLinear: %v", err)
	}
	checkReport(t, rep, rows, 8, map[string]int{
		"repeated profile": 1, "token count not in subset": 1, "gpu not in catalog: a40": 1,
		reasonNoModel: 1, "profiled shape differs from catalog": 1,
	})
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want 3", len(rows))
	}
	// By hand: 0.01+0.02+0.03+0.004+0.05+0.006+0.07+0.008+0.009 = 0.207 ms.
	if r := rows[0]; r.GPU != "h100" || r.Model != "llama-2-7b" || r.TP != 1 || r.Tokens != 512 || !near(r.StepMs, 0.207, 1e-9) || r.Mode != Linear {
		t.Errorf("row 0: got %+v", r)
	}
	if r := rows[1]; r.GPU != "a100-80gb" || r.Model != "llama-3.1-70b" || r.TP != 8 || r.Tokens != 3072 {
		t.Errorf("row 1: got %+v", r)
	}
	if r := rows[2]; !near(r.StepMs, 0.04, 1e-9) {
		t.Errorf("row 2: got step %g ms, want 0.04", r.StepMs)
	}
}

func TestReportString(t *testing.T) {
	rep := ImportReport{Dataset: "x", Read: 5, Written: 2, Skipped: map[string]int{"zeta": 1, "alpha": 2}}
	want := "x: read 5, wrote 2\n  skipped 2: alpha\n  skipped 1: zeta"
	if got := rep.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
