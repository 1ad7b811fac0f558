//go:build cgo

package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/gpus"

	"github.com/fleetsim/fleetsim/gpu"
	"github.com/fleetsim/fleetsim/gpu/gputest"
)

// TestBenchSamplesLocalGPUs: with a server on this machine, gpu bench
// samples NVML during each load point. The mock machine's 8 GPUs draw a
// constant 100 W each, so every point's mean and peak power are 800 W; the
// NVML series is written with --nvml-out. With --nvml off nothing is
// sampled, and --nvml on fails plainly where NVML is missing.
func TestBenchSamplesLocalGPUs(t *testing.T) {
	m := gputest.NewMachine(gpus.H100_SXM5_80GB, 8)
	for _, g := range m.GPUs {
		g.PowerMW = 100_000
	}
	withMock(t, m)
	url := benchServer(t, http.StatusOK, 8, 30*time.Millisecond, 5*time.Millisecond)
	series := filepath.Join(t.TempDir(), "nvml.csv")
	r := run(t, "gpu", "bench", "--url", url, "--gpu", "h100", "--model", "llama-3.1-8b", "--isl", "16", "--osl", "8",
		"--concurrency", "1,2", "--requests", "4", "--nvml-interval", "10ms", "--nvml-out", series)
	if r.err != nil {
		t.Fatalf("bench: %v\n%s", r.err, r.stderr)
	}
	lines := 0
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, "concurrency=") && strings.Contains(l, "800.0") {
			lines++
			if f := strings.Fields(strings.ReplaceAll(l, "│", " ")); len(f) < 4 || f[1] != "8" || f[2] != "800.0" || f[3] != "800.0" {
				t.Errorf("power row %q: want 8 GPUs, mean and peak 800.0 W", l)
			}
		}
	}
	if lines != 2 {
		t.Errorf("got %d power rows at 800 W, want one per point (2):\n%s", lines, r.stdout)
	}
	data, err := os.ReadFile(series)
	if err != nil || !strings.HasPrefix(string(data), strings.Join(gpu.CSVHeader, ",")) {
		t.Errorf("--nvml-out: %v, starts %q", err, firstLine2(string(data)))
	}

	off := run(t, "gpu", "bench", "--url", url, "--gpu", "h100", "--model", "llama-3.1-8b", "--isl", "16", "--osl", "8",
		"--concurrency", "1", "--requests", "2", "--nvml", "off")
	if off.err != nil || strings.Contains(off.stdout, "mean power") {
		t.Errorf("--nvml off: err %v, power table printed: %v", off.err, strings.Contains(off.stdout, "mean power"))
	}
}

func firstLine2(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
