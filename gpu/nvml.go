//go:build cgo

package gpu

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// Device is one GPU of an Inventory. A nil field is missing: NVML does not
// support it on this device (or refused it), and Missing says why.
type Device struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	UUID  string `json:"uuid"`
	// MemoryTotalBytes and MemoryUsedBytes are device memory in bytes.
	MemoryTotalBytes *uint64 `json:"memoryTotalBytes"`
	MemoryUsedBytes  *uint64 `json:"memoryUsedBytes"`
	// SM and memory clocks, current and maximum, in MHz.
	SMClockMHz     *uint32 `json:"smClockMHz"`
	SMClockMaxMHz  *uint32 `json:"smClockMaxMHz"`
	MemClockMHz    *uint32 `json:"memClockMHz"`
	MemClockMaxMHz *uint32 `json:"memClockMaxMHz"`
	// PowerW is the power draw and PowerLimitW the enforced power limit, in
	// watts.
	PowerW      *float64 `json:"powerW"`
	PowerLimitW *float64 `json:"powerLimitW"`
	// TemperatureC is the GPU core temperature in degrees Celsius.
	TemperatureC *uint32 `json:"temperatureC"`
	// GPUUtilPct and MemUtilPct are GPU and memory-controller utilization in
	// percent.
	GPUUtilPct *uint32 `json:"gpuUtilPct"`
	MemUtilPct *uint32 `json:"memUtilPct"`
	// MIGCurrent and MIGPending are whether MIG mode is enabled now and
	// after the next GPU reset.
	MIGCurrent *bool `json:"migCurrent"`
	MIGPending *bool `json:"migPending"`
	// PCIeGen and PCIeWidth are the current PCIe link generation and width
	// (lanes).
	PCIeGen   *int `json:"pcieGen"`
	PCIeWidth *int `json:"pcieWidth"`
	// NVLinksActive is the number of NVLink links whose state is enabled,
	// querying links 0 to nvml.NVLINK_MAX_LINKS-1.
	NVLinksActive *int `json:"nvlinksActive"`
	// Catalog is the matched fleetsim catalog id (or NoMatch) and
	// CatalogReason why (see MatchCatalog).
	Catalog       string `json:"catalog"`
	CatalogReason string `json:"catalogReason"`
	// Missing lists the fields NVML did not give, with the reason.
	Missing []Missing `json:"missing,omitempty"`
	// Error is set when the device could not be read at all.
	Error string `json:"error,omitempty"`
}

// ErrNoNVML wraps the error of an NVML that could not be initialised: no
// libnvidia-ml.so, no driver, or no permission.
var ErrNoNVML = errors.New("NVML / the NVIDIA driver was not found")

// initNVML initialises lib and returns a clear error when it cannot.
func initNVML(lib nvml.Interface) error {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		if ret == nvml.ERROR_LIBRARY_NOT_FOUND || ret == nvml.ERROR_DRIVER_NOT_LOADED {
			return fmt.Errorf("%w: nvml init: %v (is the NVIDIA driver installed and libnvidia-ml.so.1 on the library path?)", ErrNoNVML, ret)
		}
		return fmt.Errorf("%w: nvml init: %v", ErrNoNVML, ret)
	}
	return nil
}

// Inventory reads every GPU lib sees. It initialises and shuts down lib.
// It fails only when NVML cannot be initialised or cannot count the
// devices; a device that cannot be read has its Error set.
func Inventory(lib nvml.Interface) ([]Device, error) {
	if err := initNVML(lib); err != nil {
		return nil, err
	}
	defer lib.Shutdown()
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("nvml device count: %v", ret)
	}
	out := make([]Device, n)
	for i := range out {
		out[i] = readDevice(lib, i)
	}
	return out, nil
}

// fieldReader records missing fields of one device.
type fieldReader struct{ missing []Missing }

// ok reports whether ret is SUCCESS, recording field as missing otherwise.
func (f *fieldReader) ok(field string, ret nvml.Return) bool {
	if ret == nvml.SUCCESS {
		return true
	}
	for _, m := range f.missing {
		if m.Field == field {
			return false
		}
	}
	f.missing = append(f.missing, Missing{Field: field, Reason: ret.Error()})
	return false
}

// guard runs fn, turning a panic inside the NVML binding (an entry point
// the library or a mock does not implement) into a missing field instead of
// a crash.
func (f *fieldReader) guard(field string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			f.ok(field, nvml.ERROR_FUNCTION_NOT_FOUND)
		}
	}()
	fn()
}

func ptr[T any](v T) *T { return &v }

