package workloads

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/distuv"
)

// Dist is a distribution of a real quantity: tokens, seconds, counts.
//
// Sample draws from r and does not allocate. Quantile panics if p is outside
// [0, 1] or NaN (programmer error). The methods of a distribution whose
// parameters are invalid (see each type's Validate) return meaningless
// numbers; validate parameters that come from users.
type Dist interface {
	// Sample draws one value using r.
	Sample(r *rand.Rand) float64
	// Mean is the expected value: exact for the parametric families, and
	// the mean of the piecewise-linear inverse CDF for tabulated shapes.
	Mean() float64
	// Quantile is the inverse CDF at p in [0, 1].
	Quantile(p float64) float64
}

// checkP panics if p is not a probability. A bad p is a programmer error.
func checkP(p float64) {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("workloads: quantile probability %v outside [0, 1]", p))
	}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Constant is a distribution that always gives Value.
type Constant struct{ Value float64 }

// Sample returns c.Value; it draws nothing from r.
func (c Constant) Sample(r *rand.Rand) float64 { return c.Value }

// Mean returns c.Value.
func (c Constant) Mean() float64 { return c.Value }

// Quantile returns c.Value for every p in [0, 1].
func (c Constant) Quantile(p float64) float64 {
	checkP(p)
	return c.Value
}

// Validate reports whether Value is finite.
func (c Constant) Validate() error {
	if !finite(c.Value) {
		return fmt.Errorf("constant value must be finite, got %v", c.Value)
	}
	return nil
}

// Exponential is the exponential distribution with rate Rate (events per
// unit); its mean is 1/Rate.
type Exponential struct{ Rate float64 }

// Sample draws an exponential value.
func (e Exponential) Sample(r *rand.Rand) float64 {
	return distuv.Exponential{Rate: e.Rate, Src: r}.Rand()
}

// Mean returns 1/Rate.
func (e Exponential) Mean() float64 { return 1 / e.Rate }

// Quantile returns -ln(1-p)/Rate; Quantile(1) is +Inf.
func (e Exponential) Quantile(p float64) float64 {
	checkP(p)
	return distuv.Exponential{Rate: e.Rate}.Quantile(p)
}

// Validate reports whether Rate is finite and positive.
func (e Exponential) Validate() error {
	if !finite(e.Rate) || e.Rate <= 0 {
		return fmt.Errorf("exponential rate must be finite and > 0, got %v", e.Rate)
	}
	return nil
}

// LogNormal is the distribution of exp(N(Mu, Sigma²)): Mu and Sigma are the
// mean and standard deviation of the natural log of the value. Its median is
// exp(Mu).
type LogNormal struct{ Mu, Sigma float64 }

// LogNormalMedian returns the log-normal distribution with the given median
// (> 0) and log standard deviation sigma (>= 0).
func LogNormalMedian(median, sigma float64) LogNormal {
	return LogNormal{Mu: math.Log(median), Sigma: sigma}
}

// Sample draws a log-normal value.
func (l LogNormal) Sample(r *rand.Rand) float64 {
	return distuv.LogNormal{Mu: l.Mu, Sigma: l.Sigma, Src: r}.Rand()
}

// Mean returns exp(Mu + Sigma²/2).
func (l LogNormal) Mean() float64 { return math.Exp(l.Mu + l.Sigma*l.Sigma/2) }

// Quantile returns exp(Mu + Sigma·Φ⁻¹(p)); Quantile(0) is 0 and Quantile(1)
// is +Inf unless Sigma is 0.
func (l LogNormal) Quantile(p float64) float64 {
	checkP(p)
	if l.Sigma == 0 {
		return math.Exp(l.Mu)
	}
	return distuv.LogNormal{Mu: l.Mu, Sigma: l.Sigma}.Quantile(p)
}

// Validate reports whether Mu is finite (the median is positive) and Sigma
// is finite and non-negative.
func (l LogNormal) Validate() error {
	var errs []error
	if !finite(l.Mu) {
		errs = append(errs, fmt.Errorf("lognormal mu must be finite (median > 0), got %v", l.Mu))
	}
	if !finite(l.Sigma) || l.Sigma < 0 {
		errs = append(errs, fmt.Errorf("lognormal sigma must be finite and >= 0, got %v", l.Sigma))
	}
	return errors.Join(errs...)
}

