package metrics

import (
	"math"
	"strconv"
)

// The tracked range and its resolution. Values in [RangeLow, RangeHigh] fall
// in log-linear buckets: each binade [2^e, 2^(e+1)) is split into 2^subBits
// equal sub-buckets, so a bucket is at most 2^-subBits of its lower bound
// wide, and its midpoint is within RelativeError of any value in it.
const (
	// RangeLow is the smallest value tracked with bounded relative error.
	// Smaller values (including zero) are counted in an underflow bucket.
	RangeLow = 1e-3
	// RangeHigh is the largest value tracked with bounded relative error.
	// Larger values are counted in an overflow bucket.
	RangeHigh = 1e9
	// RelativeError bounds |estimate - exact| / exact for a quantile whose
	// exact sample lies in [RangeLow, RangeHigh]: half a bucket width over
	// the bucket's lower bound, 2^-(subBits+1) = 1/128 ≈ 0.78%.
	RelativeError = 1.0 / (2 << subBits)
)

const (
	// subBits is the number of float64 mantissa bits kept: 64 sub-buckets
	// per binade.
	subBits = 6
	// minExp and maxExp are the binary exponents of the lowest and highest
	// binades: 2^-10 ≈ 0.000977 <= RangeLow and RangeHigh < 2^30.
	minExp = -10
	maxExp = 29
	// numBuckets is 40 binades of 64 sub-buckets.
	numBuckets = (maxExp - minExp + 1) << subBits
	// mantShift drops the mantissa bits below the kept ones; for a positive
	// normal float64 the remaining bits are exponent<<subBits | sub-bucket.
	mantShift = 52 - subBits
	// bucketBase is the shifted bit pattern of 2^minExp, bucket 0's lower
	// bound.
	bucketBase = (1023 + minExp) << subBits
)

// Histogram is a streaming histogram of non-negative float64 values with
// fixed memory (about 20 KiB, independent of the number of samples). Count,
// Sum, Mean, Min and Max are exact (Sum up to float64 rounding, which
// compensated summation keeps to a few ulps); Quantile and
// FractionAtOrBelow work at bucket resolution. The zero value is an empty
// histogram ready to use. A Histogram is not safe for concurrent use.
type Histogram struct {
	counts   [numBuckets]uint64
	under    uint64  // values < RangeLow
	over     uint64  // values > RangeHigh
	nans     uint64  // NaNs passed to Add, not counted
	count    uint64  // values counted, including under and over
	sum      float64 // Neumaier compensated sum: sum + comp
	comp     float64
	min, max float64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{}
}

// bucket returns the bucket index of v, which must lie in
// [RangeLow, RangeHigh].
func bucket(v float64) int {
	return int(math.Float64bits(v)>>mantShift) - bucketBase
}

// bucketBounds returns bucket i's bounds [lo, hi).
func bucketBounds(i int) (lo, hi float64) {
	lo = math.Float64frombits(uint64(i+bucketBase) << mantShift)
	hi = math.Float64frombits(uint64(i+1+bucketBase) << mantShift)
	return lo, hi
}

// Add records v. A NaN is not recorded: it is counted apart (see NaNs) so
// that a model that divides by zero shows up without poisoning the
// statistics. +Inf is recorded as an overflow (Max and Sum become +Inf).
// Add panics if v is negative: the histogram holds durations and sizes, and
// a negative one is a programmer error.
func (h *Histogram) Add(v float64) {
	if !(v >= 0) {
		h.addInvalid(v)
		return
	}
	if v == 0 {
		v = 0 // turn -0 into +0
	}
	if h.count == 0 {
		h.min, h.max = v, v
	} else if v < h.min {
		h.min = v
	} else if v > h.max {
		h.max = v
	}
	h.count++
	// Neumaier's compensated summation; both terms are non-negative.
	t := h.sum + v
	if h.sum >= v {
		h.comp += (h.sum - t) + v
	} else {
		h.comp += (v - t) + h.sum
	}
	h.sum = t
	switch {
	case v < RangeLow:
		h.under++
	case v > RangeHigh:
		h.over++
	default:
		h.counts[bucket(v)]++
	}
}

// addInvalid handles a NaN or negative v, out of line so that Add stays
// small.
func (h *Histogram) addInvalid(v float64) {
	if math.IsNaN(v) {
		h.nans++
		return
	}
	panic("metrics: Histogram.Add of negative value " + formatFloat(v))
}

// Count returns the number of values recorded (NaNs excluded).
func (h *Histogram) Count() uint64 { return h.count }

// NaNs returns the number of NaNs passed to Add, which are not recorded.
func (h *Histogram) NaNs() uint64 { return h.nans }

// Underflow returns the number of recorded values below RangeLow.
func (h *Histogram) Underflow() uint64 { return h.under }

// Overflow returns the number of recorded values above RangeHigh.
func (h *Histogram) Overflow() uint64 { return h.over }

// Sum returns the sum of the recorded values, or 0 when empty. It is
// accumulated with Neumaier's compensated summation, so its error is a few
// ulps of the result rather than growing with the number of values.
func (h *Histogram) Sum() float64 {
	if math.IsInf(h.sum, 1) {
		return h.sum
	}
	return h.sum + h.comp
}

