package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Arrivals is a non-homogeneous Poisson process whose rate at time t
// (seconds from the start) is PeakRatePerS · Curve.At(local hour at t), where
// the local hour at t is StartLocalHour + t/3600. The caller computes
// StartLocalHour from the UTC start hour and the users' UTC offset.
type Arrivals struct {
	// PeakRatePerS is the rate at the curve's peak, in arrivals per second.
	PeakRatePerS float64
	// Curve is the daily load curve in the users' local time.
	Curve Curve
	// StartLocalHour is the local hour of day at t = 0.
	StartLocalHour float64
}

// Rate returns the arrival rate at time t, in arrivals per second.
func (a Arrivals) Rate(t float64) float64 {
	return a.PeakRatePerS * a.Curve.At(a.StartLocalHour+t/3600)
}

// Expected returns the expected number of arrivals in [t0, t1] (seconds,
// t0 <= t1): the exact integral of the rate.
func (a Arrivals) Expected(t0, t1 float64) float64 {
	h0 := a.StartLocalHour + t0/3600
	h1 := a.StartLocalHour + t1/3600
	return a.PeakRatePerS * 3600 * a.Curve.integral(h0, h1)
}

// Next returns the time of the first arrival after t, in seconds; it is
// always greater than t. It samples by thinning (Lewis and Shedler 1979):
// candidates come at the bounding rate PeakRatePerS·max(Curve) and each is
// kept with probability rate/bound, so the expected number of draws per
// arrival is bound/rate. Next returns +Inf if the bounding rate is not
// positive. It does not allocate. It panics if t is NaN or StartLocalHour
// is not finite (programmer error: the rate would be undefined).
func (a Arrivals) Next(t float64, r *rand.Rand) float64 {
	if math.IsNaN(t) || !finite(a.StartLocalHour) {
		panic(fmt.Sprintf("workloads: Arrivals.Next(%v) with start hour %v", t, a.StartLocalHour))
	}
	bound := a.PeakRatePerS * a.Curve.Max()
	if !(bound > 0) {
		return math.Inf(1)
	}
	next := t
	for {
		next += r.ExpFloat64() / bound
		if math.IsInf(next, 1) {
			return next
		}
		if r.Float64()*bound < a.Rate(next) {
			break
		}
	}
	if next <= t { // a zero exponential draw, or one lost to rounding at large t
		next = math.Nextafter(t, math.Inf(1))
	}
	return next
}