// Uniform is the continuous uniform distribution on [Min, Max].
type Uniform struct{ Min, Max float64 }

// Sample draws a uniform value.
func (u Uniform) Sample(r *rand.Rand) float64 {
	return distuv.Uniform{Min: u.Min, Max: u.Max, Src: r}.Rand()
}

// Mean returns (Min+Max)/2.
func (u Uniform) Mean() float64 { return (u.Min + u.Max) / 2 }

// Quantile returns Min + p·(Max-Min).
func (u Uniform) Quantile(p float64) float64 {
	checkP(p)
	return distuv.Uniform{Min: u.Min, Max: u.Max}.Quantile(p)
}

// Validate reports whether Min and Max are finite with Min <= Max.
func (u Uniform) Validate() error {
	if !finite(u.Min) || !finite(u.Max) || u.Min > u.Max {
		return fmt.Errorf("uniform bounds must be finite with min <= max, got min %v, max %v", u.Min, u.Max)
	}
	return nil
}

// Empirical is a distribution given by its quantiles at equally spaced
// probabilities: Quantiles[i] is the quantile at p = i/(len-1), so the first
// is the minimum and the last the maximum. The inverse CDF is linear between
// them, so draws are continuous. Quantiles must be finite, non-decreasing
// and at least 2; build one with [NewEmpirical] to check. Sample and
// Quantile panic on an Empirical with no quantiles (programmer error).
type Empirical struct{ Quantiles []float64 }

// NewEmpirical returns the Empirical distribution with a copy of the
// quantiles q, or an error if q has fewer than 2 values, a value that is
// not finite, or a value below the one before it.
func NewEmpirical(q []float64) (Empirical, error) {
	e := Empirical{Quantiles: slices.Clone(q)}
	if err := e.Validate(); err != nil {
		return Empirical{}, err
	}
	return e, nil
}

// Validate reports whether the quantiles are at least 2, finite and
// non-decreasing; it names the first bad index.
func (e Empirical) Validate() error {
	q := e.Quantiles
	if len(q) < 2 {
		return fmt.Errorf("empirical distribution needs at least 2 quantiles, got %d", len(q))
	}
	for i, v := range q {
		if !finite(v) {
			return fmt.Errorf("quantiles[%d] must be finite, got %v", i, v)
		}
		if i > 0 && v < q[i-1] {
			return fmt.Errorf("quantiles[%d] = %v is below quantiles[%d] = %v: quantiles must be non-decreasing", i, v, i-1, q[i-1])
		}
	}
	return nil
}

// Sample draws by inverting the piecewise-linear CDF at a uniform number.
func (e Empirical) Sample(r *rand.Rand) float64 { return e.at(r.Float64()) }

// Quantile interpolates linearly between the two tabulated quantiles around p.
func (e Empirical) Quantile(p float64) float64 {
	checkP(p)
	return e.at(p)
}

// at is the inverse CDF at u in [0, 1].
func (e Empirical) at(u float64) float64 {
	q := e.Quantiles
	n := len(q) - 1
	x := u * float64(n)
	i := int(x)
	if i >= n {
		return q[n]
	}
	q0, q1 := q[i], q[i+1]
	return q0 + (x-float64(i))*(q1-q0)
}

// Mean returns the mean of the piecewise-linear inverse CDF: the average of
// the segment midpoints (Quantiles[i]+Quantiles[i+1])/2.
func (e Empirical) Mean() float64 {
	q := e.Quantiles
	var s float64
	for i := 1; i < len(q); i++ {
		s += (q[i-1] + q[i]) / 2
	}
	return s / float64(len(q)-1)
}

// Piecewise is a distribution whose inverse CDF is linear between the knots
// (P[i], Q[i]). Unlike [Empirical] the probabilities need not be equally
// spaced, so a table can be finer in a heavy tail. P must start at 0, end at
// 1 and increase strictly; Q must be finite and non-decreasing, of the same
// length (at least 2). Build one with [NewPiecewise] to check. Sample and
// Quantile panic on a Piecewise with no knots (programmer error).
type Piecewise struct{ P, Q []float64 }

// NewPiecewise returns the Piecewise distribution with copies of p and q, or
// an error if they do not form a valid table.
func NewPiecewise(p, q []float64) (Piecewise, error) {
	d := Piecewise{P: slices.Clone(p), Q: slices.Clone(q)}
	if err := d.Validate(); err != nil {
		return Piecewise{}, err
	}
	return d, nil
}