// Mean returns the mean of the recorded values, or 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.count == 0 {
		return 0
	}
	return h.Sum() / float64(h.count)
}

// Min returns the smallest recorded value, or 0 when empty.
func (h *Histogram) Min() float64 { return h.min }

// Max returns the largest recorded value, or 0 when empty.
func (h *Histogram) Max() float64 { return h.max }

// Quantile returns an estimate of the q-quantile by nearest rank: the
// value of the ceil(q·Count())-th smallest sample (the smallest for q = 0).
// Quantile(0) is exactly Min and Quantile(1) exactly Max. Otherwise, when
// the sample lies in [RangeLow, RangeHigh], the estimate is the midpoint of
// its bucket, clamped to [Min, Max] and to that range, and within
// RelativeError (0.78%) of the sample.
// A sample below RangeLow is reported as Min (an absolute error under
// RangeLow); a sample above RangeHigh as RangeHigh (clamped). The estimate
// never decreases as q grows. Quantile returns 0 for an empty histogram and
// panics if q is NaN or outside [0, 1] (a programmer error).
func (h *Histogram) Quantile(q float64) float64 {
	if !(q >= 0 && q <= 1) {
		panic("metrics: Histogram.Quantile of q = " + formatFloat(q) + " outside [0, 1]")
	}
	if h.count == 0 {
		return 0
	}
	if q == 0 {
		return h.min
	}
	if q == 1 {
		return h.max
	}
	rank := uint64(math.Ceil(q * float64(h.count)))
	rank = min(max(rank, 1), h.count)
	seen := h.under
	if rank <= seen {
		return h.min
	}
	// Only buckets between those of Min and Max can hold samples.
	first, last := 0, numBuckets-1
	if h.min >= RangeLow {
		first = bucket(h.min)
	}
	if h.max <= RangeHigh {
		last = bucket(h.max)
	}
	for i := first; i <= last; i++ {
		seen += h.counts[i]
		if rank <= seen {
			// The bucket's samples lie in its bounds, in [Min, Max]
			// and in the tracked range; clamping the midpoint to
			// each only brings it closer to them.
			lo, hi := bucketBounds(i)
			return min(max((lo+hi)/2, h.min, RangeLow), h.max, RangeHigh)
		}
	}
	return RangeHigh
}

// FractionAtOrBelow estimates the fraction of recorded values at or below v,
// as for SLO attainment ("share of requests with TTFT <= 500 ms"). It works
// at bucket resolution and never overstates: values in v's own bucket count
// as above v. For v in [RangeLow, RangeHigh] the result r satisfies
//
//	exact fraction < v/(1+2^-6)  <=  r  <=  exact fraction <= v,
//
// that is, r is exact for a threshold at most 1/64 (1.6%) below v. It is
// exactly 1 when v >= Max and exactly 0 when v < Min. Below RangeLow it
// counts no underflow value; above RangeHigh, no overflow value. It returns
// 0 for an empty histogram and panics if v is NaN (a programmer error).
func (h *Histogram) FractionAtOrBelow(v float64) float64 {
	if math.IsNaN(v) {
		panic("metrics: Histogram.FractionAtOrBelow of NaN")
	}
	switch {
	case h.count == 0 || v < h.min:
		return 0
	case v >= h.max:
		return 1
	case v < RangeLow:
		return 0
	}
	n := h.under
	end := numBuckets // buckets [0, end) lie wholly below v
	if v <= RangeHigh {
		end = bucket(v)
	}
	first := 0
	if h.min >= RangeLow {
		first = bucket(h.min)
	}
	for i := first; i < end; i++ {
		n += h.counts[i]
	}
	return float64(n) / float64(h.count)
}

// Merge adds every value recorded in o to h, as if each had been passed to
// h.Add: counts, buckets, Min and Max come out identical; Sum may differ in
// the last bits, since floating-point addition is not associative. o is
// unchanged (unless it is h, which doubles h). o must not be nil.
func (h *Histogram) Merge(o *Histogram) {
	h.nans += o.nans
	if o.count == 0 {
		return
	}
	if h.count == 0 {
		h.min, h.max = o.min, o.max
	} else {
		h.min = min(h.min, o.min)
		h.max = max(h.max, o.max)
	}
	h.count += o.count
	h.under += o.under
	h.over += o.over
	for i := range h.counts {
		h.counts[i] += o.counts[i]
	}
	osum, ocomp := o.sum, o.comp
	h.addSum(osum)
	h.addSum(ocomp)
}

// addSum adds x to the compensated sum (Neumaier's step).
func (h *Histogram) addSum(x float64) {
	t := h.sum + x
	if math.Abs(h.sum) >= math.Abs(x) {
		h.comp += (h.sum - t) + x
	} else {
		h.comp += (x - t) + h.sum
	}
	h.sum = t
}

// Reset empties h, keeping its memory.
func (h *Histogram) Reset() {
	*h = Histogram{}
}

// formatFloat formats v for panic messages.
func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
