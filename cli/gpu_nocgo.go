//go:build !cgo

package cli

import "github.com/fleetsim/fleetsim/gpu"

// gpuInventory fails: NVML needs cgo.
func gpuInventory(*gpuInventoryFlags, Streams) error { return gpu.ErrNoCgo }

// gpuSample fails: NVML needs cgo.
func gpuSample(*gpuSampleFlags, []string, Streams) error { return gpu.ErrNoCgo }
