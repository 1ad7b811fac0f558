package traces

import (
	"math"
	"slices"
)

// Stats are the mean, median and 99th percentile of a sample. Percentiles
// interpolate linearly between the two nearest order statistics (rank
// p·(n−1), 0-based: the default of numpy.percentile).
type Stats struct {
	Mean, Median, P99 float64
}

// Summary holds the figures used to compare a trace with published facts.
type Summary struct {
	// Count is the number of requests.
	Count int
	// DurationS is the time from the first to the last arrival, in seconds.
	DurationS float64
	// RatePerS is the mean arrival rate in requests per second:
	// (Count−1)/DurationS, the inverse of the mean inter-arrival time; 0
	// when DurationS is 0.
	RatePerS float64
	// Input and Output are the prompt and generated token counts.
	Input, Output Stats
	// InterArrivalS are the gaps between consecutive arrivals in seconds.
	InterArrivalS Stats
	// InterArrivalCV is the coefficient of variation (population standard
	// deviation over mean) of the inter-arrival times; 1 for a Poisson
	// process, 0 when the mean gap is 0.
	InterArrivalCV float64
	// HashRefs is the number of prefix-block hash references, 0 for a
	// trace without hashes.
	HashRefs int
	// PrefixReuse is the share of hash references, in arrival order, that
	// repeat a block id seen earlier in the trace (in an earlier request
	// or earlier in the same one); 0 when HashRefs is 0.
	PrefixReuse float64
}

// Summarize computes the Summary of t. A nil or empty trace gives the zero
// Summary.
func Summarize(t *Trace) Summary {
	if t == nil || t.Len() == 0 {
		return Summary{}
	}
	n := t.Len()
	s := Summary{Count: n, DurationS: t.DurationS()}
	if s.DurationS > 0 {
		s.RatePerS = float64(n-1) / s.DurationS
	}
	buf := make([]float64, n)
	for i, v := range t.input {
		buf[i] = float64(v)
	}
	s.Input = stats(buf)
	for i, v := range t.output {
		buf[i] = float64(v)
	}
	s.Output = stats(buf)
	if n > 1 {
		gaps := buf[:n-1]
		for i := range gaps {
			gaps[i] = t.arrival[i+1] - t.arrival[i]
		}
		s.InterArrivalCV = cv(gaps)
		s.InterArrivalS = stats(gaps)
	}
	if len(t.hashes) > 0 {
		seen := make(map[uint64]struct{}, len(t.hashes)/2) // membership only
		repeats := 0
		for _, h := range t.hashes {
			if _, ok := seen[h]; ok {
				repeats++
			} else {
				seen[h] = struct{}{}
			}
		}
		s.HashRefs = len(t.hashes)
		s.PrefixReuse = float64(repeats) / float64(len(t.hashes))
	}
	return s
}

// stats sorts x in place and returns its Stats; x must not be empty.
func stats(x []float64) Stats {
	sum := 0.0
	for _, v := range x {
		sum += v
	}
	slices.Sort(x)
	return Stats{Mean: sum / float64(len(x)), Median: percentile(x, 0.5), P99: percentile(x, 0.99)}
}

// percentile returns the p-quantile of sorted, non-empty x by linear
// interpolation at rank p·(len(x)−1).
func percentile(x []float64, p float64) float64 {
	r := p * float64(len(x)-1)
	lo := int(math.Floor(r))
	if lo >= len(x)-1 {
		return x[len(x)-1]
	}
	f := r - float64(lo)
	return x[lo] + f*(x[lo+1]-x[lo])
}

// cv returns the population standard deviation of x over its mean, 0 when
// the mean is 0; x must not be empty.
func cv(x []float64) float64 {
	mean := 0.0
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	if mean == 0 {
		return 0
	}
	ss := 0.0
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return math.Sqrt(ss/float64(len(x))) / mean
}
