package serving

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// readCSV reads a testdata CSV into maps keyed by header name.
func readCSV(t *testing.T, name string) []map[string]string {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatalf("open testdata: %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	if len(recs) < 2 {
		t.Fatalf("%s: got %d records, want a header and rows", name, len(recs))
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		row := make(map[string]string, len(r))
		for i, h := range recs[0] {
			row[h] = r[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// num parses a CSV number; blank is NaN.
func num(t *testing.T, s string) float64 {
	t.Helper()
	if strings.TrimSpace(s) == "" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}

func TestCatalogIDsUniqueAndResolve(t *testing.T) {
	seen := map[string]string{}
	for _, g := range GPUs() {
		for _, name := range append([]string{g.ID}, g.Aliases...) {
			if other, dup := seen[strings.ToLower(name)]; dup {
				t.Errorf("gpu name %q used by %s and %s", name, other, g.ID)
			}
			seen[strings.ToLower(name)] = g.ID
			for _, variant := range []string{name, strings.ToUpper(name), " " + name + " "} {
				got, ok := LookupGPU(variant)
				if !ok || got.ID != g.ID {
					t.Errorf("LookupGPU(%q): got %q, %v; want %q, true", variant, got.ID, ok, g.ID)
				}
			}
		}
		if g.ID != strings.ToLower(g.ID) {
			t.Errorf("gpu id %q: want lower case", g.ID)
		}
		if g.Source == "" || g.Name == "" {
			t.Errorf("gpu %s: name and source must be set", g.ID)
		}
	}
	seen = map[string]string{}
	for _, m := range Models() {
		for _, name := range append([]string{m.ID}, m.Aliases...) {
			if other, dup := seen[name]; dup {
				t.Errorf("model name %q used by %s and %s", name, other, m.ID)
			}
			seen[name] = m.ID
			for _, variant := range []string{name, strings.ToUpper(name)} {
				got, ok := LookupModel(variant)
				if !ok || got.ID != m.ID {
					t.Errorf("LookupModel(%q): got %q, %v; want %q, true", variant, got.ID, ok, m.ID)
				}
			}
		}
		if m.ID != strings.ToLower(m.ID) {
			t.Errorf("model id %q: want lower case", m.ID)
		}
		if m.Source == "" || m.Name == "" {
			t.Errorf("model %s: name and source must be set", m.ID)
		}
	}
}

func TestCatalogRequiredEntries(t *testing.T) {
	// The ids the scenario format documents, and the aliases the brief asks for.
	gpus := map[string]string{
		"a100-80gb": "a100-80gb", "a100": "a100-80gb", "h100": "h100", "h100-sxm": "h100",
		"h200": "h200", "l4": "l4", "l40s": "l40s", "b200": "b200", "gb200": "gb200",
		"mi300x": "mi300x", "mi325x": "mi325x", "h100-pcie": "h100-pcie", "a100-40gb": "a100-40gb",
	}
	for in, want := range gpus {
		if got, ok := LookupGPU(in); !ok || got.ID != want {
			t.Errorf("LookupGPU(%q): got %q, %v; want %q", in, got.ID, ok, want)
		}
	}
	models := map[string]string{
		"llama-3.1-8b": "llama-3.1-8b", "llama-3-8b": "llama-3.1-8b",
		"llama-3.1-70b": "llama-3.1-70b", "llama-3.3-70b": "llama-3.1-70b", "llama-3-70b": "llama-3.1-70b",
		"llama-3.1-405b": "llama-3.1-405b", "llama-2-7b": "llama-2-7b", "llama-2-70b": "llama-2-70b",
		"llama-3.2-3b": "llama-3.2-3b", "llama-3.2-1b": "llama-3.2-1b",
		// Names as the measured data spells them.
		"meta-llama/Meta-Llama-3-8B":         "llama-3.1-8b",
		"meta-llama/Llama-2-70b-hf":          "llama-2-70b",
		"meta-llama/Llama-2-70b-chat-hf":     "llama-2-70b",
		"Llama-3.3-70B-Instruct":             "llama-3.1-70b",
		"meta-llama/Llama-3.1-405B-Instruct": "llama-3.1-405b",
		"mistralai/Mistral-7B-v0.1":          "mistral-7b",
		"Qwen/Qwen2-7B":                      "qwen2-7b",
		"Qwen/Qwen2-72B":                     "qwen2-72b",
		"Qwen/Qwen2-7B-Instruct":             "qwen2-7b",
	}
	for in, want := range models {
		if got, ok := LookupModel(in); !ok || got.ID != want {
			t.Errorf("LookupModel(%q): got %q, %v; want %q", in, got.ID, ok, want)
		}
	}
	for _, in := range []string{"", "h1000", "tpu-v5"} {
		if got, ok := LookupGPU(in); ok {
			t.Errorf("LookupGPU(%q): got %q, true; want not found", in, got.ID)
		}
	}
	// MoE models are not in the catalog: the serving model is dense-only.
	for _, in := range []string{"", "llama-4-scout", "mixtral-8x7b", "mistralai/Mixtral-8x7B-v0.1", "qwen3-30b-a3b", "llama"} {
		if got, ok := LookupModel(in); ok {
			t.Errorf("LookupModel(%q): got %q, true; want not found", in, got.ID)
		}
	}
}

func TestCatalogReturnsCopies(t *testing.T) {
	ms := Models()
	ms[1].Aliases[0] = "mutated"
	ms[1].Layers = -1
	if m, _ := LookupModel("llama-3.1-70b"); m.Aliases[0] == "mutated" || m.Layers != 80 {
		t.Errorf("mutating Models() changed the catalog: got aliases %v, layers %d", m.Aliases, m.Layers)
	}
	g, _ := LookupGPU("h100")
	g.Aliases[0] = "mutated"
	if g2, _ := LookupGPU("h100"); g2.Aliases[0] == "mutated" {
		t.Errorf("mutating a LookupGPU result changed the catalog")
	}
}

// TestGPUCatalogMatchesSpecs checks every catalog number against the
// source row it cites (testdata/gpu_specs_targets.csv, copied from Epoch AI
// via the shared data). Where the catalog departs from the row on purpose,
// the departure is listed here with its reason, and the test checks that
// the row still says what the reason claims.
func TestGPUCatalogMatchesSpecs(t *testing.T) {
	rows := map[string]map[string]string{}
	for _, r := range readCSV(t, "gpu_specs_targets.csv") {
		rows[r["gpu"]] = r
	}
	rowOf := map[string]string{
		"a100-80gb": "A100-SXM4-80GB", "h100": "H100-SXM5-80GB", "h100-pcie": "H100-PCIe-80GB",
		"h200": "H200-SXM-141GB", "b200": "B200", "gb200": "GB200 (per GPU)", "l4": "L4",
		"l40s": "L40S", "mi300x": "MI300X", "mi325x": "MI325X",
	}
	type deviation struct {
		field  string
		csvVal float64
		reason string
	}
	deviations := map[string]deviation{
		"l40s":      {"tdp_w", 300, "NVIDIA L40S datasheet lists 350 W max power"},
		"h100-pcie": {"intranode_bw_gb_s", 600, "NVLink bridge joins card pairs only; catalog assumes PCIe"},
	}
	checked := 0
	for _, g := range GPUs() {
		if g.ID == "a100-40gb" {
			continue // TestA100_40GBMatchesEpoch
		}
		name, ok := rowOf[g.ID]
		if !ok {
			t.Errorf("gpu %s: no source row in gpu_specs_targets.csv", g.ID)
			continue
		}
		r, ok := rows[name]
		if !ok {
			t.Fatalf("gpu %s: row %q missing from testdata", g.ID, name)
		}
		t.Run(g.ID, func(t *testing.T) {
			dev, hasDev := deviations[g.ID]
			cmp := func(field string, got, want float64) {
				t.Helper()
				if hasDev && dev.field == field {
					if want != dev.csvVal {
						t.Errorf("%s: csv has %g, deviation note says %g (%s)", field, want, dev.csvVal, dev.reason)
					}
					return
				}
				if math.IsNaN(want) {
					return // blank in the source: filled from a datasheet, see Source
				}
				if got != want {
					t.Errorf("%s: got %g, want %g from row %q", field, got, want, name)
				}
			}
			cmp("memory_gb", g.MemoryGB, num(t, r["memory_gb"]))
			cmp("mem_bw_tb_s", g.MemBandwidthTBs, num(t, r["mem_bw_tb_s"]))
			cmp("bf16_fp16_tensor_dense_tflops", g.BF16TFLOPs, num(t, r["bf16_fp16_tensor_dense_tflops"]))
			cmp("fp8_tflops", g.FP8TFLOPs, num(t, r["fp8_tflops"]))
			cmp("tdp_w", g.TDPWatts, num(t, r["tdp_w"]))
			// Epoch's intranode figure is bidirectional; the catalog keeps one direction.
			cmp("intranode_bw_gb_s", 2*g.InterconnectGBs, num(t, r["intranode_bw_gb_s"]))
			if math.IsNaN(num(t, r["fp8_tflops"])) && g.FP8TFLOPs > 0 && !strings.Contains(g.Source, "FP8") {
				t.Errorf("fp8 %g is not in the source row; Source must say where it comes from, got %q", g.FP8TFLOPs, g.Source)
			}
			// Dense FP8 is twice dense BF16 on every GPU with FP8 (H100, H200, L4,
			// L40S, MI300X, B200 datasheets); a typo would break the ratio.
			if g.FP8TFLOPs > 0 {
				if ratio := g.FP8TFLOPs / g.BF16TFLOPs; ratio < 1.95 || ratio > 2.05 {
					t.Errorf("fp8/bf16: got %.3f, want about 2", ratio)
				}
			}
		})
		checked++
	}
	if checked != len(rowOf) {
		t.Errorf("checked %d gpus, want %d", checked, len(rowOf))
	}
}

func TestA100_40GBMatchesEpoch(t *testing.T) {
	rows := readCSV(t, "epoch_a100_40gb.csv")
	r := rows[0]
	g, _ := LookupGPU("a100-40gb")
	tests := []struct {
		field string
		got   float64
		want  float64
	}{
		{"memory", g.MemoryGB * 1e9, num(t, r["Memory size per board (Byte)"])},
		{"bandwidth", g.MemBandwidthTBs * 1e12, num(t, r["Memory bandwidth (byte/s)"])},
		{"bf16", g.BF16TFLOPs * 1e12, num(t, r["Tensor-FP16/BF16 performance (FLOP/s)"])},
		{"tdp", g.TDPWatts, num(t, r["TDP (W)"])},
		{"intranode (bidirectional)", 2 * g.InterconnectGBs * 1e9, num(t, r["Intranode bandwidth (byte/s)"])},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			if math.Abs(tt.got-tt.want) > 1e-9*tt.want {
				t.Errorf("got %g, want %g", tt.got, tt.want)
			}
		})
	}
}

// TestModelShapes checks the catalog against the shapes the brief lists from
// the publishers' config.json files, and checks ParamsB against the
// parameter count the shape implies.
func TestModelShapes(t *testing.T) {
	tests := []struct {
		id                                  string
		layers, hidden, heads, kvHeads, ctx int
		headDim, intermediate, vocab        int
	}{
		{"llama-3.1-8b", 32, 4096, 32, 8, 131072, 128, 14336, 128256},
		{"llama-3.1-70b", 80, 8192, 64, 8, 131072, 128, 28672, 128256},
		{"llama-3.1-405b", 126, 16384, 128, 8, 131072, 128, 53248, 128256},
		{"llama-2-7b", 32, 4096, 32, 32, 4096, 128, 11008, 32000},
		{"llama-2-70b", 80, 8192, 64, 8, 4096, 128, 28672, 32000},
		{"llama-3.2-3b", 28, 3072, 24, 8, 131072, 128, 8192, 128256},
		{"llama-3.2-1b", 16, 2048, 32, 8, 131072, 64, 8192, 128256},
		// Mistral: huggingface.co/mistralai/Mistral-7B-v0.1 config.json.
		{"mistral-7b", 32, 4096, 32, 8, 32768, 128, 14336, 32000},
		// Qwen2: huggingface.co/Qwen/Qwen2-7B and Qwen2-72B config.json.
		{"qwen2-7b", 28, 3584, 28, 4, 131072, 128, 18944, 152064},
		{"qwen2-72b", 80, 8192, 64, 8, 131072, 128, 29568, 152064},
	}
	// Models whose attention has Q/K/V biases (Qwen2's modeling code:
	// q_proj, k_proj and v_proj have bias=True).
	qkvBias := map[string]bool{"qwen2-7b": true, "qwen2-72b": true}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			m, ok := LookupModel(tt.id)
			if !ok {
				t.Fatalf("LookupModel(%q): not found", tt.id)
			}
			got := []int{m.Layers, m.Hidden, m.Heads, m.KVHeads, m.MaxContext, m.HeadDim, m.Intermediate, m.Vocab}
			want := []int{tt.layers, tt.hidden, tt.heads, tt.kvHeads, tt.ctx, tt.headDim, tt.intermediate, tt.vocab}
			names := []string{"layers", "hidden", "heads", "kvHeads", "maxContext", "headDim", "intermediate", "vocab"}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("%s: got %d, want %d", names[i], got[i], want[i])
				}
			}
			// Llama block: Q and O (hidden × heads·headDim each), K and V
			// (hidden × kvHeads·headDim each), gated MLP (3 × hidden ×
			// intermediate), 2 RMSNorm vectors; plus embeddings, the output
			// head unless tied, and the final norm.
			h := float64(m.Hidden)
			block := 2*h*float64(m.Heads*m.HeadDim) + 2*h*float64(m.KVHeads*m.HeadDim) + 3*h*float64(m.Intermediate) + 2*h
			if qkvBias[m.ID] {
				// Qwen2 adds a bias to each of the Q, K and V projections.
				block += float64(m.Heads*m.HeadDim + 2*m.KVHeads*m.HeadDim)
			}
			emb := float64(m.Vocab) * h
			if !m.TiedEmbeddings {
				emb *= 2
			}
			params := (float64(m.Layers)*block + emb + h) / 1e9
			if rel := math.Abs(m.ParamsB-params) / params; rel > 0.005 {
				t.Errorf("ParamsB: got %g, shape gives %.3f (off by %.2f%%)", m.ParamsB, params, 100*rel)
			}
		})
	}
}

