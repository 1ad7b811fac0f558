package world

import (
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/scenarios"
)

const residencyBase = `apiVersion: fleetsim/v1alpha1
kind: Scenario
metadata:
  name: residency
spec:
  run:
    duration: 10m
  regions:
    - name: us-east
      clusters:
        - name: c1
          gpuPools:
            - {gpu: h100, count: 1, pricePerGPUHourUSD: 2.5}
    - name: eu-west
      clusters:
        - name: c2
          gpuPools:
            - {gpu: h100, count: 1, pricePerGPUHourUSD: 2.5}
  tools:
    - {name: search, place: TOOLPLACE, serviceTimeMs: {dist: constant, value: 100}}
  users:
    - name: eu
      place: frankfurt
      load:
        - {workload: agent, peakRatePerS: 0.1}
  workloads:
    - name: agent
      kind: agent
      zone: ZONE
      agent:
        steps: {dist: constant, value: 3}
        initialPromptTokens: {dist: constant, value: 1000}
        outputTokens: {dist: constant, value: 100}
        toolResultTokens: {dist: constant, value: 100}
        tools: [{tool: search}]
  strategies:
    - name: s
      kind: centralized
      deployments:
        - {model: llama-3.1-8b, gpu: h100, sites: [SITE], gpus: 8}
`

// TestResidencyValidation: a workload confined to the EU zone may only be
// served and call tools inside it; a scenario that could only serve it by
// breaking that fails to build, naming what breaks it.
func TestResidencyValidation(t *testing.T) {
	tests := []struct {
		name, tool, zone, site string
		want                   []string // substrings of the error; none: valid
	}{
		{"all inside", "eu-west", "eu", "eu-west", nil},
		{"tool outside", "us-east", "eu", "eu-west", []string{"spec.workloads[agent].agent.tools", `tool "search" is in zone "us"`}},
		{"no site inside", "eu-west", "eu", "us-east", []string{"spec.strategies[s]", `within their residency zone "eu"`, `us-east (zone "us")`}},
		{"no zone, anything goes", "us-east", "", "us-east", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := strings.NewReplacer("TOOLPLACE", tt.tool, "SITE", tt.site).Replace(residencyBase)
			if tt.zone == "" {
				y = strings.Replace(y, "      zone: ZONE\n", "", 1)
			} else {
				y = strings.Replace(y, "ZONE", tt.zone, 1)
			}
			s, err := scenarios.Parse("residency.yaml", []byte(y))
			if err != nil {
				t.Fatalf("scenario: %v", err)
			}
			_, err = Build(s)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Build: nil error, want one naming %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestExamplesBuild: the example scenarios that need no external data
// load and build (the replay examples read the workspace's shared data).
func TestExamplesBuild(t *testing.T) {
	for _, f := range []string{"../examples/autoscale-day.yaml", "../examples/replay/agent-sessions.yaml"} {
		s, err := scenarios.Open(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := Build(s); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
