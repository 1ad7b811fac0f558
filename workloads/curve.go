package workloads

import (
	"errors"
	"fmt"
	"math"
)

// Curve is a daily load curve in local time, as multipliers of the peak
// rate (the peak is 1). Hourly[i] is the value at the middle of local hour i,
// that is at i:30; between those points the curve is linear, and it wraps
// from 23:30 to 00:30 through midnight. Build one with [PeakTrough] or
// [NewHourlyCurve]; a Curve literal is used as given.
type Curve struct{ Hourly [24]float64 }

// PeakTrough returns a raised-cosine day: the value at hour i is
//
//	troughRatio + (1-troughRatio)·(1+cos(2π(i-peakHourLocal)/24))/2
//
// so local hour peakHourLocal is the busiest (value 1, at its middle, e.g.
// 14:30 for 14) and the hour 12 h away is the quietest (value troughRatio).
// Both are exact for a whole peakHourLocal; for a fractional one the hours
// sample the cosine off its top and the curve is rescaled so its maximum
// stays 1. troughRatio is in [0, 1]; PeakTrough panics otherwise, or if
// peakHourLocal is not finite (programmer error: validate user input first).
func PeakTrough(peakHourLocal, troughRatio float64) Curve {
	if !(troughRatio >= 0 && troughRatio <= 1) || !finite(peakHourLocal) {
		panic(fmt.Sprintf("workloads: PeakTrough(%v, %v): need a finite peak hour and a trough ratio in [0, 1]", peakHourLocal, troughRatio))
	}
	var c Curve
	top := 0.0
	for i := range c.Hourly {
		v := troughRatio + (1-troughRatio)*(1+math.Cos(2*math.Pi*(float64(i)-peakHourLocal)/24))/2
		c.Hourly[i] = v
		top = max(top, v)
	}
	for i := range c.Hourly {
		c.Hourly[i] /= top
	}
	return c
}

// NewHourlyCurve returns the curve through 24 hourly values (hour 0 first),
// scaled so the largest is 1. It returns an error unless there are exactly
// 24 values, each finite and >= 0, not all 0.
func NewHourlyCurve(v []float64) (Curve, error) {
	var c Curve
	if len(v) != len(c.Hourly) {
		return c, fmt.Errorf("hourly curve needs %d values, got %d", len(c.Hourly), len(v))
	}
	var errs []error
	top := 0.0
	for i, x := range v {
		if !finite(x) || x < 0 {
			errs = append(errs, fmt.Errorf("hourly[%d]: must be finite and >= 0, got %v", i, x))
			continue
		}
		top = max(top, x)
	}
	if len(errs) > 0 {
		return Curve{}, errors.Join(errs...)
	}
	if top == 0 {
		return Curve{}, errors.New("hourly curve is 0 at every hour")
	}
	for i, x := range v {
		c.Hourly[i] = x / top
	}
	return c, nil
}

// At returns the multiplier at local hour h (any finite number; it wraps
// modulo 24), interpolating linearly between the hour midpoints. It returns
// NaN for an hour that is not finite.
func (c Curve) At(localHour float64) float64 {
	if !finite(localHour) {
		return math.NaN()
	}
	// x counts hours from 00:30, the point of Hourly[0].
	x := math.Mod(localHour-0.5, 24)
	if x < 0 {
		x += 24
	}
	i := int(x)
	if i >= 24 { // x rounded up to 24 from just below
		i, x = 23, 24
	}
	f := x - float64(i)
	return c.Hourly[i]*(1-f) + c.Hourly[(i+1)%24]*f
}

// MeanFactor returns the daily mean multiplier: the integral of the curve
// over a day divided by 24 h. For a cyclic piecewise-linear curve through
// equally spaced points this is exactly the mean of the 24 values.
func (c Curve) MeanFactor() float64 {
	var s float64
	for _, v := range c.Hourly {
		s += v
	}
	return s / 24
}

// Max returns the largest hourly value (1 for a curve built by this package).
func (c Curve) Max() float64 {
	m := c.Hourly[0]
	for _, v := range c.Hourly[1:] {
		m = max(m, v)
	}
	return m
}

// integral returns ∫ c.At(h) dh over [h0, h1] in hours, h0 <= h1.
func (c Curve) integral(h0, h1 float64) float64 {
	return c.cumulative(h1) - c.cumulative(h0)
}

// cumulative returns ∫_0^h c.At(x) dx: whole days times the daily integral,
// plus the part of a day summed over the linear pieces between the
// breakpoints 0, 0.5, 1.5, ..., 23.5, 24.
func (c Curve) cumulative(h float64) float64 {
	days := math.Floor(h / 24)
	rest := h - 24*days
	s := days * 24 * c.MeanFactor()
	a := 0.0
	for a < rest {
		b := math.Min(math.Floor(a-0.5)+1.5, rest) // next breakpoint
		s += (c.At(a) + c.At(b)) / 2 * (b - a)
		a = b
	}
	return s
}
