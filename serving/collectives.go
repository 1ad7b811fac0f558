package serving

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
)

// allReduceCSV is the measured all-reduce table: NCCL all_reduce medians
// at rank 0 on one DGX A100 and one DGX H100 node, 2, 4 and 8 GPUs, from
// Vidur's profiling (see data/README.md for source, license and subset).
//
//go:embed data/allreduce.csv
var allReduceCSV []byte

// allReduceTable is one measured series: the time of an all-reduce against
// its size, for one topology and GPU count.
type allReduceTable struct {
	logSize []float64 // ln(bytes), increasing
	logTime []float64 // ln(seconds), non-decreasing
	size    []float64 // bytes
	time    []float64 // seconds, made non-decreasing (isotonic fit)
	// secPerByte is the slope of time against size fitted (least squares)
	// on the sizes of at least a quarter of the largest; above the largest
	// size the time grows by it from the last point.
	secPerByte float64
}

// allReduceGPUs is the number of GPUs of each measured series, in the
// order of the tables of a family.
var allReduceGPUs = [3]int{2, 4, 8}

// allReduceFamily holds the three series (2, 4 and 8 GPUs) of one node type.
type allReduceFamily [3]allReduceTable

// The measured families, built once from allReduceCSV and never written
// afterwards.
var allReduceA100, allReduceH100 = mustAllReduceFamilies(allReduceCSV)

// h100NVLinkGBs is the one-way NVLink bandwidth per GPU of the H100 SXM
// (the catalog's h100 InterconnectGBs, NVIDIA H100 datasheet, 900 GB/s
// bidirectional), the reference AllReduceSeconds scales other GPUs by.
const h100NVLinkGBs = 450

// AllReduceSeconds is the time of one all-reduce of `bytes` bytes across tp
// GPUs of one node of gpu.
//
// It reads Vidur's measured NCCL all-reduce medians (rank 0) on DGX A100
// and DGX H100 nodes with 2, 4 and 8 GPUs: log-log interpolation in size
// within the measured range (2 KiB to 64 MiB), the smallest measured time
// below it, and above it the last measured time plus the extra bytes at
// the bandwidth fitted on the largest sizes. The measured medians are
// noisy at small sizes (±15 µs around a 20-60 µs latency floor), so each
// series is first replaced by its least-squares non-decreasing fit
// (isotonic regression: falling runs become their mean); the result never
// falls as bytes grow.
//
// Which series:
//   - a100-80gb and a100-40gb use the DGX A100 series; h100 and h200 the
//     DGX H100 series (the same NVLink 4 and NVSwitch generation).
//   - Every other GPU uses the DGX H100 series with the time above the
//     series' smallest time (its latency floor) scaled by 450 GB/s ÷ the
//     GPU's InterconnectGBs (PCIeGBs when InterconnectGBs is 0). That
//     treats the latency floor as the same and the bandwidth part as
//     proportional to the link: an assumption, not a measurement.
//   - tp 3 uses the 4-GPU series and 5 to 7 the 8-GPU series (an upper
//     bound). Above 8 it uses the 8-GPU series with the part above the
//     latency floor scaled by the ring all-reduce's traffic factor,
//     (tp−1)/tp ÷ 7/8: an extrapolation beyond one node's measurements.
//
// tp <= 1, and bytes <= 0 or NaN, give 0. It does not allocate.
func AllReduceSeconds(gpu GPU, tp int, bytes float64) float64 {
	if tp <= 1 || !(bytes > 0) {
		return 0
	}
	fam := &allReduceH100
	scale := 1.0
	switch gpu.ID {
	case "a100-80gb", "a100-40gb":
		fam = &allReduceA100
	case "h100", "h200":
	default:
		bw := gpu.InterconnectGBs
		if bw <= 0 {
			bw = gpu.PCIeGBs
		}
		if bw > 0 {
			scale = h100NVLinkGBs / bw
		}
	}
	var tab *allReduceTable
	switch {
	case tp == 2:
		tab = &fam[0]
	case tp <= 4:
		tab = &fam[1]
	default:
		tab = &fam[2]
		if tp > 8 {
			scale *= (float64(tp-1) / float64(tp)) / (7.0 / 8.0)
		}
	}
	t := tab.seconds(bytes)
	if scale != 1 {
		floor := tab.time[0]
		t = floor + (t-floor)*scale
	}
	return t
}