// Validate reports whether P and Q form a valid table; it names the first
// bad index.
func (d Piecewise) Validate() error {
	if len(d.P) != len(d.Q) {
		return fmt.Errorf("piecewise distribution has %d probabilities but %d quantiles", len(d.P), len(d.Q))
	}
	if len(d.P) < 2 {
		return fmt.Errorf("piecewise distribution needs at least 2 knots, got %d", len(d.P))
	}
	if d.P[0] != 0 || d.P[len(d.P)-1] != 1 {
		return fmt.Errorf("piecewise probabilities must run from 0 to 1, got %v to %v", d.P[0], d.P[len(d.P)-1])
	}
	for i := range d.P {
		if !finite(d.Q[i]) {
			return fmt.Errorf("quantiles[%d] must be finite, got %v", i, d.Q[i])
		}
		if i == 0 {
			continue
		}
		if !(d.P[i] > d.P[i-1]) {
			return fmt.Errorf("p[%d] = %v is not above p[%d] = %v: probabilities must increase", i, d.P[i], i-1, d.P[i-1])
		}
		if d.Q[i] < d.Q[i-1] {
			return fmt.Errorf("quantiles[%d] = %v is below quantiles[%d] = %v: quantiles must be non-decreasing", i, d.Q[i], i-1, d.Q[i-1])
		}
	}
	return nil
}

// Sample draws by inverting the piecewise-linear CDF at a uniform number.
func (d Piecewise) Sample(r *rand.Rand) float64 { return d.at(r.Float64()) }

// Quantile interpolates linearly between the knots around p.
func (d Piecewise) Quantile(p float64) float64 {
	checkP(p)
	return d.at(p)
}

// at is the inverse CDF at u in [0, 1].
func (d Piecewise) at(u float64) float64 {
	// Binary search for the first knot above u; P[0] = 0 <= u, so i >= 1.
	lo, hi := 1, len(d.P)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if d.P[m] > u {
			hi = m
		} else {
			lo = m + 1
		}
	}
	i := lo
	if i == len(d.P) {
		return d.Q[i-1]
	}
	p0, p1 := d.P[i-1], d.P[i]
	q0, q1 := d.Q[i-1], d.Q[i]
	return q0 + (u-p0)/(p1-p0)*(q1-q0)
}

// Mean returns the mean of the piecewise-linear inverse CDF.
func (d Piecewise) Mean() float64 {
	var s float64
	for i := 1; i < len(d.P); i++ {
		s += (d.Q[i-1] + d.Q[i]) / 2 * (d.P[i] - d.P[i-1])
	}
	return s
}

// Clamp is the distribution of D's draws clamped to [Min, Max]. Use
// math.Inf for a missing bound.
//
// Quantile is exact (clamping is monotone, so the quantile of the clamped
// value is the clamped quantile). Mean is exact for the distributions of this
// package, nested clamps included, and a 1,000-point Gauss-Legendre
// integral of the clamped quantile function for other Dist implementations
// (approximate when the upper tail is unbounded and heavy).
type Clamp struct {
	D        Dist
	Min, Max float64
}

// Sample draws from D and clamps the draw.
func (c Clamp) Sample(r *rand.Rand) float64 { return clamp(c.D.Sample(r), c.Min, c.Max) }

// Quantile returns D's quantile clamped to [Min, Max].
func (c Clamp) Quantile(p float64) float64 {
	checkP(p)
	return clamp(c.D.Quantile(p), c.Min, c.Max)
}

// Validate reports whether D is set (and valid, if it has a Validate
// method) and Min <= Max, neither NaN.
func (c Clamp) Validate() error {
	var errs []error
	if c.D == nil {
		errs = append(errs, errors.New("clamp needs a distribution"))
	} else if v, ok := c.D.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if math.IsNaN(c.Min) || math.IsNaN(c.Max) || c.Min > c.Max {
		errs = append(errs, fmt.Errorf("clamp bounds must have min <= max, got min %v, max %v", c.Min, c.Max))
	}
	return errors.Join(errs...)
}

