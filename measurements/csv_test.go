package measurements

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/serving"
)

const header = "dataset,gpu,model,tp,precision,framework,mode,batch,isl,osl,tokens,rate_rps,output_tokens_per_s,ttft_ms,tpot_ms,e2e_ms,step_ms,source\n"

// sameRow compares rows field by field, NaN equal to NaN.
func sameRow(a, b Row) bool {
	eq := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	return a.Dataset == b.Dataset && a.GPU == b.GPU && a.Model == b.Model && a.TP == b.TP &&
		a.Precision == b.Precision && a.Framework == b.Framework && a.Mode == b.Mode &&
		a.Batch == b.Batch && a.ISL == b.ISL && a.OSL == b.OSL && a.Tokens == b.Tokens &&
		eq(a.RateRPS, b.RateRPS) && eq(a.OutputTokensPerS, b.OutputTokensPerS) && eq(a.TTFTms, b.TTFTms) &&
		eq(a.TPOTms, b.TPOTms) && eq(a.E2Ems, b.E2Ems) && eq(a.StepMs, b.StepMs) && a.Source == b.Source
}

// sampleRows has one valid row per mode.
func sampleRows() []Row {
	static := EmptyRow()
	static.Dataset, static.GPU, static.Model, static.TP, static.Precision = "argonne", "h100", "llama-3.1-8b", 1, serving.BF16
	static.Framework, static.Mode, static.Batch, static.ISL, static.OSL = "vLLM", Static, 64, 1024, 1024
	static.E2Ems, static.OutputTokensPerS, static.Source = 18803.2, 3485.3, "argonne:7"

	mt := EmptyRow()
	mt.Dataset, mt.GPU, mt.Model, mt.TP, mt.Precision = "trtllm", "h200", "llama-3.1-70b", 2, serving.FP8
	mt.Framework, mt.Mode, mt.ISL, mt.OSL, mt.OutputTokensPerS, mt.Source = "TensorRT-LLM", MaxThroughput, 1000, 1000, 6000.5, "trtllm:3"

	srv := EmptyRow()
	srv.Dataset, srv.GPU, srv.Model, srv.TP, srv.Precision = "mlperf", "mi300x", "llama-2-70b", 1, serving.FP8
	srv.Framework, srv.Mode, srv.OSL, srv.RateRPS = "vLLM, ROCm", Server, 293, 8.6 // a comma: quoted
	srv.OutputTokensPerS, srv.TTFTms, srv.TPOTms, srv.E2Ems, srv.Source = 2520.27, 411.053, 156.938, 39200.445, "mlperf-v4.1:closed/AMD"

	lin := EmptyRow()
	lin.Dataset, lin.GPU, lin.Model, lin.TP, lin.Precision = "vidur-linear", "a100-80gb", "llama-2-7b", 4, serving.BF16
	lin.Mode, lin.Tokens, lin.StepMs, lin.Source = Linear, 512, 0.3745, "vidur:9"
	return []Row{static, mt, srv, lin}
}