// seconds interpolates the table at size b > 0.
func (t *allReduceTable) seconds(b float64) float64 {
	n := len(t.size)
	if b <= t.size[0] {
		return t.time[0]
	}
	if b >= t.size[n-1] {
		return t.time[n-1] + (b-t.size[n-1])*t.secPerByte
	}
	// Binary search for the segment [i-1, i] that holds b.
	lo, hi := 1, n-1
	for lo < hi {
		mid := (lo + hi) / 2
		if t.size[mid] < b {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	i := lo
	if b == t.size[i] {
		return t.time[i]
	}
	lo0, hi0 := t.time[i-1], t.time[i]
	if lo0 == hi0 {
		return lo0
	}
	f := (math.Log(b) - t.logSize[i-1]) / (t.logSize[i] - t.logSize[i-1])
	// Clamp to the segment's ends against rounding in Log and Exp, so the
	// result stays non-decreasing in b.
	return min(max(math.Exp(t.logTime[i-1]+f*(t.logTime[i]-t.logTime[i-1])), lo0), hi0)
}

// mustAllReduceFamilies parses the embedded table. The table is a file of
// this package, so a malformed one is a programmer error: it panics.
func mustAllReduceFamilies(data []byte) (a100, h100 allReduceFamily) {
	a100, h100, err := parseAllReduce(data)
	if err != nil {
		panic(fmt.Sprintf("serving: embedded data/allreduce.csv: %v", err))
	}
	return a100, h100
}

// parseAllReduce reads the all-reduce table: header topology, num_workers,
// size_bytes, median_ms; topologies a100_dgx and h100_dgx, each with
// 2, 4 and 8 workers, sizes strictly increasing within a series.
func parseAllReduce(data []byte) (a100, h100 allReduceFamily, err error) {
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return a100, h100, err
	}
	if len(recs) == 0 || fmt.Sprint(recs[0]) != "[topology num_workers size_bytes median_ms]" {
		return a100, h100, fmt.Errorf("want header topology,num_workers,size_bytes,median_ms")
	}
	for li, r := range recs[1:] {
		line := li + 2
		var fam *allReduceFamily
		switch r[0] {
		case "a100_dgx":
			fam = &a100
		case "h100_dgx":
			fam = &h100
		default:
			return a100, h100, fmt.Errorf("line %d: unknown topology %q", line, r[0])
		}
		w, err := strconv.Atoi(r[1])
		idx := -1
		for i, g := range allReduceGPUs {
			if g == w {
				idx = i
			}
		}
		if err != nil || idx < 0 {
			return a100, h100, fmt.Errorf("line %d: num_workers %q: want 2, 4 or 8", line, r[1])
		}
		size, err1 := strconv.ParseFloat(r[2], 64)
		ms, err2 := strconv.ParseFloat(r[3], 64)
		if err1 != nil || err2 != nil || !(size > 0) || !(ms > 0) {
			return a100, h100, fmt.Errorf("line %d: size %q and median %q must be positive numbers", line, r[2], r[3])
		}
		t := &fam[idx]
		if n := len(t.size); n > 0 && size <= t.size[n-1] {
			return a100, h100, fmt.Errorf("line %d: sizes must increase", line)
		}
		t.size = append(t.size, size)
		t.time = append(t.time, ms/1e3)
		t.logSize = append(t.logSize, math.Log(size))
	}
	for _, fam := range []*allReduceFamily{&a100, &h100} {
		for i := range fam {
			t := &fam[i]
			if len(t.size) < 2 {
				return a100, h100, fmt.Errorf("series of %d gpus: got %d sizes, want at least 2", allReduceGPUs[i], len(t.size))
			}
			isotonic(t.time)
			for _, s := range t.time {
				t.logTime = append(t.logTime, math.Log(s))
			}
			t.secPerByte = fitSlope(t.size, t.time, t.size[len(t.size)-1]/4)
		}
	}
	return a100, h100, nil
}

// isotonic replaces y by its least-squares non-decreasing fit (the pool
// adjacent violators algorithm): every run of values that falls is
// replaced by its mean. It keeps the sum of y.
func isotonic(y []float64) {
	type block struct {
		sum float64
		n   int
	}
	blocks := make([]block, 0, len(y))
	for _, v := range y {
		blocks = append(blocks, block{v, 1})
		for len(blocks) > 1 {
			a, b := blocks[len(blocks)-2], blocks[len(blocks)-1]
			if a.sum/float64(a.n) <= b.sum/float64(b.n) {
				break
			}
			blocks = blocks[:len(blocks)-2]
			blocks = append(blocks, block{a.sum + b.sum, a.n + b.n})
		}
	}
	i := 0
	for _, b := range blocks {
		for range b.n {
			y[i] = b.sum / float64(b.n)
			i++
		}
	}
}

// fitSlope returns the least-squares slope of y against x over the points
// with x >= from, or, if that is not positive, the slope from the first to
// the last point (positive for a non-decreasing series that rises).
func fitSlope(x, y []float64, from float64) float64 {
	var n, sx, sy, sxx, sxy float64
	for i := range x {
		if x[i] < from {
			continue
		}
		n++
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		sxy += x[i] * y[i]
	}
	if n >= 2 {
		if d := n*sxx - sx*sx; d > 0 {
			if s := (n*sxy - sx*sy) / d; s > 0 {
				return s
			}
		}
	}
	last := len(x) - 1
	return math.Max(0, (y[last]-y[0])/(x[last]-x[0]))
}
