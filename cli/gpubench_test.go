package cli

import (
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleetsim/measurements"
)

// benchServer is a fake OpenAI-compatible streaming server: tokens
// content chunks, the first after ttft and then one per gap, then usage
// and [DONE]; or status when it is not 200.
func benchServer(t *testing.T, status, tokens int, ttft, gap time.Duration) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/completions" && r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		if status != http.StatusOK {
			http.Error(w, "scripted failure", status)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		start := time.Now()
		for k := range tokens {
			time.Sleep(time.Until(start.Add(ttft + time.Duration(k)*gap)))
			fmt.Fprint(w, "data: {\"choices\":[{\"text\":\" x\",\"delta\":{\"content\":\" x\"}}]}\n\n")
			fl.Flush()
		}
		fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":{\"completion_tokens\":%d}}\n\ndata: [DONE]\n\n", tokens)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestBenchWritesCalibratableRows runs gpu bench against the fake server
// and checks the table, the measurement CSV (read back strictly, then
// fitted by fleetsim calibrate) and the per-request CSV.
func TestBenchWritesCalibratableRows(t *testing.T) {
	// 16 tokens, 10 ms to the first and 2 ms apart: E2E ≈ 40 ms.
	url := benchServer(t, http.StatusOK, 16, 10*time.Millisecond, 2*time.Millisecond)
	dir := t.TempDir()
	out, reqs := filepath.Join(dir, "m.csv"), filepath.Join(dir, "r.csv")
	tests := []struct {
		name   string
		load   []string
		points []string
	}{
		{"concurrency", []string{"--concurrency", "1,2"}, []string{"concurrency=1", "concurrency=2"}},
		{"rate", []string{"--rate", "20", "--api", "chat"}, []string{"rate=20"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"gpu", "bench", "--url", url, "--gpu", "h100-sxm", "--model", "llama-3.1-8b",
				"--isl", "64", "--osl", "16", "--requests", "4", "--out", out, "--requests-out", reqs}, tt.load...)
			r := run(t, args...)
			if r.err != nil {
				t.Fatalf("gpu bench: %v\n%s", r.err, r.stderr)
			}
			for _, p := range tt.points {
				if !strings.Contains(r.stdout, p) {
					t.Errorf("table lacks point %s:\n%s", p, r.stdout)
				}
			}
			rows, err := measurements.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(tt.points) {
				t.Fatalf("got %d measurement rows, want %d", len(rows), len(tt.points))
			}
			// The per-request CSV: 4 requests per point, and each row's
			// medians are the medians of its requests' columns (printed
			// with 3 decimals): the row summarises those requests.
			f, err := os.Open(reqs)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(f).ReadAll()
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(recs), 1+4*len(tt.points); got != want {
				t.Fatalf("got %d lines of requests CSV, want %d", got, want)
			}
			col := map[string]int{}
			for i, h := range recs[0] {
				col[h] = i
			}
			for i, row := range rows {
				if row.Mode != measurements.Server || row.GPU != "h100" || row.Model != "llama-3.1-8b" || row.ISL != 64 || row.OSL != 16 || row.Framework != "vLLM" {
					t.Errorf("got row %+v, want server mode, h100, llama-3.1-8b, isl 64, osl 16, vLLM", row)
				}
				// The server waits 10 ms before the first token.
				if row.TTFTms < 10 || !(row.TPOTms > 0) || row.E2Ems < row.TTFTms {
					t.Errorf("got ttft %.2f ms, tpot %.2f ms, e2e %.2f ms, want ttft >= 10, tpot > 0, e2e >= ttft", row.TTFTms, row.TPOTms, row.E2Ems)
				}
				for _, c := range []struct {
					name string
					got  float64
				}{{"ttft_ms", row.TTFTms}, {"tpot_ms", row.TPOTms}, {"e2e_ms", row.E2Ems}} {
					var v []float64
					for _, rec := range recs[1:] {
						if rec[col["point"]] == tt.points[i] {
							x, err := strconv.ParseFloat(rec[col[c.name]], 64)
							if err != nil {
								t.Fatal(err)
							}
							v = append(v, x)
						}
					}
					sort.Float64s(v)
					if len(v) != 4 {
						t.Fatalf("point %s: got %d requests, want 4", tt.points[i], len(v))
					}
					if want := (v[1] + v[2]) / 2; math.Abs(c.got-want) > 0.001 {
						t.Errorf("point %s: got %s %.4f, want the requests' median %.4f", tt.points[i], c.name, c.got, want)
					}
				}
			}
			c := run(t, "calibrate", out)
			if c.err != nil {
				t.Fatalf("calibrate %s: %v\n%s", out, c.err, c.stderr)
			}
			// Each row gives calibrate two points (TTFT and TPOT) of the vllm
			// profile on h100; none may be skipped.
			fitted := false
			for _, line := range strings.Split(c.stdout, "\n") {
				cells := strings.Split(line, "│")
				if len(cells) < 5 || strings.TrimSpace(cells[1]) != "vllm" {
					continue
				}
				fitted = true
				if got, want := strings.TrimSpace(cells[4]), fmt.Sprint(2*len(tt.points)); strings.TrimSpace(cells[2]) != "h100" || got != want {
					t.Errorf("calibrate row %q: got %s fit points, want %s on h100", line, got, want)
				}
			}
			if !fitted {
				t.Errorf("calibrate fitted no vllm profile:\n%s", c.stdout)
			}
		})
	}
}

