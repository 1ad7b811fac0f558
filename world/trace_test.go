package world

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/scenarios"
)

// traceScenario is a one-region scenario whose chat workload replays
// trace.csv (azure format) beside it, with the given onError.
func traceScenario(onError string) string {
	return `apiVersion: fleetsim/v1alpha1
kind: Scenario
metadata:
  name: replay
spec:
  run:
    duration: 10m
  regions:
    - name: us-east
      clusters:
        - name: c1
          gpuPools:
            - {gpu: h100, count: 1, pricePerGPUHourUSD: 2.5}
  users:
    - name: a
      place: us-east
      load:
        - {workload: conv, share: 3}
    - name: b
      place: new-york
      load:
        - {workload: conv}
  workloads:
    - name: conv
      kind: chat
      trace: {file: trace.csv, format: azure, rateScale: 2, onError: ` + onError + `}
  strategies:
    - name: central
      kind: centralized
      deployments:
        - {model: llama-3.1-8b, gpu: h100, sites: [us-east], gpus: 8}
`
}

const traceCSV = `TIMESTAMP,ContextTokens,GeneratedTokens
2023-11-16 18:15:46.6805900,374,44
2023-11-16 18:15:50.9951690,396,109
2023-11-16 18:15:51.0000000,abc,10
2023-11-16 18:15:52.1000000,879,29
`

func writeScenario(t *testing.T, yaml, csv string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trace.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func build(t *testing.T, path string) (*fleet.World, error) {
	t.Helper()
	s, err := scenarios.Open(path)
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	return Build(s)
}

// TestTraceStopNamesLine: with onError stop a bad row is an error naming
// the trace file, its line and the scenario field that names the file.
func TestTraceStopNamesLine(t *testing.T) {
	p := writeScenario(t, traceScenario("stop"), traceCSV)
	_, err := build(t, p)
	if err == nil {
		t.Fatal("Build: nil error for a trace with a bad row")
	}
	for _, want := range []string{"spec.workloads[conv].trace.file", "trace.csv:4", "ContextTokens"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// TestTraceSkipKeepsTheRest: with onError skip the bad row is left out,
// reported in a note with its line, and the good rows are replayed with the
// groups' shares (3 and the default 1) and the rate scale.
func TestTraceSkipKeepsTheRest(t *testing.T) {
	p := writeScenario(t, traceScenario("skip"), traceCSV)
	w, err := build(t, p)
	if err != nil {
		t.Fatal(err)
	}
	wl := w.Workloads[0]
	if wl.Trace == nil || wl.Trace.Len() != 3 {
		t.Fatalf("trace: got %v, want 3 rows", wl.Trace)
	}
	if wl.TraceRateScale != 2 {
		t.Errorf("rate scale %g, want 2", wl.TraceRateScale)
	}
	if len(w.Notes) != 1 || !strings.Contains(w.Notes[0], "skipped 1 of 4 rows") || !strings.Contains(w.Notes[0], "line 4") {
		t.Errorf("notes %q, want one naming the skipped row's line", w.Notes)
	}
	if got := []float64{w.Users[0].TraceShares[0], w.Users[1].TraceShares[0]}; got[0] != 3 || got[1] != 1 {
		t.Errorf("shares %v, want [3 1]", got)
	}
	if len(w.Users[0].Loads) != 0 || len(w.Users[1].Loads) != 0 {
		t.Errorf("trace workloads must not also have drawn loads")
	}
}

// TestTraceMissingFile names the field and the file.
func TestTraceMissingFile(t *testing.T) {
	p := writeScenario(t, traceScenario("stop"), traceCSV)
	if err := os.Remove(filepath.Join(filepath.Dir(p), "trace.csv")); err != nil {
		t.Fatal(err)
	}
	_, err := build(t, p)
	if err == nil || !strings.Contains(err.Error(), "spec.workloads[conv].trace.file") || !strings.Contains(err.Error(), "trace.csv") {
		t.Errorf("error %v, want one naming spec.workloads[conv].trace.file and trace.csv", err)
	}
}

// TestTraceReplayRuns simulates the replay: every good row arrives once,
// from the two groups.
func TestTraceReplayRuns(t *testing.T) {
	p := writeScenario(t, traceScenario("skip"), traceCSV)
	w, err := build(t, p)
	if err != nil {
		t.Fatal(err)
	}
	res, err := fleet.Simulate(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Workloads[0].Requests; got.Arrived != 3 || got.Completed != 3 {
		t.Errorf("requests %+v, want 3 arrived and completed", got)
	}
}
