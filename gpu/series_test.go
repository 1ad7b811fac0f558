package gpu

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func f64(v float64) *float64 { return &v }
func u64(v uint64) *uint64   { return &v }
func u32(v uint32) *uint32   { return &v }

// scripted is a power series at 0, 1, 2 and 4 s of 100, 200, 200, 100 W.
// Its trapezoid integral by hand: (100+200)/2*1 + (200+200)/2*1 +
// (200+100)/2*2 = 150 + 200 + 300 = 650 J; time-weighted mean 650/4 =
// 162.5 W; peak 200 W.
func scripted(energy []*uint64) Series {
	times := []float64{0, 1, 2, 4}
	power := []float64{100, 200, 200, 100}
	s := Series{Index: 3, UUID: "GPU-x", Name: "NVIDIA H100 80GB HBM3"}
	for i := range times {
		x := Sample{TimeS: times[i], PowerW: f64(power[i]), GPUUtilPct: u32(uint32(10 * (i + 1))), MemUsedBytes: u64(uint64(100 * (i + 1)))}
		if energy != nil {
			x.EnergyMJ = energy[i]
		}
		s.Samples = append(s.Samples, x)
	}
	return s
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name       string
		energy     []*uint64
		wantJ      float64
		wantSource string
	}{
		// Counter from 1,000,000 to 1,650,000 mJ: 650 J.
		{"counter", []*uint64{u64(1_000_000), u64(1_100_000), u64(1_300_000), u64(1_650_000)}, 650, EnergyCounter},
		// A counter different from the integral shows which one is used.
		{"counter wins over integral", []*uint64{u64(0), nil, nil, u64(700_000)}, 700, EnergyCounter},
		{"no counter", nil, 650, EnergyPowerIntegral},
		{"counter missing at the end", []*uint64{u64(5), u64(6), u64(7), nil}, 650, EnergyPowerIntegral},
		{"counter went backwards", []*uint64{u64(9_000_000), nil, nil, u64(1)}, 650, EnergyPowerIntegral},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(scripted(tt.energy))
			if got.EnergyJ == nil || math.Abs(*got.EnergyJ-tt.wantJ) > 1e-9 {
				t.Fatalf("EnergyJ: got %v, want %v", got.EnergyJ, tt.wantJ)
			}
			if got.EnergySource != tt.wantSource {
				t.Errorf("EnergySource: got %q, want %q", got.EnergySource, tt.wantSource)
			}
			if got.MeanPowerW == nil || math.Abs(*got.MeanPowerW-162.5) > 1e-9 {
				t.Errorf("MeanPowerW: got %v, want 162.5", got.MeanPowerW)
			}
			if got.PeakPowerW == nil || *got.PeakPowerW != 200 {
				t.Errorf("PeakPowerW: got %v, want 200", got.PeakPowerW)
			}
			// Utilization 10, 20, 30, 40: mean 25. Memory 100..400: peak 400.
			if got.MeanGPUUtilPct == nil || *got.MeanGPUUtilPct != 25 {
				t.Errorf("MeanGPUUtilPct: got %v, want 25", got.MeanGPUUtilPct)
			}
			if got.PeakMemUsedBytes == nil || *got.PeakMemUsedBytes != 400 {
				t.Errorf("PeakMemUsedBytes: got %v, want 400", got.PeakMemUsedBytes)
			}
			if got.Samples != 4 || got.DurationS != 4 {
				t.Errorf("Samples, DurationS: got %d, %v, want 4, 4", got.Samples, got.DurationS)
			}
		})
	}
}

func TestSummarizeMissingPower(t *testing.T) {
	// Power missing at t=1 s: the integral joins 100 W at 0 s and 200 W at
	// 2 s: (100+200)/2*2 + (200+100)/2*2 = 300 + 300 = 600 J.
	s := scripted(nil)
	s.Samples[1].PowerW = nil
	got := Summarize(s)
	if got.EnergyJ == nil || math.Abs(*got.EnergyJ-600) > 1e-9 {
		t.Errorf("EnergyJ: got %v, want 600", got.EnergyJ)
	}
	// No sample has power: no energy, no mean, not zeros.
	for i := range s.Samples {
		s.Samples[i].PowerW = nil
	}
	got = Summarize(s)
	if got.EnergyJ != nil || got.MeanPowerW != nil || got.PeakPowerW != nil {
		t.Errorf("no power: got energy %v mean %v peak %v, want all nil", got.EnergyJ, got.MeanPowerW, got.PeakPowerW)
	}
}

func TestWriteCSV(t *testing.T) {
	// The header is the documented contract of docs/gpu.md; changing it
	// breaks users' scripts.
	const wantHeader = "gpu,uuid,time_s,power_w,energy_mj,sm_clock_mhz,mem_clock_mhz,gpu_util_pct,mem_used_bytes"
	s := scripted(nil)
	s.Samples[2].PowerW = nil
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []Series{s}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != wantHeader {
		t.Errorf("header: got %q, want %q", got, wantHeader)
	}
	if len(rows) != 1+len(s.Samples) {
		t.Fatalf("rows: got %d, want %d", len(rows), 1+len(s.Samples))
	}
	if got := rows[3][3]; got != "" {
		t.Errorf("missing power cell: got %q, want empty", got)
	}
	if got := rows[4][2]; got != "4.000" {
		t.Errorf("time of last sample: got %q, want 4.000", got)
	}
	if got := rows[1][0]; got != "3" {
		t.Errorf("gpu index: got %q, want 3", got)
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, 0.1, []Series{scripted(nil)}); err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Summary) != 1 || r.Summary[0].EnergyJ == nil || *r.Summary[0].EnergyJ != 650 {
		t.Fatalf("summary: got %+v, want one GPU with 650 J", r.Summary)
	}
	if len(r.GPUs) != 1 || len(r.GPUs[0].Samples) != 4 || r.IntervalS != 0.1 {
		t.Errorf("report: got %d GPUs, interval %v, want 1 GPU of 4 samples, 0.1", len(r.GPUs), r.IntervalS)
	}
	// Missing fields are null, not 0.
	if !strings.Contains(buf.String(), `"energyMJ": null`) {
		t.Errorf("missing energy counter not written as null")
	}
}