func readDevice(lib nvml.Interface, i int) Device {
	d := Device{Index: i, Catalog: NoMatch}
	h, ret := lib.DeviceGetHandleByIndex(i)
	if ret != nvml.SUCCESS {
		d.Error = fmt.Sprintf("nvml handle of device %d: %v", i, ret)
		d.CatalogReason = "device not readable"
		return d
	}
	f := &fieldReader{}
	f.guard("name", func() {
		if name, ret := h.GetName(); f.ok("name", ret) {
			d.Name = name
		}
	})
	f.guard("uuid", func() {
		if uuid, ret := h.GetUUID(); f.ok("uuid", ret) {
			d.UUID = uuid
		}
	})
	f.guard("memory", func() {
		if m, ret := h.GetMemoryInfo(); f.ok("memory", ret) {
			d.MemoryTotalBytes, d.MemoryUsedBytes = ptr(m.Total), ptr(m.Used)
		}
	})
	f.guard("smClockMHz", func() {
		if v, ret := h.GetClockInfo(nvml.CLOCK_SM); f.ok("smClockMHz", ret) {
			d.SMClockMHz = ptr(v)
		}
	})
	f.guard("smClockMaxMHz", func() {
		if v, ret := h.GetMaxClockInfo(nvml.CLOCK_SM); f.ok("smClockMaxMHz", ret) {
			d.SMClockMaxMHz = ptr(v)
		}
	})
	f.guard("memClockMHz", func() {
		if v, ret := h.GetClockInfo(nvml.CLOCK_MEM); f.ok("memClockMHz", ret) {
			d.MemClockMHz = ptr(v)
		}
	})
	f.guard("memClockMaxMHz", func() {
		if v, ret := h.GetMaxClockInfo(nvml.CLOCK_MEM); f.ok("memClockMaxMHz", ret) {
			d.MemClockMaxMHz = ptr(v)
		}
	})
	f.guard("powerW", func() {
		if v, ret := h.GetPowerUsage(); f.ok("powerW", ret) {
			d.PowerW = ptr(float64(v) / 1000) // NVML reports milliwatts
		}
	})
	f.guard("powerLimitW", func() {
		if v, ret := h.GetEnforcedPowerLimit(); f.ok("powerLimitW", ret) {
			d.PowerLimitW = ptr(float64(v) / 1000) // milliwatts
		}
	})
	f.guard("temperatureC", func() {
		if v, ret := h.GetTemperature(nvml.TEMPERATURE_GPU); f.ok("temperatureC", ret) {
			d.TemperatureC = ptr(v)
		}
	})
	f.guard("utilization", func() {
		if u, ret := h.GetUtilizationRates(); f.ok("utilization", ret) {
			d.GPUUtilPct, d.MemUtilPct = ptr(u.Gpu), ptr(u.Memory)
		}
	})
	f.guard("mig", func() {
		if cur, pend, ret := h.GetMigMode(); f.ok("mig", ret) {
			d.MIGCurrent, d.MIGPending = ptr(cur == nvml.DEVICE_MIG_ENABLE), ptr(pend == nvml.DEVICE_MIG_ENABLE)
		}
	})
	f.guard("pcieGen", func() {
		if v, ret := h.GetCurrPcieLinkGeneration(); f.ok("pcieGen", ret) {
			d.PCIeGen = ptr(v)
		}
	})
	f.guard("pcieWidth", func() {
		if v, ret := h.GetCurrPcieLinkWidth(); f.ok("pcieWidth", ret) {
			d.PCIeWidth = ptr(v)
		}
	})
	f.guard("nvlinksActive", func() {
		if n, ret := activeNVLinks(h); f.ok("nvlinksActive", ret) {
			d.NVLinksActive = ptr(n)
		}
	})
	d.Missing = f.missing
	var mem uint64
	if d.MemoryTotalBytes != nil {
		mem = *d.MemoryTotalBytes
	}
	d.Catalog, d.CatalogReason = MatchCatalog(d.Name, mem)
	return d
}

// activeNVLinks counts the links whose state is enabled. A link that
// answers ERROR_NOT_SUPPORTED or ERROR_INVALID_ARGUMENT (past the device's
// last link) is skipped; when no link answers, the first error is returned.
func activeNVLinks(h nvml.Device) (int, nvml.Return) {
	n, answered, first := 0, false, nvml.SUCCESS
	for link := 0; link < nvml.NVLINK_MAX_LINKS; link++ {
		st, ret := h.GetNvLinkState(link)
		if ret != nvml.SUCCESS {
			if first == nvml.SUCCESS {
				first = ret
			}
			if ret == nvml.ERROR_GPU_IS_LOST {
				return 0, ret
			}
			continue
		}
		answered = true
		if st == nvml.FEATURE_ENABLED {
			n++
		}
	}
	if !answered {
		return 0, first
	}
	return n, nvml.SUCCESS
}

// Sampler samples every GPU of an NVML library. Make one with NewSampler,
// call Sample at each instant (or Run), then Close.
type Sampler struct {
	lib     nvml.Interface
	start   time.Time
	started bool
	handles []nvml.Device
	series  []Series
	fields  []*fieldReader
	done    []bool
}