func TestWriteCSVFormat(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, sampleRows()); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	// Written by hand from the format: empty cells for 0 counts and NaN,
	// shortest float form, quotes only where a cell has a comma.
	want := header +
		"argonne,h100,llama-3.1-8b,1,bf16,vLLM,static,64,1024,1024,,,3485.3,,,18803.2,,argonne:7\n" +
		"trtllm,h200,llama-3.1-70b,2,fp8,TensorRT-LLM,max-throughput,,1000,1000,,,6000.5,,,,,trtllm:3\n" +
		"mlperf,mi300x,llama-2-70b,1,fp8,\"vLLM, ROCm\",server,,,293,,8.6,2520.27,411.053,156.938,39200.445,,mlperf-v4.1:closed/AMD\n" +
		"vidur-linear,a100-80gb,llama-2-7b,4,bf16,,linear,,,,512,,,,,,0.3745,vidur:9\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	rows := sampleRows()
	var first bytes.Buffer
	if err := WriteCSV(&first, rows); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	got, err := ReadCSV(bytes.NewReader(first.Bytes()), "rt.csv")
	if err != nil {
		t.Fatalf("ReadCSV: %v", err)
	}
	if len(got) != len(rows) {
		t.Fatalf("got %d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		if !sameRow(got[i], rows[i]) {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], rows[i])
		}
	}
	var second bytes.Buffer
	if err := WriteCSV(&second, got); err != nil {
		t.Fatalf("WriteCSV again: %v", err)
	}
	if first.String() != second.String() {
		t.Errorf("write, read, write is not stable:\n%s\nvs\n%s", first.String(), second.String())
	}
	// Floats keep every bit through the text form.
	r := sampleRows()[0]
	r.E2Ems = 0.1 + 0.2
	var b bytes.Buffer
	if err := WriteCSV(&b, []Row{r}); err != nil {
		t.Fatal(err)
	}
	back, err := ReadCSV(&b, "bits.csv")
	if err != nil || back[0].E2Ems != 0.1+0.2 {
		t.Errorf("0.1+0.2: got %v (err %v), want the same float64", back, err)
	}
}

func TestReadCSVErrors(t *testing.T) {
	good := "argonne,h100,llama-3.1-8b,1,bf16,vLLM,static,64,1024,1024,,,3485.3,,,18803.2,,argonne:7\n"
	tests := []struct {
		name    string
		in      string
		wantErr []string // substrings, each must appear
	}{
		{"empty file", "", []string{"f.csv:1:", "empty file"}},
		{"wrong header", "dataset,gpu\n", []string{"f.csv:1:", "header must be"}},
		{"reordered header", strings.Replace(header, "isl,osl", "osl,isl", 1), []string{"f.csv:1:", "header must be"}},
		{"too few fields", header + "argonne,h100\n", []string{"f.csv:2:", "got 2 fields, want 18"}},
		{"alias gpu", header + strings.Replace(good, ",h100,", ",h100-sxm,", 1), []string{"f.csv:2: gpu:", "not a catalog gpu id"}},
		{"unknown model", header + strings.Replace(good, "llama-3.1-8b", "gpt-9", 1), []string{"f.csv:2: model:", "not a catalog model id"}},
		{"tp zero", header + strings.Replace(good, ",1,bf16", ",0,bf16", 1), []string{"f.csv:2: tp:", "positive integer"}},
		{"tp empty", header + strings.Replace(good, ",1,bf16", ",,bf16", 1), []string{"f.csv:2: tp: required"}},
		{"fp4", header + strings.Replace(good, "bf16", "fp4", 1), []string{"f.csv:2: precision:", "bf16 or fp8"}},
		{"upper-case precision", header + strings.Replace(good, "bf16", "BF16", 1), []string{"f.csv:2: precision:"}},
		{"bad mode", header + strings.Replace(good, "static", "offline", 1), []string{"f.csv:2: mode:", "must be one of"}},
		{"static without e2e", header + strings.Replace(good, "18803.2", "", 1), []string{"f.csv:2: e2e_ms: required in static mode"}},
		{"negative batch", header + strings.Replace(good, ",64,", ",-64,", 1), []string{"f.csv:2: batch:"}},
		{"not a number", header + strings.Replace(good, "3485.3", "fast", 1), []string{"f.csv:2: output_tokens_per_s:", `"fast"`}},
		{"infinite", header + strings.Replace(good, "3485.3", "+Inf", 1), []string{"f.csv:2: output_tokens_per_s:"}},
		{"nan text", header + strings.Replace(good, "3485.3", "NaN", 1), []string{"f.csv:2: output_tokens_per_s:"}},
		{"zero time", header + strings.Replace(good, "18803.2", "0", 1), []string{"f.csv:2: e2e_ms:"}},
		{"second line bad", header + good + strings.Replace(good, "vLLM,static", "vLLM,linear", 1), []string{"f.csv:3: tokens: required in linear mode", "f.csv:3: step_ms: required"}},
		{"bad quote", header + "argonne,\"h100,x\n", []string{"f.csv:"}},
		{"empty dataset", header + strings.Replace(good, "argonne,", ",", 1), []string{"f.csv:2: dataset: must not be empty"}},
		{"server without measurement", header + "mlperf,h100,llama-2-70b,2,fp8,,server,,,,,5,,,,,,x\n", []string{"f.csv:2: output_tokens_per_s: server mode needs one of"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ReadCSV(strings.NewReader(tt.in), "f.csv")
			if err == nil {
				t.Fatalf("got %d rows and no error, want an error", len(rows))
			}
			if rows != nil {
				t.Errorf("got %d rows with the error, want none", len(rows))
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q: want it to contain %q", err, w)
				}
			}
		})
	}
	// A FieldError names its parts.
	_, err := ReadCSV(strings.NewReader(header+strings.Replace(good, "bf16", "fp4", 1)), "f.csv")
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Line != 2 || fe.Column != "precision" || fe.File != "f.csv" {
		t.Errorf("got %#v, want a FieldError at f.csv line 2, column precision", fe)
	}
}

