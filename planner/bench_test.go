package planner

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/topology"
	"github.com/fleetsim/fleetsim/world"
)

// bigScenario is 50 sites from the place catalog (core regions first, then
// edge metros), each with H100, H200 and L40S pools, chat users in 10 of
// them, and one strategy deploying Llama-3.1-8B on each GPU type at every
// site: 150 slots to plan.
func bigScenario(b *testing.B) string {
	b.Helper()
	var sites []topology.Place
	for _, k := range []topology.Kind{topology.Core, topology.Edge} {
		for _, p := range topology.Catalog() {
			if p.Kind == k && len(sites) < 50 {
				sites = append(sites, p)
			}
		}
	}
	var sb strings.Builder
	sb.WriteString(`apiVersion: fleetsim/v1alpha1
kind: Scenario
metadata:
  name: fifty-sites
spec:
  run: {duration: 1h, warmup: 5m, drain: 10m, startHourUTC: 12, seed: 1}
  regions:
`)
	var names []string
	for _, p := range sites {
		names = append(names, p.Name)
		fmt.Fprintf(&sb, `    - name: %s
      clusters:
        - name: c
          gpuPools:
            - {gpu: h100, gpusPerNode: 8, count: 2, pricePerGPUHourUSD: 2.5}
            - {gpu: h200, gpusPerNode: 8, count: 2, pricePerGPUHourUSD: 3.2}
            - {gpu: l40s, gpusPerNode: 4, count: 2, pricePerGPUHourUSD: 1.2}
`, p.Name)
	}
	sb.WriteString("  users:\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&sb, "    - name: users-%d\n      place: %s\n      load: [{workload: chat, peakRatePerS: 3}]\n", i, sites[i*5].Name)
	}
	sb.WriteString(`  workloads:
    - name: chat
      kind: chat
      chat:
        promptTokens: {dist: builtin, name: azure-conv-prompt}
        outputTokens: {dist: builtin, name: azure-conv-output}
      slos:
        - {metric: ttft, percentile: 95, max: 2s}
        - {metric: e2e, percentile: 99, max: 60s}
  strategies:
    - name: everywhere
      kind: hybrid
      deployments:
`)
	list := strings.Join(names, ", ")
	for _, g := range []string{"h100", "h200", "l40s"} {
		fmt.Fprintf(&sb, "        - {model: llama-3.1-8b, gpu: %s, sites: [%s], gpus: %d}\n", g, list, 50)
	}
	return sb.String()
}

// BenchmarkPlanFiftySites plans the 50-site, 3-GPU-type scenario: 150
// slots, analytic proposal, up to 16 simulations of repair and 3
// replications.
//
//	go test -run x -bench PlanFiftySites -benchtime 1x ./planner/
func BenchmarkPlanFiftySites(b *testing.B) {
	s, err := scenarios.Parse("fifty-sites.yaml", []byte(bigScenario(b)))
	if err != nil {
		b.Fatal(err)
	}
	w, err := world.Build(s)
	if err != nil {
		b.Fatal(err)
	}
	var res Result
	for b.Loop() {
		p, err := Pose(w, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		res, err = Search(p.Slots, p.Proposal, SimEvaluator{P: p}, Options{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(res.Allocation)), "slots")
	b.ReportMetric(float64(res.Evals), "simulations")
	b.ReportMetric(res.CostPerHour, "$/hour")
}