// NewSampler initialises lib and finds its GPUs. The first call of Sample
// is time zero of the series. Close must be called when done.
func NewSampler(lib nvml.Interface) (*Sampler, error) {
	if err := initNVML(lib); err != nil {
		return nil, err
	}
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		lib.Shutdown()
		return nil, fmt.Errorf("nvml device count: %v", ret)
	}
	s := &Sampler{lib: lib, handles: make([]nvml.Device, n), series: make([]Series, n),
		fields: make([]*fieldReader, n), done: make([]bool, n)}
	for i := range n {
		s.series[i].Index = i
		s.series[i].Samples = []Sample{}
		s.fields[i] = &fieldReader{}
		h, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			s.series[i].Error = fmt.Sprintf("nvml handle of device %d: %v", i, ret)
			s.done[i] = true
			continue
		}
		s.handles[i] = h
		if v, ret := h.GetName(); ret == nvml.SUCCESS {
			s.series[i].Name = v
		}
		if v, ret := h.GetUUID(); ret == nvml.SUCCESS {
			s.series[i].UUID = v
		}
	}
	return s, nil
}

// Sample reads every GPU still sampled at instant now and appends one
// sample to each series. A GPU that answers ERROR_GPU_IS_LOST keeps the
// samples taken so far, gets Error and LostAtS, and is not sampled again;
// a field a GPU does not give is nil in the sample and listed in Missing.
func (s *Sampler) Sample(now time.Time) {
	if !s.started {
		s.start, s.started = now, true
	}
	t := now.Sub(s.start).Seconds()
	for i, h := range s.handles {
		if s.done[i] {
			continue
		}
		x, lost := readSample(h, s.fields[i])
		if lost != nvml.SUCCESS {
			s.series[i].Error = fmt.Sprintf("gpu %d lost at %.3f s: %v", i, t, lost)
			s.series[i].LostAtS = ptr(t)
			s.done[i] = true
			continue
		}
		x.TimeS = t
		s.series[i].Samples = append(s.series[i].Samples, x)
	}
}

// readSample reads one sample; it returns ERROR_GPU_IS_LOST (and a partial
// sample) when the GPU is gone.
func readSample(h nvml.Device, f *fieldReader) (Sample, nvml.Return) {
	var x Sample
	lost := nvml.SUCCESS
	// read runs one NVML call (guarded) and reports whether the GPU is gone.
	read := func(field string, call func() nvml.Return) bool {
		ret := nvml.SUCCESS
		f.guard(field, func() { ret = call() })
		if ret == nvml.ERROR_GPU_IS_LOST {
			lost = ret
			return false
		}
		return true
	}
	steps := []struct {
		field string
		call  func() nvml.Return
	}{
		{"powerW", func() nvml.Return {
			p, ret := h.GetPowerUsage()
			if f.ok("powerW", ret) {
				x.PowerW = ptr(float64(p) / 1000) // milliwatts
			}
			return ret
		}},
		{"energyMJ", func() nvml.Return {
			e, ret := h.GetTotalEnergyConsumption()
			if f.ok("energyMJ", ret) {
				x.EnergyMJ = ptr(e)
			}
			return ret
		}},
		{"smClockMHz", func() nvml.Return {
			v, ret := h.GetClockInfo(nvml.CLOCK_SM)
			if f.ok("smClockMHz", ret) {
				x.SMClockMHz = ptr(v)
			}
			return ret
		}},
		{"memClockMHz", func() nvml.Return {
			v, ret := h.GetClockInfo(nvml.CLOCK_MEM)
			if f.ok("memClockMHz", ret) {
				x.MemClockMHz = ptr(v)
			}
			return ret
		}},
		{"gpuUtilPct", func() nvml.Return {
			u, ret := h.GetUtilizationRates()
			if f.ok("gpuUtilPct", ret) {
				x.GPUUtilPct = ptr(u.Gpu)
			}
			return ret
		}},
		{"memUsedBytes", func() nvml.Return {
			m, ret := h.GetMemoryInfo()
			if f.ok("memUsedBytes", ret) {
				x.MemUsedBytes = ptr(m.Used)
			}
			return ret
		}},
	}
	for _, st := range steps {
		if !read(st.field, st.call) {
			return x, lost
		}
	}
	return x, nvml.SUCCESS
}

// Run samples at the instant it is called, at every tick of ticks, and
// once more when ctx is done, then returns. now gives the instant of each
// sample (time.Now in programs, a scripted clock in tests).
func (s *Sampler) Run(ctx context.Context, ticks <-chan time.Time, now func() time.Time) {
	s.Sample(now())
	for {
		select {
		case <-ctx.Done():
			s.Sample(now())
			return
		case <-ticks:
			s.Sample(now())
		}
	}
}

// Series returns the series sampled so far, one per GPU in index order
// (the sampler's own slices: do not modify them while sampling).
func (s *Sampler) Series() []Series {
	out := make([]Series, len(s.series))
	for i, x := range s.series {
		x.Missing = s.fields[i].missing
		out[i] = x
	}
	return out
}

// Close shuts NVML down. The series stay readable.
func (s *Sampler) Close() error {
	if ret := s.lib.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("nvml shutdown: %v", ret)
	}
	return nil
}
