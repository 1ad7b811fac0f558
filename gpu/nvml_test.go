//go:build cgo

package gpu

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/gpus"

	"github.com/fleetsim/fleetsim/gpu/gputest"
)

// The machines use the GPU configs of go-nvml's dgxh100 and dgxh200 mocks
// (8 GPUs each); see gputest for why not those mock servers themselves.
func TestInventory(t *testing.T) {
	tests := []struct {
		name string
		cfg  gpus.Config
		want string
	}{
		{"dgxh100", gpus.H100_SXM5_80GB, "h100"},
		{"dgxh200", gpus.H200_SXM5_141GB, "h200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := gputest.NewMachine(tt.cfg, 8)
			devs, err := Inventory(m.Lib)
			if err != nil {
				t.Fatal(err)
			}
			if len(devs) != 8 {
				t.Fatalf("devices: got %d, want 8", len(devs))
			}
			for i, d := range devs {
				// Expected values read back through the mock's NVML API.
				mem, _ := m.GPUs[i].Device.GetMemoryInfo()
				name, _ := m.GPUs[i].Device.GetName()
				if d.Index != i || d.Name != name {
					t.Errorf("device %d: got index %d name %q, want %d %q", i, d.Index, d.Name, i, name)
				}
				if d.MemoryTotalBytes == nil || *d.MemoryTotalBytes != mem.Total {
					t.Errorf("device %d memory total: got %v, want %d", i, d.MemoryTotalBytes, mem.Total)
				}
				if d.Catalog != tt.want {
					t.Errorf("device %d catalog: got %q (%s), want %q", i, d.Catalog, d.CatalogReason, tt.want)
				}
				// PowerMW 100000 mW scripted in gputest: 100 W; limit 700 W.
				if d.PowerW == nil || *d.PowerW != 100 || d.PowerLimitW == nil || *d.PowerLimitW != 700 {
					t.Errorf("device %d power: got %v / %v, want 100 / 700 W", i, d.PowerW, d.PowerLimitW)
				}
				if d.NVLinksActive == nil || *d.NVLinksActive != m.GPUs[i].NVLinks {
					t.Errorf("device %d nvlinks: got %v, want %d", i, d.NVLinksActive, m.GPUs[i].NVLinks)
				}
				if len(d.Missing) != 0 {
					t.Errorf("device %d missing: got %v, want none", i, d.Missing)
				}
			}
			if len(m.Lib.ShutdownCalls()) != 1 {
				t.Errorf("shutdown calls: got %d, want 1", len(m.Lib.ShutdownCalls()))
			}
		})
	}
}

