package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/results"
)

// TestPlanThenRun: `fleetsim plan two-regions` writes a plan whose every
// strategy, replayed with `fleetsim run --plan`, meets the SLOs the plan
// claims; its cost is what the plan says.
func TestPlanThenRun(t *testing.T) {
	dir := t.TempDir()
	planPath := filepath.Join(dir, "plan.yaml")
	r := run(t, "plan", "two-regions", "--out", planPath, "-q")
	if r.err != nil {
		t.Fatalf("plan: %v\n%s", r.err, r.stdout)
	}
	if !strings.Contains(r.stdout, "recommendation:") {
		t.Errorf("plan output lacks a recommendation:\n%s", r.stdout)
	}
	r = run(t, "run", "--plan", planPath, "--output", "json", "-q")
	if r.err != nil {
		t.Fatalf("run --plan: %v", r.err)
	}
	var res results.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Scenario != "two-regions" || len(res.Strategies) != 3 {
		t.Fatalf("ran %q with %d strategies, want two-regions with 3", res.Scenario, len(res.Strategies))
	}
	data, err := os.ReadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Strategies {
		if s.SLOsMet != s.SLOs {
			t.Errorf("%s: %d of %d SLOs met with the plan's replicas", s.Name, s.SLOsMet, s.SLOs)
		}
		if !strings.Contains(string(data), "costPerHourUSD: "+trimNum(s.CostPerHourUSD)) {
			t.Errorf("%s: the run costs $%g/h, which the plan file does not state", s.Name, s.CostPerHourUSD)
		}
	}
}

func trimNum(v float64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestPlanInfeasible: an SLO below the network round trip gives exit
// status 3, names the constraint and the shortfall, and writes no plan.
func TestPlanInfeasible(t *testing.T) {
	planPath := filepath.Join(t.TempDir(), "plan.yaml")
	r := run(t, "plan", filepath.Join("testdata", "plan-too-fast.yaml"), "--out", planPath, "-q")
	if got := ExitCode(r.err); got != ExitInfeasible {
		t.Fatalf("exit %d (%v), want %d", got, r.err, ExitInfeasible)
	}
	for _, want := range []string{"infeasible", "ttft p95 <= 5ms", "network alone"} {
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("error %q lacks %q", r.err, want)
		}
	}
	if _, err := os.Stat(planPath); !os.IsNotExist(err) {
		t.Errorf("a plan file was written for an infeasible scenario")
	}
}
