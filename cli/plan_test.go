package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/results"
	"github.com/fleetsim/fleetsim/scenarios"
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
	if res.Scenario != "two-regions" || len(res.Strategies) != 4 || res.Strategies[3].Name != "planner-choice" {
		t.Fatalf("ran %q with %d strategies, want two-regions with its 3 and planner-choice", res.Scenario, len(res.Strategies))
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

// TestPlanSurviveAndVary: with --survive the single-site strategy is
// infeasible (exit 3, saying why) and the two-site ones cost more than
// without; --vary adds a sensitivity row per change, and an unknown
// change is a usage error.
func TestPlanSurviveAndVary(t *testing.T) {
	base := run(t, "plan", "two-regions", "-q")
	if base.err != nil {
		t.Fatal(base.err)
	}
	r := run(t, "plan", "two-regions", "-q", "--survive", "--degraded-slo-factor", "2")
	if got := ExitCode(r.err); got != ExitInfeasible {
		t.Fatalf("--survive: exit %d, want %d (centralized has one site)", got, ExitInfeasible)
	}
	if !strings.Contains(r.err.Error(), "surviving one site down needs two sites") {
		t.Errorf("--survive error %q does not say why", r.err)
	}
	costOf := func(out, strategy string) string {
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "│ "+strategy+" ") {
				f := strings.Split(line, "│")
				return strings.TrimSpace(f[4])
			}
		}
		return ""
	}
	for _, s := range []string{"regional", "edge"} {
		b, v := costOf(base.stdout, s), costOf(r.stdout, s)
		if b == "" || v == "" || !(atof(t, v) > atof(t, b)) {
			t.Errorf("%s: survive plan costs %q, plain %q: want more", s, v, b)
		}
	}
	r = run(t, "plan", "two-regions", "-q", "--vary", "demand=2", "--vary", "price:us-east=1.3")
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, want := range []string{"sensitivity", "demand ×2", "us-east price ×1.3"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--vary output lacks %q", want)
		}
	}
	r = run(t, "plan", "two-regions", "-q", "--vary", "bogus=1")
	if got := ExitCode(r.err); got != ExitInvalid {
		t.Errorf("--vary bogus=1: exit %d, want %d", got, ExitInvalid)
	}
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	if _, err := fmt.Sscanf(s, "%g", &v); err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return v
}

// TestEveryBuiltinPlan plans every built-in scenario. A plan that is made
// must meet every SLO when run with `run --plan`; a scenario that cannot be
// planned must exit 3, say why, and write no plan.
func TestEveryBuiltinPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("plans every built-in scenario (about a minute)")
	}
	for _, info := range scenarios.Builtins() {
		name := info.Name
		t.Run(name, func(t *testing.T) {
			planPath := filepath.Join(t.TempDir(), "plan.yaml")
			r := run(t, "plan", name, "--out", planPath, "-q")
			if r.err != nil {
				if ExitCode(r.err) != ExitInfeasible || !strings.Contains(r.err.Error(), "infeasible") {
					t.Fatalf("plan: exit %d: %v", ExitCode(r.err), r.err)
				}
				if _, err := os.Stat(planPath); !os.IsNotExist(err) {
					t.Errorf("an infeasible plan was written")
				}
				t.Logf("infeasible: %s", firstLine(r.err))
				return
			}
			r = run(t, "run", "--plan", planPath, "--output", "json", "-q")
			if r.err != nil {
				t.Fatalf("run --plan: %v", r.err)
			}
			var res results.Result
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatal(err)
			}
			for _, s := range res.Strategies {
				if s.SLOsMet != s.SLOs {
					t.Errorf("%s: %d of %d SLOs met with the plan", s.Name, s.SLOsMet, s.SLOs)
				}
			}
		})
	}
}
