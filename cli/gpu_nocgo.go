//go:build !cgo

package cli

import (
	"time"

	"github.com/fleetsim/fleetsim/gpu"
)

// gpuInventory fails: NVML needs cgo.
func gpuInventory(*gpuInventoryFlags, Streams) error { return gpu.ErrNoCgo }

// gpuSample fails: NVML needs cgo.
func gpuSample(*gpuSampleFlags, []string, Streams) error { return gpu.ErrNoCgo }

type benchSampler struct{}

func startBenchSampling(time.Duration) (*benchSampler, error) { return nil, gpu.ErrNoCgo }

func (*benchSampler) since(time.Time) float64 { return 0 }

func (*benchSampler) stop() []gpu.Series { return nil }
