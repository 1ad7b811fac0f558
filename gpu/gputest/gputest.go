//go:build cgo

package gputest

import (
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/gpus"
)

// GPU is one scripted GPU: its mock answers from the exported fields, read
// at each call. Replace a function field of Device (e.g.
// Device.GetPowerUsageFunc) to inject an error.
type GPU struct {
	Device *mock.Device
	Config gpus.Config
	UUID   string
	Memory nvml.Memory
	// PowerMW and PowerLimitMW are in milliwatts, EnergyMJ in millijoules,
	// clocks in MHz, TemperatureC in degrees Celsius.
	PowerMW, PowerLimitMW  uint32
	EnergyMJ               uint64
	SMClock, SMClockMax    uint32
	MemClock, MemClockMax  uint32
	TemperatureC           uint32
	Utilization            nvml.Utilization
	MIGCurrent, MIGPending int
	PCIeGen, PCIeWidth     int
	// NVLinks is the number of links the device has, all enabled; links
	// past it answer ERROR_INVALID_ARGUMENT.
	NVLinks int
}

// Machine is a mock NVML library with its GPUs.
type Machine struct {
	Lib  *mock.Interface
	GPUs []*GPU
}

// NewMachine builds a machine of n GPUs of cfg (for example
// gpus.H100_SXM5_80GB, the GPU of the go-nvml dgxh100 mock). Memory total
// is cfg.MemoryMB MiB, as in go-nvml's mock server. The other values are
// plausible scripted readings, not measurements: 18 NVLinks (H100 and H200
// SXM have 18 NVLink 4 links, NVIDIA H100 datasheet), PCIe Gen5 x16.
func NewMachine(cfg gpus.Config, n int) *Machine {
	m := &Machine{Lib: &mock.Interface{}}
	for i := range n {
		g := &GPU{
			Device: &mock.Device{}, Config: cfg,
			UUID:    fmt.Sprintf("GPU-00000000-0000-0000-0000-%012d", i),
			Memory:  nvml.Memory{Total: cfg.MemoryMB << 20, Used: 1 << 30, Free: cfg.MemoryMB<<20 - 1<<30},
			PowerMW: 100_000, PowerLimitMW: 700_000, EnergyMJ: 1_000_000,
			SMClock: 1980, SMClockMax: 1980, MemClock: 2619, MemClockMax: 2619,
			TemperatureC: 40, Utilization: nvml.Utilization{Gpu: 0, Memory: 0},
			PCIeGen: 5, PCIeWidth: 16, NVLinks: 18,
		}
		g.script()
		m.GPUs = append(m.GPUs, g)
	}
	m.Lib.InitFunc = func() nvml.Return { return nvml.SUCCESS }
	m.Lib.ShutdownFunc = func() nvml.Return { return nvml.SUCCESS }
	m.Lib.DeviceGetCountFunc = func() (int, nvml.Return) { return len(m.GPUs), nvml.SUCCESS }
	m.Lib.DeviceGetHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
		if i < 0 || i >= len(m.GPUs) {
			return nil, nvml.ERROR_INVALID_ARGUMENT
		}
		return m.GPUs[i].Device, nvml.SUCCESS
	}
	return m
}

func (g *GPU) script() {
	d := g.Device
	d.GetNameFunc = func() (string, nvml.Return) { return g.Config.Name, nvml.SUCCESS }
	d.GetUUIDFunc = func() (string, nvml.Return) { return g.UUID, nvml.SUCCESS }
	d.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) { return g.Memory, nvml.SUCCESS }
	d.GetClockInfoFunc = func(c nvml.ClockType) (uint32, nvml.Return) {
		switch c {
		case nvml.CLOCK_SM:
			return g.SMClock, nvml.SUCCESS
		case nvml.CLOCK_MEM:
			return g.MemClock, nvml.SUCCESS
		}
		return 0, nvml.ERROR_NOT_SUPPORTED
	}
	d.GetMaxClockInfoFunc = func(c nvml.ClockType) (uint32, nvml.Return) {
		switch c {
		case nvml.CLOCK_SM:
			return g.SMClockMax, nvml.SUCCESS
		case nvml.CLOCK_MEM:
			return g.MemClockMax, nvml.SUCCESS
		}
		return 0, nvml.ERROR_NOT_SUPPORTED
	}
	d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return g.PowerMW, nvml.SUCCESS }
	d.GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) { return g.PowerLimitMW, nvml.SUCCESS }
	d.GetTotalEnergyConsumptionFunc = func() (uint64, nvml.Return) { return g.EnergyMJ, nvml.SUCCESS }
	d.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return g.TemperatureC, nvml.SUCCESS }
	d.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) { return g.Utilization, nvml.SUCCESS }
	d.GetMigModeFunc = func() (int, int, nvml.Return) { return g.MIGCurrent, g.MIGPending, nvml.SUCCESS }
	d.GetCurrPcieLinkGenerationFunc = func() (int, nvml.Return) { return g.PCIeGen, nvml.SUCCESS }
	d.GetCurrPcieLinkWidthFunc = func() (int, nvml.Return) { return g.PCIeWidth, nvml.SUCCESS }
	d.GetNvLinkStateFunc = func(link int) (nvml.EnableState, nvml.Return) {
		if link < 0 || link >= g.NVLinks {
			return 0, nvml.ERROR_INVALID_ARGUMENT
		}
		return nvml.FEATURE_ENABLED, nvml.SUCCESS
	}
}