func TestInventoryUnsupported(t *testing.T) {
	m := gputest.NewMachine(gpus.H100_SXM5_80GB, 2)
	d := m.GPUs[1].Device
	d.GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
	d.GetNvLinkStateFunc = func(int) (nvml.EnableState, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
	d.GetMigModeFunc = func() (int, int, nvml.Return) { return 0, 0, nvml.ERROR_NOT_SUPPORTED }
	devs, err := Inventory(m.Lib)
	if err != nil {
		t.Fatal(err)
	}
	got := devs[1]
	if got.PowerLimitW != nil || got.NVLinksActive != nil || got.MIGCurrent != nil || got.MIGPending != nil {
		t.Errorf("unsupported fields: got limit %v nvlinks %v mig %v/%v, want all nil", got.PowerLimitW, got.NVLinksActive, got.MIGCurrent, got.MIGPending)
	}
	var fields []string
	for _, m := range got.Missing {
		fields = append(fields, m.Field+"="+m.Reason)
	}
	want := "powerLimitW=ERROR_NOT_SUPPORTED,mig=ERROR_NOT_SUPPORTED,nvlinksActive=ERROR_NOT_SUPPORTED"
	if strings.Join(fields, ",") != want {
		t.Errorf("missing: got %v, want %s", fields, want)
	}
	if got.PowerW == nil || devs[0].PowerLimitW == nil {
		t.Errorf("supported fields lost: power %v, device 0 limit %v", got.PowerW, devs[0].PowerLimitW)
	}
	if got.Catalog != "h100" {
		t.Errorf("catalog: got %q, want h100", got.Catalog)
	}
}

func TestInitFailure(t *testing.T) {
	tests := []nvml.Return{nvml.ERROR_LIBRARY_NOT_FOUND, nvml.ERROR_DRIVER_NOT_LOADED, nvml.ERROR_NO_PERMISSION}
	for _, ret := range tests {
		t.Run(ret.Error(), func(t *testing.T) {
			m := gputest.NewMachine(gpus.H100_SXM5_80GB, 1)
			m.Lib.InitFunc = func() nvml.Return { return ret }
			if _, err := Inventory(m.Lib); !errors.Is(err, ErrNoNVML) || !strings.Contains(err.Error(), ret.Error()) {
				t.Errorf("Inventory: got %v, want ErrNoNVML naming %v", err, ret)
			}
			if _, err := NewSampler(m.Lib); !errors.Is(err, ErrNoNVML) {
				t.Errorf("NewSampler: got %v, want ErrNoNVML", err)
			}
			if n := len(m.Lib.DeviceGetCountCalls()); n != 0 {
				t.Errorf("device count called %d times after failed init, want 0", n)
			}
		})
	}
}

// fakeClock returns start, start+step, start+2*step, ... on each call.
func fakeClock(start time.Time, step time.Duration) func() time.Time {
	t := start.Add(-step)
	return func() time.Time { t = t.Add(step); return t }
}

func TestSamplerLostGPU(t *testing.T) {
	m := gputest.NewMachine(gpus.H100_SXM5_80GB, 3)
	// GPU 1 answers power at samples 0 and 1, then is lost.
	calls := 0
	m.GPUs[1].Device.GetPowerUsageFunc = func() (uint32, nvml.Return) {
		calls++
		if calls > 2 {
			return 0, nvml.ERROR_GPU_IS_LOST
		}
		return 250_000, nvml.SUCCESS
	}
	// GPU 2 has no energy counter.
	m.GPUs[2].Device.GetTotalEnergyConsumptionFunc = func() (uint64, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := NewSampler(m.Lib)
	if err != nil {
		t.Fatal(err)
	}
	now := fakeClock(start, 100*time.Millisecond)
	for range 5 {
		// GPU 0's energy counter grows by 10 J (10000 mJ) per 0.1 s.
		s.Sample(now())
		m.GPUs[0].EnergyMJ += 10_000
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	series := s.Series()
	if got := len(series[0].Samples); got != 5 {
		t.Errorf("gpu 0 samples: got %d, want 5", got)
	}
	if got := len(series[2].Samples); got != 5 {
		t.Errorf("gpu 2 samples: got %d, want 5", got)
	}
	lost := series[1]
	if len(lost.Samples) != 2 || lost.LostAtS == nil || *lost.LostAtS < 0.2-1e-9 || *lost.LostAtS > 0.2+1e-9 || !strings.Contains(lost.Error, "ERROR_GPU_IS_LOST") {
		t.Errorf("gpu 1: got %d samples, lostAtS %v, error %q, want 2, 0.2, ERROR_GPU_IS_LOST", len(lost.Samples), lost.LostAtS, lost.Error)
	}
	if series[0].Error != "" || series[0].LostAtS != nil {
		t.Errorf("gpu 0 marked: error %q lostAtS %v", series[0].Error, series[0].LostAtS)
	}
	// Four steps of 10000 mJ between the first and last sample: 40 J.
	sum := Summarize(series[0])
	if sum.EnergyJ == nil || *sum.EnergyJ != 40 || sum.EnergySource != EnergyCounter {
		t.Errorf("gpu 0 energy: got %v %q, want 40 J from the counter", sum.EnergyJ, sum.EnergySource)
	}
	// GPU 2: constant 100 W over 0.4 s by the power integral: 40 J.
	sum = Summarize(series[2])
	if sum.EnergyJ == nil || *sum.EnergyJ < 40-1e-9 || *sum.EnergyJ > 40+1e-9 || sum.EnergySource != EnergyPowerIntegral {
		t.Errorf("gpu 2 energy: got %v %q, want 40 J from the power integral", sum.EnergyJ, sum.EnergySource)
	}
	if len(series[2].Missing) != 1 || series[2].Missing[0].Field != "energyMJ" || series[2].Samples[0].EnergyMJ != nil {
		t.Errorf("gpu 2 missing: got %v, want energyMJ only and nil counters", series[2].Missing)
	}
}

func TestSamplerRun(t *testing.T) {
	m := gputest.NewMachine(gpus.H200_SXM5_141GB, 2)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := NewSampler(m.Lib)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx, ticks, fakeClock(start, time.Second)); close(done) }()
	// One sample at start, three ticks, one at the end: five samples at 0..4 s.
	for range 3 {
		ticks <- time.Time{}
	}
	cancel()
	<-done
	for _, x := range s.Series() {
		if len(x.Samples) != 5 {
			t.Fatalf("gpu %d samples: got %d, want 5", x.Index, len(x.Samples))
		}
		if first, last := x.Samples[0].TimeS, x.Samples[4].TimeS; first != 0 || last != 4 {
			t.Errorf("gpu %d times: got %v..%v, want 0..4", x.Index, first, last)
		}
	}
}
