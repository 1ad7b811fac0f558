package gpu

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrNoCgo is returned where NVML is needed in a binary built without cgo.
var ErrNoCgo = errors.New("NVML support is not compiled into this binary (built without cgo)")

// Missing names a field NVML did not give and why (the NVML return code,
// e.g. ERROR_NOT_SUPPORTED).
type Missing struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Sample is one reading of one GPU. A nil field is missing: NVML did not
// give it for this sample.
type Sample struct {
	// TimeS is the offset from the first sample, in seconds.
	TimeS float64 `json:"timeS"`
	// PowerW is the power draw in watts (NVML reports milliwatts).
	PowerW *float64 `json:"powerW"`
	// EnergyMJ is the GPU's total energy counter in millijoules since the
	// driver was loaded (nvmlDeviceGetTotalEnergyConsumption).
	EnergyMJ *uint64 `json:"energyMJ"`
	// SMClockMHz and MemClockMHz are the current clocks in MHz.
	SMClockMHz  *uint32 `json:"smClockMHz"`
	MemClockMHz *uint32 `json:"memClockMHz"`
	// GPUUtilPct is the GPU utilization in percent over NVML's last sample
	// period.
	GPUUtilPct *uint32 `json:"gpuUtilPct"`
	// MemUsedBytes is the device memory in use, in bytes.
	MemUsedBytes *uint64 `json:"memUsedBytes"`
}

// Series is the time series of one GPU.
type Series struct {
	Index   int      `json:"index"`
	UUID    string   `json:"uuid"`
	Name    string   `json:"name"`
	Samples []Sample `json:"samples"`
	// Missing lists each field that was missing in at least one sample,
	// with the first reason seen, in the order first seen.
	Missing []Missing `json:"missing,omitempty"`
	// Error is the error that stopped sampling this GPU, "" when none.
	Error string `json:"error,omitempty"`
	// LostAtS is the offset in seconds at which the GPU was lost
	// (ERROR_GPU_IS_LOST); nil when it was not.
	LostAtS *float64 `json:"lostAtS,omitempty"`
}

// Energy sources of a Summary.
const (
	// EnergyCounter: the difference of the GPU's energy counter between the
	// first and last sample.
	EnergyCounter = "counter"
	// EnergyPowerIntegral: the trapezoid integral of the sampled power.
	EnergyPowerIntegral = "power-integral"
)

// Summary sums up one Series. A nil field could not be computed because the
// samples lack it.
type Summary struct {
	Index int    `json:"index"`
	UUID  string `json:"uuid"`
	Name  string `json:"name"`
	// Samples is the number of samples; DurationS the time from the first to
	// the last, in seconds.
	Samples   int     `json:"samples"`
	DurationS float64 `json:"durationS"`
	// MeanPowerW is the time-weighted mean power (the trapezoid integral
	// over the duration; the single reading when there is one); PeakPowerW
	// the largest sample.
	MeanPowerW *float64 `json:"meanPowerW"`
	PeakPowerW *float64 `json:"peakPowerW"`
	// EnergyJ is the energy used over the duration in joules, from
	// EnergySource (EnergyCounter or EnergyPowerIntegral).
	EnergyJ      *float64 `json:"energyJ"`
	EnergySource string   `json:"energySource,omitempty"`
	// MeanGPUUtilPct is the mean of the utilization samples, in percent.
	MeanGPUUtilPct *float64 `json:"meanGpuUtilPct"`
	// PeakMemUsedBytes is the largest memory-in-use sample, in bytes.
	PeakMemUsedBytes *uint64 `json:"peakMemUsedBytes"`
	// Error and LostAtS are copied from the Series.
	Error   string   `json:"error,omitempty"`
	LostAtS *float64 `json:"lostAtS,omitempty"`
}

