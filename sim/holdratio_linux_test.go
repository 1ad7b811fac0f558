package sim

import (
	"flag"
	"fmt"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"unsafe"
)

var holdRatio = flag.Bool("holdratio", false, "run TestHoldRatio, the interleaved kernel-versus-bare-heap comparison")

// threadCPUSeconds returns the calling thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID), which, unlike wall time, does not count time
// spent descheduled by other processes on a busy machine.
func threadCPUSeconds() float64 {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3 // from <linux/time.h>
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return float64(ts.Sec) + float64(ts.Nsec)/1e9
}

// TestHoldRatio compares the kernel with the bare binary heap in the hold
// model on a shared, noisy machine: it alternates 15 rounds of 2·10^6 events
// each, times them in thread CPU time after a warm-up of n events, and prints
// the median rates and the median of the per-round ratios. Run it with
//
//	go test -count=1 -run TestHoldRatio -v ./sim/ -args -holdratio
func TestHoldRatio(t *testing.T) {
	if !*holdRatio {
		t.Skip("measurement only; enable with -holdratio")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	inc := holdIncrements()
	const rounds, ops = 15, 2_000_000
	for _, n := range []int{1e3, 1e4, 1e5, 1e6} {
		var kr, br, ratio []float64
		for range rounds {
			a, b := holdKernelRate(n, ops, inc), holdBareRate(n, ops, inc)
			kr, br, ratio = append(kr, a), append(br, b), append(ratio, a/b)
		}
		slices.Sort(kr)
		slices.Sort(br)
		slices.Sort(ratio)
		fmt.Printf("pending=%-8d kernel %6.2f M events/s  bare heap %6.2f M events/s  kernel/bare median %.2f (range %.2f-%.2f)\n",
			n, kr[rounds/2]/1e6, br[rounds/2]/1e6, ratio[rounds/2], ratio[0], ratio[rounds-1])
	}
}

func holdKernelRate(n, ops int, inc []int64) float64 {
	k := NewKernel()
	k.Reserve(n + 1)
	for i := range n {
		k.Schedule(Time(inc[i&(holdTableSize-1)]), 0, 1, int32(i), 0)
	}
	step := func(i int) {
		ev, _ := k.Next()
		k.Schedule(ev.At+Time(inc[i&(holdTableSize-1)]), 0, ev.Kind, ev.Ref, ev.Gen)
	}
	for i := range n {
		step(i)
	}
	start := threadCPUSeconds()
	for i := range ops {
		step(i)
	}
	return float64(ops) / (threadCPUSeconds() - start)
}

func holdBareRate(n, ops int, inc []int64) float64 {
	h := make(bareHeap, 0, n+1)
	var seq uint64
	for i := range n {
		h.push(bareItem{inc[i&(holdTableSize-1)], seq})
		seq++
	}
	step := func(i int) {
		x := h.pop()
		h.push(bareItem{x.t + inc[i&(holdTableSize-1)], seq})
		seq++
	}
	for i := range n {
		step(i)
	}
	start := threadCPUSeconds()
	for i := range ops {
		step(i)
	}
	return float64(ops) / (threadCPUSeconds() - start)
}
