package topology

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Sample is one measured RTT between two distinct places.
type Sample struct {
	// DistKm is the great-circle distance in km, > 0.
	DistKm float64
	// RTTMs is the measured round-trip time in ms, > 0.
	RTTMs float64
}

// FitReport summarises how well a model matches samples. Errors are absolute
// percentage errors, APE = |model - measured| / measured, given as fractions
// (0.12 is 12 %). Percentiles interpolate linearly between order statistics.
type FitReport struct {
	// N is the number of samples.
	N int
	// MeanAPE, MedianAPE and P90APE are the mean, median and 90th percentile APE.
	MeanAPE, MedianAPE, P90APE float64
	// MedianSignedError is the median of (model - measured) / measured: its
	// sign says whether the model tends to over- or underestimate.
	MedianSignedError float64
}

// Fit fits BaseRTTMs and PathInflation to the samples with FiberKmPerMs fixed
// at DefaultFiberKmPerMs and SameSiteRTTMs left at DefaultSameSiteRTTMs. It
// minimises the mean absolute percentage error, sum |model - measured| /
// measured, subject to BaseRTTMs >= 0 and PathInflation >= 1, and returns
// the model with its report on the same samples.
//
// The loss is convex in the two parameters. For a fixed base the best slope
// is a weighted median, so Fit minimises the convex profile over the base by
// golden-section search: the result is deterministic and global to within
// 1e-9 ms of base.
//
// Fit returns an error when a sample has a distance or RTT that is not
// finite and > 0, or when fewer than two distinct distances are given.
func Fit(samples []Sample) (Model, FitReport, error) {
	if err := checkSamples(samples); err != nil {
		return Model{}, FitReport{}, err
	}
	const minSlope = 2 * 1 / DefaultFiberKmPerMs // PathInflation = 1
	maxRTT := 0.0
	for _, s := range samples {
		maxRTT = max(maxRTT, s.RTTMs)
	}
	buf := make([]weighted, len(samples))
	// profile returns the best slope for a base and the loss there.
	profile := func(base float64) (slope, loss float64) {
		slope = max(minSlope, bestSlope(samples, base, buf))
		return slope, meanAPE(samples, base, slope)
	}
	// A base above every RTT makes every residual positive and only grows
	// the loss, so the optimum lies in [0, maxRTT].
	lo, hi := 0.0, maxRTT
	invPhi := (math.Sqrt(5) - 1) / 2
	x1, x2 := hi-invPhi*(hi-lo), lo+invPhi*(hi-lo)
	_, f1 := profile(x1)
	_, f2 := profile(x2)
	for i := 0; i < 200 && hi-lo > 1e-9; i++ {
		if f1 <= f2 {
			hi, x2, f2 = x2, x1, f1
			x1 = hi - invPhi*(hi-lo)
			_, f1 = profile(x1)
		} else {
			lo, x1, f1 = x1, x2, f2
			x2 = lo + invPhi*(hi-lo)
			_, f2 = profile(x2)
		}
	}
	// The interval ends are candidates too: the optimum may sit on the
	// bound base = 0.
	base, best := (lo+hi)/2, math.Inf(1)
	for _, b := range []float64{lo, (lo + hi) / 2, hi} {
		if _, f := profile(b); f < best {
			base, best = b, f
		}
	}
	slope, _ := profile(base)
	m := Model{
		BaseRTTMs:     base,
		PathInflation: slope * DefaultFiberKmPerMs / 2,
		FiberKmPerMs:  DefaultFiberKmPerMs,
		SameSiteRTTMs: DefaultSameSiteRTTMs,
	}
	return m, Evaluate(m, samples), nil
}

// checkSamples reports the first invalid sample, or too few distinct distances.
func checkSamples(samples []Sample) error {
	for i, s := range samples {
		if !(s.DistKm > 0) || math.IsInf(s.DistKm, 0) {
			return fmt.Errorf("sample %d: distance must be finite and > 0 km, got %v", i, s.DistKm)
		}
		if !(s.RTTMs > 0) || math.IsInf(s.RTTMs, 0) {
			return fmt.Errorf("sample %d: rtt must be finite and > 0 ms, got %v", i, s.RTTMs)
		}
	}
	for _, s := range samples {
		if s.DistKm != samples[0].DistKm {
			return nil
		}
	}
	return errors.New("fit needs samples at two or more distinct distances")
}

// weighted is a value with a weight, for the weighted median.
type weighted struct{ v, w float64 }

// bestSlope returns the slope k minimising sum |base + k*d - y| / y: since
// |base + k*d - y| / y = (d/y) * |k - (y-base)/d|, it is the median of
// (y-base)/d weighted by d/y (the smallest such value on a tie).
func bestSlope(samples []Sample, base float64, buf []weighted) float64 {
	total := 0.0
	for i, s := range samples {
		buf[i] = weighted{v: (s.RTTMs - base) / s.DistKm, w: s.DistKm / s.RTTMs}
		total += buf[i].w
	}
	slices.SortFunc(buf, func(a, b weighted) int { return cmp.Compare(a.v, b.v) })
	acc := 0.0
	for _, x := range buf {
		acc += x.w
		if acc >= total/2 {
			return x.v
		}
	}
	return buf[len(buf)-1].v
}

// meanAPE is the mean of |base + slope*d - y| / y.
func meanAPE(samples []Sample, base, slope float64) float64 {
	sum := 0.0
	for _, s := range samples {
		sum += math.Abs(base+slope*s.DistKm-s.RTTMs) / s.RTTMs
	}
	return sum / float64(len(samples))
}

// Evaluate compares the model with the samples. A sample at distance 0 is
// compared with SameSiteRTTMs, as RTTMs does. It panics when a sample has a
// negative or NaN distance (see RTTMs). Evaluate of no samples is the zero
// FitReport.
func Evaluate(m Model, samples []Sample) FitReport {
	if len(samples) == 0 {
		return FitReport{}
	}
	ape := make([]float64, len(samples))
	signed := make([]float64, len(samples))
	sum := 0.0
	for i, s := range samples {
		signed[i] = (m.RTTMs(s.DistKm) - s.RTTMs) / s.RTTMs
		ape[i] = math.Abs(signed[i])
		sum += ape[i]
	}
	slices.Sort(ape)
	slices.Sort(signed)
	return FitReport{
		N:                 len(samples),
		MeanAPE:           sum / float64(len(samples)),
		MedianAPE:         quantile(ape, 0.5),
		P90APE:            quantile(ape, 0.9),
		MedianSignedError: quantile(signed, 0.5),
	}
}

// quantile returns the p-quantile of sorted, interpolating linearly between
// order statistics (the "type 7" definition of Hyndman and Fan, 1996).
func quantile(sorted []float64, p float64) float64 {
	x := p * float64(len(sorted)-1)
	i := int(x)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := x - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}
