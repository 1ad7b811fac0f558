//go:build cgo

package cli

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/gpus"

	"github.com/fleetsim/fleetsim/gpu"
	"github.com/fleetsim/fleetsim/gpu/gputest"
)

// withMock makes the gpu commands use m for the rest of the test.
func withMock(t *testing.T, m *gputest.Machine) {
	t.Helper()
	prev := openNVML
	openNVML = func() nvml.Interface { return m.Lib }
	t.Cleanup(func() { openNVML = prev })
}

// exitCode is the code fleetsim exits with for err: a command's own code
// when err carries one, else ExitCode.
func exitCode(err error) int {
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return ExitCode(err)
}

func TestGPUSampleExitCode(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"true", []string{"true"}, 0},
		{"exit 3", []string{"sh", "-c", "exit 3"}, 3},
		{"exit 1", []string{"sh", "-c", "exit 1"}, 1},
		{"flags after the command are its own", []string{"sh", "-c", "exit 5", "--interval", "x"}, 5},
		{"cannot start", []string{filepath.Join(t.TempDir(), "no-such-command")}, ExitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withMock(t, gputest.NewMachine(gpus.H100_SXM5_80GB, 2))
			r := run(t, append([]string{"gpu", "sample", "--interval", "10ms", "--"}, tt.args...)...)
			if got := exitCode(r.err); got != tt.want {
				t.Errorf("exit code: got %d (%v), want %d\n%s", got, r.err, tt.want, r.stderr)
			}
			if tt.name != "cannot start" {
				// The summary table names every GPU.
				if !strings.Contains(r.stderr, "NVIDIA H100 80GB HBM3") || !strings.Contains(r.stderr, "energy J") {
					t.Errorf("no summary on stderr:\n%s", r.stderr)
				}
			}
		})
	}
}

func TestGPUSampleOut(t *testing.T) {
	dir := t.TempDir()
	m := gputest.NewMachine(gpus.H200_SXM5_141GB, 2)
	withMock(t, m)
	csvPath, jsonPath := filepath.Join(dir, "s.csv"), filepath.Join(dir, "s.json")
	// The command prints on stdout, which passes through.
	r := run(t, "gpu", "sample", "--interval", "20ms", "--out", csvPath, "--", "sh", "-c", "echo hello; sleep 0.1")
	if r.err != nil {
		t.Fatalf("gpu sample: %v\n%s", r.err, r.stderr)
	}
	if r.stdout != "hello\n" {
		t.Errorf("stdout: got %q, want the command's %q", r.stdout, "hello\n")
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(rows[0], ","), strings.Join(gpu.CSVHeader, ","); got != want {
		t.Errorf("header: got %s, want %s", got, want)
	}
	// At least a sample at start and one at exit per GPU; the mock power
	// is 100000 mW, written as 100.000 W.
	perGPU := map[string]int{}
	for _, row := range rows[1:] {
		perGPU[row[0]]++
		if row[3] != "100.000" {
			t.Errorf("power cell: got %q, want 100.000", row[3])
		}
	}
	if perGPU["0"] < 2 || perGPU["1"] < 2 || len(perGPU) != 2 {
		t.Errorf("samples per GPU: got %v, want >= 2 for GPUs 0 and 1", perGPU)
	}

	r = run(t, "gpu", "sample", "--out", jsonPath, "--", "true")
	if r.err != nil {
		t.Fatalf("gpu sample: %v\n%s", r.err, r.stderr)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep gpu.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.GPUs) != 2 || len(rep.Summary) != 2 || rep.IntervalS != 0.1 {
		t.Errorf("json: got %d series, %d summaries, interval %v, want 2, 2, 0.1", len(rep.GPUs), len(rep.Summary), rep.IntervalS)
	}
}

func TestGPUInvalidFlags(t *testing.T) {
	withMock(t, gputest.NewMachine(gpus.H100_SXM5_80GB, 1))
	tests := [][]string{
		{"gpu", "sample", "--interval", "0s", "--", "true"},
		{"gpu", "sample", "--interval", "soon", "--", "true"},
		{"gpu", "sample", "--out", "x.txt", "--", "true"},
		{"gpu", "sample"},
		{"gpu", "inventory", "--output", "yaml"},
		{"gpu", "inventory", "extra"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := run(t, args...)
			if got := ExitCode(r.err); got != ExitInvalid {
				t.Errorf("exit code: got %d (%v), want %d", got, r.err, ExitInvalid)
			}
			if !strings.Contains(r.stderr, "usage:") {
				t.Errorf("no usage line on stderr:\n%s", r.stderr)
			}
		})
	}
}

func TestGPUInventory(t *testing.T) {
	m := gputest.NewMachine(gpus.H100_SXM5_80GB, 8)
	m.GPUs[7].Device.GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
	withMock(t, m)
	r := run(t, "gpu", "inventory", "--output", "json")
	if r.err != nil {
		t.Fatalf("gpu inventory: %v\n%s", r.err, r.stderr)
	}
	var out struct{ GPUs []gpu.Device }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.GPUs) != 8 || out.GPUs[0].Catalog != "h100" {
		t.Fatalf("json: got %d GPUs, first %+v, want 8 h100", len(out.GPUs), out.GPUs[0])
	}
	if !strings.Contains(r.stdout, `"powerLimitW": null`) {
		t.Errorf("unsupported power limit not null in JSON")
	}
	r = run(t, "gpu", "inventory")
	if r.err != nil {
		t.Fatalf("gpu inventory: %v\n%s", r.err, r.stderr)
	}
	// 8 GPU rows, each naming the catalog id; GPU 7 lists its missing field.
	if got := strings.Count(r.stdout, "NVIDIA H100 80GB HBM3"); got != 8 {
		t.Errorf("table rows: got %d, want 8\n%s", got, r.stdout)
	}
	if !strings.Contains(r.stdout, "powerLimitW") {
		t.Errorf("table does not list the missing power limit\n%s", r.stdout)
	}
}

func TestGPUNoNVML(t *testing.T) {
	m := gputest.NewMachine(gpus.H100_SXM5_80GB, 1)
	m.Lib.InitFunc = func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }
	withMock(t, m)
	for _, args := range [][]string{{"gpu", "inventory"}, {"gpu", "sample", "--", "true"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := run(t, args...)
			if got := exitCode(r.err); got != ExitFailure {
				t.Errorf("exit code: got %d, want %d", got, ExitFailure)
			}
			if !strings.Contains(r.stderr, "NVML / the NVIDIA driver was not found") {
				t.Errorf("stderr does not say NVML is missing:\n%s", r.stderr)
			}
		})
	}
}

// TestGPURealNVML runs gpu inventory on this machine's NVML: without the
// library (most CI machines) it must fail cleanly with exit 1.
func TestGPURealNVML(t *testing.T) {
	r := run(t, "gpu", "inventory")
	if r.err == nil {
		t.Skip("NVML is present on this machine")
	}
	if got := ExitCode(r.err); got != ExitFailure || !errors.Is(r.err, gpu.ErrNoNVML) {
		t.Errorf("got exit %d, %v, want %d and ErrNoNVML", got, r.err, ExitFailure)
	}
}
