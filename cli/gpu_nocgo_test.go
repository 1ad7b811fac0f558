//go:build !cgo

package cli

import (
	"strings"
	"testing"
)

func TestGPUNoCgo(t *testing.T) {
	for _, args := range [][]string{{"gpu", "inventory"}, {"gpu", "sample", "--", "true"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := run(t, args...)
			if got := ExitCode(r.err); got != ExitFailure {
				t.Errorf("exit code: got %d, want %d", got, ExitFailure)
			}
			if !strings.Contains(r.stderr, "NVML support is not compiled into this binary (built without cgo)") {
				t.Errorf("stderr: got %q, want the no-cgo message", r.stderr)
			}
		})
	}
}
