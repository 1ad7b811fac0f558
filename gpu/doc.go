// Package gpu reads real NVIDIA GPUs through NVML: an inventory of the GPUs
// of a machine matched to the fleetsim GPU catalog (Inventory), and power,
// energy, clock, utilization and memory time series sampled while a workload
// runs (Sampler), with a per-GPU summary and CSV and JSON writers.
//
// Everything that calls NVML works on an nvml.Interface from
// github.com/NVIDIA/go-nvml, so tests pass mocks and programs pass
// nvml.New(). go-nvml needs cgo: the files that import it build only with
// cgo, and a binary built with CGO_ENABLED=0 has only the pure parts of this
// package (catalog matching, series, summaries, writers) and ErrNoCgo.
//
// A field that NVML does not support on a device is recorded as missing
// (a nil pointer, listed in Missing with the reason), never as zero, and is
// not an error. See docs/gpu.md.
package gpu