func TestKVAndWeightBytes(t *testing.T) {
	tests := []struct {
		id  string
		p   Precision
		kv  float64 // by hand: 2 × layers × kvHeads × headDim × bytes
		wGB float64
	}{
		{"llama-3.1-70b", BF16, 2 * 80 * 8 * 128 * 2, 141.1},   // 327,680 B
		{"llama-3.1-70b", FP8, 2 * 80 * 8 * 128 * 1, 70.55},    // 163,840 B
		{"llama-3.1-8b", BF16, 2 * 32 * 8 * 128 * 2, 16.06},    // 131,072 B
		{"llama-2-7b", BF16, 2 * 32 * 32 * 128 * 2, 13.48},     // 524,288 B: no GQA
		{"llama-3.1-405b", FP8, 2 * 126 * 8 * 128 * 1, 405.85}, // 258,048 B
		{"llama-3.2-1b", BF16, 2 * 16 * 8 * 64 * 2, 2.48},      // 32,768 B
	}
	for _, tt := range tests {
		t.Run(tt.id+"/"+string(tt.p), func(t *testing.T) {
			m, _ := LookupModel(tt.id)
			if got := m.KVBytesPerToken(tt.p); got != tt.kv {
				t.Errorf("KVBytesPerToken: got %g, want %g", got, tt.kv)
			}
			if got := m.WeightBytes(tt.p) / 1e9; math.Abs(got-tt.wGB) > 1e-9 {
				t.Errorf("WeightBytes: got %g GB, want %g GB", got, tt.wGB)
			}
		})
	}
	if got := func() float64 { m, _ := LookupModel("llama-3.1-70b"); return m.KVBytesPerToken(BF16) }(); got != 327680 {
		t.Errorf("llama-3.1-70b bf16 KV bytes/token: got %g, want 327680", got)
	}
}

func TestPrecision(t *testing.T) {
	tests := []struct {
		in      string
		want    Precision
		bytes   float64
		wantErr bool
	}{
		{"bf16", BF16, 2, false},
		{"BF16", BF16, 2, false},
		{"", BF16, 2, false},
		{"fp8", FP8, 1, false},
		{" FP8 ", FP8, 1, false},
		{"fp16", "", 0, true},
		{"int4", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePrecision(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParsePrecision(%q): got error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if got != tt.want || got.Bytes() != tt.bytes {
				t.Errorf("ParsePrecision(%q): got %q (%g bytes), want %q (%g bytes)", tt.in, got, got.Bytes(), tt.want, tt.bytes)
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Precision(\"int4\").Bytes(): got no panic, want a panic")
		}
	}()
	Precision("int4").Bytes()
}