func TestBenchExitCodes(t *testing.T) {
	ok := benchServer(t, http.StatusOK, 2, 0, 0)
	failing := benchServer(t, http.StatusInternalServerError, 0, 0, 0)
	base := func(url string) []string {
		return []string{"gpu", "bench", "--url", url, "--gpu", "h100", "--model", "llama-3.1-8b", "--isl", "4", "--osl", "2", "--requests", "3"}
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"ok", append(base(ok), "--concurrency", "1"), ExitOK, ""},
		{"all fail", append(base(failing), "--concurrency", "1,2"), ExitFailure, "all 6 requests failed: http-status=6"},
		{"no load", base(ok), ExitInvalid, "give one of --concurrency and --rate"},
		{"both loads", append(base(ok), "--concurrency", "1", "--rate", "2"), ExitInvalid, "give one of --concurrency and --rate"},
		{"requests and duration", append(base(ok), "--concurrency", "1", "--duration", "1s"), ExitInvalid, "give one of --requests and --duration"},
		{"unknown gpu", []string{"gpu", "bench", "--url", ok, "--gpu", "h900", "--model", "llama-3.1-8b", "--concurrency", "1"}, ExitInvalid, `--gpu "h900" is not in the GPU catalog`},
		{"unknown model", []string{"gpu", "bench", "--url", ok, "--gpu", "h100", "--model", "gpt-5", "--concurrency", "1"}, ExitInvalid, `--model "gpt-5" is not in the model catalog`},
		{"no url", []string{"gpu", "bench", "--gpu", "h100", "--model", "llama-3.1-8b", "--concurrency", "1"}, ExitInvalid, "needs --url"},
		{"bad url", append(base("localhost:1"), "--concurrency", "1"), ExitInvalid, "url: must start with http://"},
		{"precision", append(base(ok), "--concurrency", "1", "--precision", "fp4"), ExitInvalid, "--precision must be bf16 or fp8"},
		{"zero concurrency", append(base(ok), "--concurrency", "0"), ExitInvalid, "--concurrency values must be >= 1"},
		{"negative rate", append(base(ok), "--rate", "-1"), ExitInvalid, "--rate values must be finite and > 0"},
		{"isl", append(base(ok), "--concurrency", "1", "--isl", "0"), ExitInvalid, "--isl and --osl must be >= 1"},
		{"api", append(base(ok), "--concurrency", "1", "--api", "embeddings"), ExitInvalid, "--api must be completions or chat"},
		{"not a number", append(base(ok), "--concurrency", "x"), ExitInvalid, "invalid argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.args...)
			if got := ExitCode(r.err); got != tt.code {
				t.Fatalf("got exit %d (%v), want %d", got, r.err, tt.code)
			}
			if tt.msg != "" && !strings.Contains(r.stderr, tt.msg) {
				t.Errorf("got stderr %q, want it to contain %q", r.stderr, tt.msg)
			}
		})
	}
}
