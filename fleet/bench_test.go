package fleet

import (
	"bytes"
	"fmt"
	"syscall"
	"testing"

	"github.com/fleetsim/fleetsim/serving"
	"github.com/fleetsim/fleetsim/sim"
	"github.com/fleetsim/fleetsim/topology"
	"github.com/fleetsim/fleetsim/traces"
	"github.com/fleetsim/fleetsim/workloads"
)

// benchWorld is n replicas of Llama-3.1-8B on one H100 each, in one
// region, with users in the same place, sending the requests of arr and of
// wl for window seconds. The serving model uses the uncalibrated default
// coefficients, so the figures do not move when profiles are refitted.
func benchWorld(b *testing.B, replicas int, wl Workload, arr ArrivalProcess, window float64, shares []float64) *World {
	b.Helper()
	m, _ := serving.LookupModel("llama-3.1-8b")
	g, _ := serving.LookupGPU("h100")
	est, err := serving.New(serving.ReplicaSpec{Model: m, GPU: g, TensorParallel: 1, MaxBatch: 256}, serving.DefaultCoefficients())
	if err != nil {
		b.Fatal(err)
	}
	places := []topology.Place{{Name: "site", Lat: 10, Lon: 10}}
	x, err := topology.NewMatrix(places, topology.Model{BaseRTTMs: 0, PathInflation: 1, FiberKmPerMs: 200, SameSiteRTTMs: 1}, nil)
	if err != nil {
		b.Fatal(err)
	}
	u := UserGroup{Name: "users", Loc: 0, EdgeLoc: -1, TraceShares: shares}
	if arr != nil {
		u.Loads = []Load{{Workload: 0, Arrivals: arr}}
	}
	return &World{
		Name: "bench", Locations: places, RTT: x,
		Net:       Network{SiteBytesPerS: 1e10, AccessBytesPerS: 1e9, BytesPerToken: 4},
		Sites:     []Site{{Name: "site", Loc: 0, Kind: topology.Core}},
		Users:     []UserGroup{u},
		Workloads: []Workload{wl},
		Strategies: []Strategy{{
			Name: "only", Kind: "centralized", MaxQueuePerReplica: 512,
			Deployments: []Deployment{{
				Model: m.ID, GPU: g.ID, TP: 1, Estimator: est, Serves: []bool{true}, PrefixCaching: true,
				Placements: []Placement{{Site: 0, Replicas: replicas, PricePerGPUHourUSD: 1}},
			}},
		}},
		Run: RunParams{Window: sim.FromSeconds(window), Drain: sim.FromSeconds(600), Seed: 1},
	}
}

// maxRSSMB is the process's peak resident memory so far, in MB (Linux).
func maxRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

// BenchmarkSingleReplica is one busy H100 replica of Llama-3.1-8B with the
// Azure conversation trace's prompt and output length distributions, for
// 10^4, 10^5 and 10^6 requests, at 15 requests/s (fully busy, nothing
// dropped) and 25 requests/s (overloaded: the site queue is full and drops
// requests). It reports simulated requests per wall-clock second, the
// process's peak RSS, and (with -benchmem) the bytes allocated per run.
//
//	go test -run x -bench SingleReplica -benchtime 1x ./fleet/
func BenchmarkSingleReplica(b *testing.B) {
	prompt, _ := workloads.Builtin("azure-conv-prompt")
	output, _ := workloads.Builtin("azure-conv-output")
	wl := Workload{Name: "chat", Prompt: prompt, Output: output, MaxContext: 1 << 20}
	for _, c := range []struct {
		n    int
		rate float64
	}{{1e4, 15}, {1e5, 15}, {1e6, 15}, {1e4, 25}, {1e5, 25}, {1e6, 25}} {
		n, rate := c.n, c.rate
		b.Run(fmt.Sprintf("rate=%g/requests=%d", rate, n), func(b *testing.B) {
			w := benchWorld(b, 1, wl, workloads.Arrivals{PeakRatePerS: rate, Curve: flatCurveB(b)}, float64(n)/rate, nil)
			var done, dropped int64
			var util float64
			b.ReportAllocs()
			for b.Loop() {
				res, err := Simulate(w, 0)
				if err != nil {
					b.Fatal(err)
				}
				done, dropped, util = res.Workloads[0].Requests.Arrived, res.Workloads[0].Requests.Dropped, res.Utilization
			}
			b.ReportMetric(float64(dropped), "dropped")
			b.ReportMetric(util, "utilization")
			b.ReportMetric(float64(done)*float64(b.N)/b.Elapsed().Seconds(), "requests/s")
			b.ReportMetric(float64(done), "requests")
			b.ReportMetric(maxRSSMB(), "peak-RSS-MB")
		})
	}
}