func clamp(x, lo, hi float64) float64 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// flatten removes nested clamps: clamp(clamp(x, a, b), lo, hi) is
// clamp(x, max(a, lo), min(b, hi)) when the intervals overlap and a constant
// otherwise.
func (c Clamp) flatten() (d Dist, lo, hi float64) {
	d, lo, hi = c.D, c.Min, c.Max
	for {
		in, ok := d.(Clamp)
		if !ok {
			return d, lo, hi
		}
		switch {
		case in.Max <= lo:
			return Constant{Value: lo}, lo, hi
		case in.Min >= hi:
			return Constant{Value: hi}, lo, hi
		}
		d, lo, hi = in.D, max(in.Min, lo), min(in.Max, hi)
	}
}

// Mean returns the mean of the clamped draws; see [Clamp].
func (c Clamp) Mean() float64 {
	d, lo, hi := c.flatten()
	switch d := d.(type) {
	case Constant:
		return clamp(d.Value, lo, hi)
	case Uniform:
		return clampedSegmentMean(d.Min, d.Max, lo, hi)
	case Empirical:
		q := d.Quantiles
		var s float64
		for i := 1; i < len(q); i++ {
			s += clampedSegmentMean(q[i-1], q[i], lo, hi)
		}
		return s / float64(len(q)-1)
	case Piecewise:
		var s float64
		for i := 1; i < len(d.P); i++ {
			s += clampedSegmentMean(d.Q[i-1], d.Q[i], lo, hi) * (d.P[i] - d.P[i-1])
		}
		return s
	case Exponential:
		return clampedExponentialMean(d.Rate, lo, hi)
	case LogNormal:
		return clampedLogNormalMean(d, lo, hi)
	}
	f := func(p float64) float64 { return clamp(d.Quantile(p), lo, hi) }
	return quad.Fixed(f, 0, 1, 1000, nil, 0)
}

// clampedSegmentMean is the mean over t in [0, 1] of clamp(y0 + t(y1-y0),
// lo, hi), for y0 <= y1: the line is below lo up to tl, above hi after th,
// and itself in between.
func clampedSegmentMean(y0, y1, lo, hi float64) float64 {
	switch {
	case y1 <= lo:
		return lo
	case y0 >= hi:
		return hi
	case y0 == y1:
		return y0 // lo < y0 < hi
	}
	tl := clamp((lo-y0)/(y1-y0), 0, 1)
	th := clamp((hi-y0)/(y1-y0), 0, 1)
	s := (y0 + (y1-y0)*(tl+th)/2) * (th - tl)
	if tl > 0 {
		s += lo * tl
	}
	if th < 1 {
		s += hi * (1 - th)
	}
	return s
}

// clampedExponentialMean is E[clamp(X, lo, hi)] for X exponential with the
// given rate: lo + ∫_lo^hi P(X > x) dx, which for lo >= 0 is
// lo + (exp(-rate·lo) - exp(-rate·hi))/rate. A lower bound below 0 never
// binds because X >= 0.
func clampedExponentialMean(rate, lo, hi float64) float64 {
	if hi <= 0 {
		return hi
	}
	lo = max(lo, 0)
	return lo + (math.Exp(-rate*lo)-math.Exp(-rate*hi))/rate
}

// clampedLogNormalMean is E[clamp(X, lo, hi)] for X log-normal:
// lo·F(lo) + ∫_lo^hi x f(x) dx + hi·(1-F(hi)), with the partial expectation
// ∫_a^b x f(x) dx = exp(μ+σ²/2)·[Φ((ln b-μ-σ²)/σ) - Φ((ln a-μ-σ²)/σ)].
func clampedLogNormalMean(l LogNormal, lo, hi float64) float64 {
	if l.Sigma == 0 {
		return clamp(math.Exp(l.Mu), lo, hi)
	}
	if hi <= 0 {
		return hi
	}
	lo = max(lo, 0)
	phi := distuv.UnitNormal.CDF
	s2 := l.Sigma * l.Sigma
	z := func(x float64) float64 { return (math.Log(x) - l.Mu) / l.Sigma }
	m := math.Exp(l.Mu+s2/2) * (phi(z(hi)-l.Sigma) - phi(z(lo)-l.Sigma))
	if lo > 0 {
		m += lo * phi(z(lo))
	}
	if !math.IsInf(hi, 1) {
		m += hi * (1 - phi(z(hi)))
	}
	return m
}
