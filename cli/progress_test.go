package cli

import (
	"strings"
	"testing"
)

// TestProgress: --progress plain reports on stderr and leaves stdout
// byte-identical to a run without progress; auto is silent when stderr is
// not a terminal; a bad mode is a usage error.
func TestProgress(t *testing.T) {
	plain := run(t, "run", "minimal", "--progress", "plain")
	none := run(t, "run", "minimal", "--progress", "none")
	auto := run(t, "run", "minimal")
	for _, r := range []runOut{plain, none, auto} {
		if r.err != nil {
			t.Fatal(r.err)
		}
	}
	if plain.stdout != none.stdout || auto.stdout != none.stdout {
		t.Errorf("stdout differs with progress on")
	}
	if !strings.Contains(plain.stderr, "progress: 100% of simulated time") {
		t.Errorf("plain progress on stderr: %q", plain.stderr)
	}
	if strings.Contains(auto.stderr, "progress") || strings.Contains(auto.stderr, "[#") {
		t.Errorf("auto progress drew on a non-terminal: %q", auto.stderr)
	}
	if q := run(t, "run", "minimal", "--progress", "plain", "-q"); q.stderr != "" {
		t.Errorf("-q still printed %q", q.stderr)
	}
	if r := run(t, "run", "minimal", "--progress", "fancy"); ExitCode(r.err) != ExitInvalid {
		t.Errorf("--progress fancy: exit %d, want %d", ExitCode(r.err), ExitInvalid)
	}
}