// Summarize sums up s. Energy comes from the energy counter when the first
// and last samples both have it and it did not go backwards; otherwise from
// the trapezoid integral of power over the samples that have power.
func Summarize(s Series) Summary {
	sum := Summary{Index: s.Index, UUID: s.UUID, Name: s.Name, Samples: len(s.Samples), Error: s.Error, LostAtS: s.LostAtS}
	if n := len(s.Samples); n > 0 {
		sum.DurationS = s.Samples[n-1].TimeS - s.Samples[0].TimeS
	}
	var (
		integral, peak, lastT, lastP, firstT float64
		nPower                               int
		utilSum                              float64
		nUtil                                int
	)
	for _, x := range s.Samples {
		if x.PowerW != nil {
			p := *x.PowerW
			if nPower == 0 {
				firstT, peak = x.TimeS, p
			} else {
				integral += (x.TimeS - lastT) * (p + lastP) / 2
				peak = max(peak, p)
			}
			lastT, lastP = x.TimeS, p
			nPower++
		}
		if x.GPUUtilPct != nil {
			utilSum += float64(*x.GPUUtilPct)
			nUtil++
		}
		if x.MemUsedBytes != nil && (sum.PeakMemUsedBytes == nil || *x.MemUsedBytes > *sum.PeakMemUsedBytes) {
			v := *x.MemUsedBytes
			sum.PeakMemUsedBytes = &v
		}
	}
	if nPower > 0 {
		sum.PeakPowerW = &peak
		mean := lastP
		if span := lastT - firstT; span > 0 {
			mean = integral / span
		}
		sum.MeanPowerW = &mean
	}
	if nUtil > 0 {
		u := utilSum / float64(nUtil)
		sum.MeanGPUUtilPct = &u
	}
	if n := len(s.Samples); n >= 2 {
		a, b := s.Samples[0].EnergyMJ, s.Samples[n-1].EnergyMJ
		switch {
		case a != nil && b != nil && *b >= *a:
			e := float64(*b-*a) / 1000
			sum.EnergyJ, sum.EnergySource = &e, EnergyCounter
		case nPower >= 2:
			e := integral
			sum.EnergyJ, sum.EnergySource = &e, EnergyPowerIntegral
		}
	}
	return sum
}

// CSVHeader is the header row WriteCSV writes; its columns are stable.
var CSVHeader = []string{"gpu", "uuid", "time_s", "power_w", "energy_mj", "sm_clock_mhz", "mem_clock_mhz", "gpu_util_pct", "mem_used_bytes"}

// WriteCSV writes the series as CSV: CSVHeader, then one row per sample,
// GPU by GPU in the order given, samples in time order. A missing field is
// an empty cell.
func WriteCSV(w io.Writer, series []Series) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, s := range series {
		for _, x := range s.Samples {
			row := []string{
				strconv.Itoa(s.Index), s.UUID, strconv.FormatFloat(x.TimeS, 'f', 3, 64),
				optFloat(x.PowerW), optUint(x.EnergyMJ), optUint32(x.SMClockMHz), optUint32(x.MemClockMHz),
				optUint32(x.GPUUtilPct), optUint(x.MemUsedBytes),
			}
			if err := cw.Write(row); err != nil {
				return fmt.Errorf("write csv: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// Report is what WriteJSON writes: the sampling interval, the summary and
// the series of every GPU.
type Report struct {
	IntervalS float64   `json:"intervalS"`
	Summary   []Summary `json:"summary"`
	GPUs      []Series  `json:"gpus"`
}

// WriteJSON writes the series and their summaries as an indented Report.
func WriteJSON(w io.Writer, intervalS float64, series []Series) error {
	r := Report{IntervalS: intervalS, Summary: make([]Summary, len(series)), GPUs: series}
	for i, s := range series {
		r.Summary[i] = Summarize(s)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

func optFloat(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', 3, 64)
}

func optUint(v *uint64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatUint(*v, 10)
}

func optUint32(v *uint32) string {
	if v == nil {
		return ""
	}
	return strconv.FormatUint(uint64(*v), 10)
}