// BenchmarkTraceReplay100 replays a synthetic Mooncake-like trace of 10^6
// requests (prefix hashes included) at 100 times the rate one replica takes
// across 100 replicas.
//
//	go test -run x -bench TraceReplay100 -benchtime 1x ./fleet/
func BenchmarkTraceReplay100(b *testing.B) {
	const n, perReplica = 1_000_000, 2.0
	rate := 100 * perReplica
	tr := syntheticTrace(b, n, rate)
	wl := Workload{Name: "trace", Trace: tr, TraceRateScale: 1, MaxContext: 1 << 20}
	w := benchWorld(b, 100, wl, nil, float64(n)/rate, []float64{1})
	var done, dropped int64
	var util, hits float64
	b.ReportAllocs()
	for b.Loop() {
		res, err := Simulate(w, 0)
		if err != nil {
			b.Fatal(err)
		}
		done, dropped, util, hits = res.Workloads[0].Requests.Arrived, res.Workloads[0].Requests.Dropped, res.Utilization, res.PrefixHitRate
	}
	b.ReportMetric(float64(dropped), "dropped")
	b.ReportMetric(util, "utilization")
	b.ReportMetric(hits, "prefix-hit-rate")
	b.ReportMetric(float64(done)*float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	b.ReportMetric(float64(done), "requests")
	b.ReportMetric(maxRSSMB(), "peak-RSS-MB")
}

func flatCurveB(b *testing.B) workloads.Curve {
	b.Helper()
	ones := make([]float64, 24)
	for i := range ones {
		ones[i] = 1
	}
	c, err := workloads.NewHourlyCurve(ones)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// syntheticTrace writes n Mooncake-format requests (Poisson arrivals at
// rate, prompts of 1-16 blocks of 512 tokens whose first blocks are shared
// by one of 5,000 conversations, outputs of 50-400 tokens) and reads them
// back with the traces package.
func syntheticTrace(b *testing.B, n int, rate float64) *traces.Trace {
	b.Helper()
	rng := sim.Stream(1, "bench/trace")
	var buf bytes.Buffer
	t := 0.0
	next := uint64(1 << 40)
	for i := 0; i < n; i++ {
		t += rng.ExpFloat64() / rate
		blocks := 1 + rng.IntN(16)
		input := (blocks-1)*512 + 1 + rng.IntN(512)
		conv := uint64(rng.IntN(5000))
		shared := min(blocks-1, 1+int(conv%4))
		fmt.Fprintf(&buf, `{"timestamp": %d, "input_length": %d, "output_length": %d, "hash_ids": [`, int64(t*1000), input, 50+rng.IntN(350))
		for k := 0; k < blocks; k++ {
			if k > 0 {
				buf.WriteString(",")
			}
			id := next
			if k < shared {
				id = conv*16 + uint64(k)
			} else {
				next++
			}
			fmt.Fprintf(&buf, "%d", id)
		}
		buf.WriteString("]}\n")
	}
	tr, _, err := traces.Read(&buf, "synthetic.jsonl", traces.Options{Format: traces.Mooncake})
	if err != nil {
		b.Fatal(err)
	}
	return tr
}

// BenchmarkReplicas16 is 16 busy replicas (one H100 each, Llama-3.1-8B)
// sharing 10^5 requests at 16 × 15 requests/s with the Azure conversation
// lengths.
//
//	go test -run x -bench Replicas16 -benchtime 1x -benchmem ./fleet/
func BenchmarkReplicas16(b *testing.B) {
	const n, rate = 100_000, 16 * 15.0
	prompt, _ := workloads.Builtin("azure-conv-prompt")
	output, _ := workloads.Builtin("azure-conv-output")
	wl := Workload{Name: "chat", Prompt: prompt, Output: output, MaxContext: 1 << 20}
	w := benchWorld(b, 16, wl, workloads.Arrivals{PeakRatePerS: rate, Curve: flatCurveB(b)}, n/rate, nil)
	var done, dropped int64
	b.ReportAllocs()
	for b.Loop() {
		res, err := Simulate(w, 0)
		if err != nil {
			b.Fatal(err)
		}
		done, dropped = res.Workloads[0].Requests.Arrived, res.Workloads[0].Requests.Dropped
	}
	b.ReportMetric(float64(dropped), "dropped")
	b.ReportMetric(float64(done)*float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	b.ReportMetric(maxRSSMB(), "peak-RSS-MB")
}