func TestWriteCSVRejectsInvalid(t *testing.T) {
	r := sampleRows()[0]
	r.GPU = "tpu"
	var buf bytes.Buffer
	err := WriteCSV(&buf, []Row{sampleRows()[1], r})
	if err == nil || !strings.Contains(err.Error(), "row 1") || !strings.Contains(err.Error(), "gpu:") {
		t.Errorf("got %v, want an error naming row 1 and the gpu column", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes, want nothing written", buf.Len())
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.csv")
	var buf bytes.Buffer
	if err := WriteCSV(&buf, sampleRows()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, err := Open(path)
	if err != nil || len(rows) != 4 {
		t.Fatalf("Open: got %d rows, %v; want 4 rows", len(rows), err)
	}
	if _, err := Open(filepath.Join(dir, "missing.csv")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing): got %v, want a not-exist error", err)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte(header+"x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(bad); err == nil || !strings.Contains(err.Error(), bad+":2:") {
		t.Errorf("Open(bad): got %v, want an error naming %s:2", err, bad)
	}
}

// FuzzReadCSV asserts only that ReadCSV never panics, and that what it
// accepts is valid and survives a write and a second read unchanged.
func FuzzReadCSV(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, sampleRows()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.String())
	f.Add(header)
	f.Add("")
	f.Add(header + "a,h100,llama-2-7b,1,bf16,,linear,,,,1,,,,,,1e-3,\n")
	f.Add(header + "\"unterminated\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := ReadCSV(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			return
		}
		for _, r := range rows {
			if verr := r.Validate(); verr != nil {
				t.Fatalf("accepted an invalid row %+v: %v", r, verr)
			}
		}
		var out bytes.Buffer
		if err := WriteCSV(&out, rows); err != nil {
			t.Fatalf("WriteCSV of accepted rows: %v", err)
		}
		back, err := ReadCSV(&out, "again.csv")
		if err != nil {
			t.Fatalf("re-read: %v", err)
		}
		if len(back) != len(rows) {
			t.Fatalf("re-read: got %d rows, want %d", len(back), len(rows))
		}
		for i := range rows {
			if !sameRow(back[i], rows[i]) {
				t.Fatalf("row %d changed: %+v -> %+v", i, rows[i], back[i])
			}
		}
	})
}

func TestHeader(t *testing.T) {
	h := Header()
	if got := strings.Join(h, ",") + "\n"; got != header {
		t.Errorf("Header: got %q, want %q", got, header)
	}
	h[0] = "mutated"
	if Header()[0] != "dataset" {
		t.Errorf("Header returns the package's slice")
	}
	if got := len(Modes()); got != 4 {
		t.Errorf("Modes: got %d, want 4", got)
	}
}
