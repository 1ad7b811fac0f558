package fleet

import (
	"math"
	"testing"

	"github.com/fleetsim/fleetsim/workloads"
)

// TestCostsByHand runs one chat call on one replica over a 100 s window
// and checks GPU, energy, egress and carbon against a hand computation.
func TestCostsByHand(t *testing.T) {
	w := testWorld{
		rttMs: 10, windowS: 100, replicas: 1, bytesPerToken: 1e6,
		est:      linearEst{PerToken: 1e-4, Step: 0.01, KV: 1 << 20, Batch: 8, IdleW: 10},
		wl:       Workload{Name: "chat", Prompt: workloads.Constant{Value: 1000}, Output: workloads.Constant{Value: 11}, MaxContext: 1 << 20},
		arrivals: fixedArrivals{10},
	}.build(t)
	w.Strategies[0].Deployments[0].Placements[0].PricePerGPUHourUSD = 2
	w.Strategies[0].Deployments[0].Placements[0].EnergyPricePerKWhUSD = 0.5
	w.Net.EgressPerGB, w.Net.InternetEgressPerGB = 0.02, 0.09
	w.Net.TelemetryBytes, w.Net.TelemetryLoc = 5e8, 1
	w.Sites[0].CarbonGPerKWh, w.Sites[0].HasCarbon = 400, true
	res, err := Simulate(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	const hours = 100.0 / 3600
	// Busy 0.1 s of prefill + 10 decode steps of 0.01 s at 1 W; idle the
	// other 99.8 s at 10 W.
	joules := 0.2*1 + 99.8*10
	kwh := joules / 3.6e6
	energyPerH := kwh * 0.5 / hours
	// 11 output tokens × 1e6 bytes to the user at $0.09/GB, and 5e8 bytes of
	// telemetry to another place at $0.02/GB.
	egressGB := 11e6/1e9 + 5e8/1e9
	egressPerH := (11e6/1e9*0.09 + 5e8/1e9*0.02) / hours
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"GPU $/h", res.CostPerHourUSD, 2},
		{"energy kWh", res.EnergyKWh, kwh},
		{"energy $/h", res.EnergyCostPerHourUSD, energyPerH},
		{"egress GB", res.EgressGB, egressGB},
		{"egress $/h", res.EgressCostPerHourUSD, egressPerH},
		{"total $/h", res.TotalCostPerHourUSD, 2 + energyPerH + egressPerH},
		{"carbon kg", res.CarbonKg, kwh * 400 / 1000},
	} {
		if math.Abs(c.got-c.want) > 1e-5*math.Abs(c.want)+1e-12 {
			t.Errorf("%s: got %.9g, want %.9g", c.name, c.got, c.want)
		}
	}
}

// TestSecurityOverheads: with two handshake round trips, 30 ms of mTLS per
// new connection and a 5 ms gateway hop, a per-request chat call pays
// 2 × RTT + 30 ms + 5 ms on top of its round trip and service.
func TestSecurityOverheads(t *testing.T) {
	const rtt, perToken, step = 0.020, 1e-4, 0.01
	build := func(mtls, gw float64) *World {
		w := testWorld{
			rttMs: rtt * 1000, windowS: 100, handshakes: 2,
			est:      linearEst{PerToken: perToken, Step: step, KV: 1 << 20, Batch: 8},
			wl:       Workload{Name: "chat", Prompt: workloads.Constant{Value: 1000}, Output: workloads.Constant{Value: 11}, MaxContext: 1 << 20},
			arrivals: fixedArrivals{10},
		}.build(t)
		w.Net.MTLSS, w.Net.GatewayS = mtls, gw
		return w
	}
	for _, c := range []struct{ mtls, gw float64 }{{0, 0}, {0.030, 0.005}} {
		res, err := Simulate(build(c.mtls, c.gw), 0)
		if err != nil {
			t.Fatal(err)
		}
		want := 2*rtt + c.mtls + c.gw + rtt + 1000*perToken + 10*step
		if got := res.Workloads[0].E2EMs.Mean / 1000; math.Abs(got-want) > 3e-6 {
			t.Errorf("mTLS %g s, gateway %g s: e2e %.6f s, want %.6f s", c.mtls, c.gw, got, want)
		}
	}
}
