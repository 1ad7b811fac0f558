package workloads

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// newRand returns a generator with a fixed seed, so every test is
// repeatable.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// quantileOnly hides the concrete type of a Dist, so Clamp.Mean must use its
// numeric fallback.
type quantileOnly struct{ Dist }

// ln2 etc. are spelled out so each expectation below reads as a formula.
var (
	ln2 = math.Log(2)
	e1  = math.Exp(-1)
	e2  = math.Exp(-2)
)

// familyCases are distributions with means worked out by hand, independent
// of the code's Mean methods.
func familyCases() []struct {
	name     string
	d        Dist
	wantMean float64
} {
	return []struct {
		name     string
		d        Dist
		wantMean float64
	}{
		{"constant", Constant{Value: 3}, 3},
		{"exponential", Exponential{Rate: 0.5}, 2},
		// Mean of a log-normal: median·exp(σ²/2).
		{"lognormal", LogNormalMedian(100, 0.8), 100 * math.Exp(0.32)},
		{"uniform", Uniform{Min: 2, Max: 10}, 6},
		// Segments 0..10 and 10..30, each with half the mass: (5+20)/2.
		{"empirical", Empirical{Quantiles: []float64{0, 10, 30}}, 12.5},
		// 0.5·(0+10)/2 + 0.4·(10+20)/2 + 0.1·(20+100)/2 = 2.5+6+6.
		{"piecewise", Piecewise{P: []float64{0, 0.5, 0.9, 1}, Q: []float64{0, 10, 20, 100}}, 14.5},
		// E[clamp(X, 0.5, 2)] = 0.5 + e^-0.5 - e^-2 for X ~ Exp(1).
		{"clamp exponential", Clamp{D: Exponential{Rate: 1}, Min: 0.5, Max: 2}, 0.5 + math.Exp(-0.5) - e2},
		// 0.2·2 + ∫_2^5 x/10 dx + 0.5·5 = 0.4 + 1.05 + 2.5.
		{"clamp uniform", Clamp{D: Uniform{Min: 0, Max: 10}, Min: 2, Max: 5}, 3.95},
		// Segment 1: 5 for half, then 5..10 (mean 7.5); segment 2: 10..20
		// (mean 15) for half, then 20. ((5+7.5)/2 + (15+20)/2)/2.
		{"clamp empirical", Clamp{D: Empirical{Quantiles: []float64{0, 10, 30}}, Min: 5, Max: 20}, 11.875},
	}
}

func TestMeanByHand(t *testing.T) {
	for _, tc := range familyCases() {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.Mean(); math.Abs(got-tc.wantMean) > 1e-12*math.Max(1, tc.wantMean) {
				t.Errorf("Mean() = %v, want %v", got, tc.wantMean)
			}
		})
	}
}

// TestSampleConverges checks that the mean of many draws is the analytic
// mean within 5 standard errors (σ/√N, σ from the draws), and that each
// Quantile(p) splits the draws at p: at most p+tol of them lie below it and
// at least p-tol at or below it (the two differ only at an atom, as in a
// clamp), with tol 5·√(p(1-p)/N), 5 binomial standard errors.
func TestSampleConverges(t *testing.T) {
	const n = 200_000
	ps := []float64{0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99}
	cases := familyCases()
	conv, _ := Builtin("azure-conv-prompt")
	cases = append(cases, struct {
		name     string
		d        Dist
		wantMean float64
	}{"builtin azure-conv-prompt", conv, conv.Mean()},
		struct {
			name     string
			d        Dist
			wantMean float64
		}{"clamp lognormal", Clamp{D: LogNormalMedian(100, 1), Min: 20, Max: 300}, Clamp{D: LogNormalMedian(100, 1), Min: 20, Max: 300}.Mean()})
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRand(uint64(i) + 1)
			x := make([]float64, n)
			var sum, sum2 float64
			for k := range x {
				x[k] = tc.d.Sample(r)
				sum += x[k]
				sum2 += x[k] * x[k]
			}
			mean := sum / n
			sd := math.Sqrt(math.Max(0, sum2/n-mean*mean))
			if tol := 5*sd/math.Sqrt(n) + 1e-9; math.Abs(mean-tc.wantMean) > tol {
				t.Errorf("sample mean = %v, want %v ± %v", mean, tc.wantMean, tol)
			}
			for _, p := range ps {
				q := tc.d.Quantile(p)
				var below, atOrBelow int
				for _, v := range x {
					if v < q {
						below++
					}
					if v <= q {
						atOrBelow++
					}
				}
				tol := 5 * math.Sqrt(p*(1-p)/n)
				if f := float64(below) / n; f > p+tol {
					t.Errorf("fraction of draws below Quantile(%v) = %v: got %v, want <= %v", p, q, f, p+tol)
				}
				if f := float64(atOrBelow) / n; f < p-tol {
					t.Errorf("fraction of draws at or below Quantile(%v) = %v: got %v, want >= %v", p, q, f, p-tol)
				}
			}
		})
	}
}

func TestQuantileByHand(t *testing.T) {
	emp := Empirical{Quantiles: []float64{0, 10, 30}}
	pw := Piecewise{P: []float64{0, 0.5, 0.9, 1}, Q: []float64{0, 10, 20, 100}}
	cases := []struct {
		name string
		d    Dist
		p    float64
		want float64
	}{
		{"constant", Constant{Value: 7}, 0.3, 7},
		{"exponential median", Exponential{Rate: 0.5}, 0.5, 2 * ln2},
		{"exponential p=0", Exponential{Rate: 0.5}, 0, 0},
		{"exponential p=1", Exponential{Rate: 0.5}, 1, math.Inf(1)},
		{"lognormal median", LogNormalMedian(1000, 0.8), 0.5, 1000},
		// Φ(1) = 0.841344746...: one σ above the median multiplies it by e^σ.
		{"lognormal +1 sigma", LogNormalMedian(1000, 0.8), 0.8413447460685429, 1000 * math.Exp(0.8)},
		{"lognormal sigma 0 p=1", LogNormalMedian(50, 0), 1, 50},
		{"uniform", Uniform{Min: 2, Max: 10}, 0.25, 4},
		{"empirical first node", emp, 0, 0},
		{"empirical mid segment 1", emp, 0.25, 5},
		{"empirical node", emp, 0.5, 10},
		{"empirical mid segment 2", emp, 0.75, 20},
		{"empirical last node", emp, 1, 30},
		{"piecewise segment 1", pw, 0.1, 2},
		{"piecewise node", pw, 0.5, 10},
		{"piecewise segment 2", pw, 0.7, 15},
		{"piecewise tail", pw, 0.95, 60},
		{"piecewise last", pw, 1, 100},
		{"clamp low", Clamp{D: Exponential{Rate: 1}, Min: 0.5, Max: 2}, 0.1, 0.5}, // -ln 0.9 = 0.105 < 0.5
		{"clamp mid", Clamp{D: Exponential{Rate: 1}, Min: 0.5, Max: 2}, 0.5, ln2},
		{"clamp high", Clamp{D: Exponential{Rate: 1}, Min: 0.5, Max: 2}, 0.99, 2}, // -ln 0.01 = 4.6 > 2
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.d.Quantile(tc.p)
			if !(got == tc.want || math.Abs(got-tc.want) <= 1e-9*math.Abs(tc.want)) {
				t.Errorf("Quantile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestQuantilePanicsOutsideUnitInterval(t *testing.T) {
	dists := []Dist{
		Constant{Value: 1}, Exponential{Rate: 1}, LogNormal{Sigma: 1}, Uniform{Max: 1},
		Empirical{Quantiles: []float64{0, 1}}, Piecewise{P: []float64{0, 1}, Q: []float64{0, 1}},
		Clamp{D: Exponential{Rate: 1}, Max: 1},
	}
	for _, d := range dists {
		for _, p := range []float64{-0.1, 1.1, math.NaN()} {
			t.Run("", func(t *testing.T) {
				defer func() {
					if recover() == nil {
						t.Errorf("%T.Quantile(%v) did not panic, want a panic", d, p)
					}
				}()
				d.Quantile(p)
			})
		}
	}
}

func TestClampMean(t *testing.T) {
	ln := LogNormalMedian(100, 1)
	cases := []struct {
		name string
		c    Clamp
		want float64
	}{
		// ∫_0^1 e^-x dx.
		{"exponential upper only", Clamp{D: Exponential{Rate: 1}, Min: 0, Max: 1}, 1 - e1},
		// 1 + ∫_1^∞ e^-x dx.
		{"exponential lower only", Clamp{D: Exponential{Rate: 1}, Min: 1, Max: math.Inf(1)}, 1 + e1},
		// A negative lower bound never binds on X >= 0.
		{"exponential negative min", Clamp{D: Exponential{Rate: 1}, Min: -5, Max: math.Inf(1)}, 1},
		{"exponential max below 0", Clamp{D: Exponential{Rate: 1}, Min: -5, Max: -1}, -1},
		{"constant", Clamp{D: Constant{Value: 9}, Min: 0, Max: 4}, 4},
		{"no bounds", Clamp{D: ln, Min: math.Inf(-1), Max: math.Inf(1)}, 100 * math.Exp(0.5)},
		// clamp(clamp(x, 0.5, 2), 1, 3) = clamp(x, 1, 2): 1 + e^-1 - e^-2.
		{"nested overlapping", Clamp{D: Clamp{D: Exponential{Rate: 1}, Min: 0.5, Max: 2}, Min: 1, Max: 3}, 1 + e1 - e2},
		// Inner draws are at most 2, all raised to 3.
		{"nested disjoint", Clamp{D: Clamp{D: Uniform{Min: 0, Max: 10}, Min: 0, Max: 2}, Min: 3, Max: 5}, 3},
		{"equal bounds", Clamp{D: Uniform{Min: 0, Max: 10}, Min: 4, Max: 4}, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Mean(); math.Abs(got-tc.want) > 1e-9*math.Max(1, math.Abs(tc.want)) {
				t.Errorf("Mean() = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestClampMeanFallback checks the closed forms of Clamp.Mean against the
// numeric integral of the clamped quantile function that Clamp uses for
// unknown Dist types, so each path checks the other.
func TestClampMeanFallback(t *testing.T) {
	cases := []struct {
		name string
		d    Dist
		lo   float64
		hi   float64
	}{
		{"lognormal", LogNormalMedian(100, 1), 20, 300},
		{"lognormal lower only", LogNormalMedian(100, 0.5), 80, 1e6},
		{"exponential", Exponential{Rate: 0.01}, 10, 200},
		{"uniform", Uniform{Min: -3, Max: 7}, 0, 5},
		{"empirical", Empirical{Quantiles: []float64{1, 2, 4, 8, 30}}, 3, 20},
		{"piecewise", Piecewise{P: []float64{0, 0.5, 0.9, 1}, Q: []float64{0, 10, 20, 100}}, 5, 50},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exact := Clamp{D: tc.d, Min: tc.lo, Max: tc.hi}.Mean()
			numeric := Clamp{D: quantileOnly{tc.d}, Min: tc.lo, Max: tc.hi}.Mean()
			// 1,000-point Gauss-Legendre on a bounded integrand with a few
			// kinks is good to well under 1e-3 relative.
			if math.Abs(exact-numeric) > 1e-3*math.Abs(exact) {
				t.Errorf("closed-form mean = %v, numeric mean = %v; want them within 0.1 %%", exact, numeric)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	type validator interface{ Validate() error }
	cases := []struct {
		name    string
		v       validator
		wantErr string // "" for valid
	}{
		{"constant ok", Constant{Value: 1}, ""},
		{"constant inf", Constant{Value: math.Inf(1)}, "finite"},
		{"exponential ok", Exponential{Rate: 2}, ""},
		{"exponential zero", Exponential{Rate: 0}, "> 0"},
		{"lognormal ok", LogNormalMedian(10, 1), ""},
		{"lognormal median 0", LogNormalMedian(0, 1), "median > 0"},
		{"lognormal negative sigma", LogNormal{Mu: 1, Sigma: -1}, ">= 0"},
		{"uniform ok", Uniform{Min: 1, Max: 1}, ""},
		{"uniform reversed", Uniform{Min: 2, Max: 1}, "min <= max"},
		{"empirical ok", Empirical{Quantiles: []float64{1, 1, 2}}, ""},
		{"empirical short", Empirical{Quantiles: []float64{1}}, "at least 2"},
		{"empirical decreasing", Empirical{Quantiles: []float64{1, 3, 2}}, "quantiles[2]"},
		{"empirical nan", Empirical{Quantiles: []float64{1, math.NaN()}}, "quantiles[1] must be finite"},
		{"piecewise ok", Piecewise{P: []float64{0, 0.3, 1}, Q: []float64{0, 0, 5}}, ""},
		{"piecewise lengths", Piecewise{P: []float64{0, 1}, Q: []float64{0}}, "2 probabilities but 1 quantiles"},
		{"piecewise p not 0..1", Piecewise{P: []float64{0.1, 1}, Q: []float64{0, 1}}, "from 0 to 1"},
		{"piecewise p repeated", Piecewise{P: []float64{0, 0.5, 0.5, 1}, Q: []float64{0, 1, 2, 3}}, "p[2]"},
		{"piecewise q decreasing", Piecewise{P: []float64{0, 0.5, 1}, Q: []float64{0, 2, 1}}, "quantiles[2]"},
		{"clamp ok", Clamp{D: Exponential{Rate: 1}, Min: 0, Max: math.Inf(1)}, ""},
		{"clamp no dist", Clamp{Min: 0, Max: 1}, "needs a distribution"},
		{"clamp bad dist", Clamp{D: Exponential{}, Min: 0, Max: 1}, "exponential rate"},
		{"clamp reversed", Clamp{D: Constant{Value: 1}, Min: 2, Max: 1}, "min <= max"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.v.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestNewEmpiricalAndPiecewiseCopy(t *testing.T) {
	q := []float64{1, 2, 3}
	e, err := NewEmpirical(q)
	if err != nil {
		t.Fatalf("NewEmpirical(%v) error: %v", q, err)
	}
	p := []float64{0, 0.5, 1}
	pw, err := NewPiecewise(p, q)
	if err != nil {
		t.Fatalf("NewPiecewise(%v, %v) error: %v", p, q, err)
	}
	q[2] = 100
	p[1] = 0.9
	if got := e.Quantile(1); got != 3 {
		t.Errorf("after changing the caller's slice, Empirical.Quantile(1) = %v, want 3", got)
	}
	if got := pw.Quantile(0.5); got != 2 {
		t.Errorf("after changing the caller's slice, Piecewise.Quantile(0.5) = %v, want 2", got)
	}
	if _, err := NewEmpirical([]float64{2, 1}); err == nil {
		t.Errorf("NewEmpirical([2 1]) error = nil, want an error")
	}
	if _, err := NewPiecewise([]float64{0, 1}, []float64{2, 1}); err == nil {
		t.Errorf("NewPiecewise([0 1], [2 1]) error = nil, want an error")
	}
}

// allDists has one of each family, for determinism, allocation and
// benchmark checks.
func allDists() []struct {
	name string
	d    Dist
} {
	b, _ := Builtin("swebench-output")
	return []struct {
		name string
		d    Dist
	}{
		{"constant", Constant{Value: 3}},
		{"exponential", Exponential{Rate: 0.5}},
		{"lognormal", LogNormalMedian(100, 0.8)},
		{"uniform", Uniform{Min: 2, Max: 10}},
		{"empirical", Empirical{Quantiles: []float64{0, 10, 30, 31, 90}}},
		{"piecewise", Piecewise{P: []float64{0, 0.5, 0.9, 1}, Q: []float64{0, 10, 20, 100}}},
		{"builtin", b},
		{"clamp", Clamp{D: LogNormalMedian(100, 0.8), Min: 10, Max: 1000}},
	}
}

func TestSampleDeterministic(t *testing.T) {
	for _, tc := range allDists() {
		t.Run(tc.name, func(t *testing.T) {
			r1, r2 := newRand(42), newRand(42)
			for i := range 1000 {
				if a, b := tc.d.Sample(r1), tc.d.Sample(r2); a != b {
					t.Fatalf("draw %d: got %v and %v from equal seeds, want equal", i, a, b)
				}
			}
		})
	}
}

func TestSampleDoesNotAllocate(t *testing.T) {
	for _, tc := range allDists() {
		t.Run(tc.name, func(t *testing.T) {
			r := newRand(1)
			var sink float64
			if got := testing.AllocsPerRun(1000, func() { sink += tc.d.Sample(r) }); got != 0 {
				t.Errorf("Sample allocates %v times per call, want 0", got)
			}
		})
	}
}

func BenchmarkSample(b *testing.B) {
	for _, tc := range allDists() {
		b.Run(tc.name, func(b *testing.B) {
			r := newRand(1)
			var sink float64
			for b.Loop() {
				sink += tc.d.Sample(r)
			}
			_ = sink
		})
	}
}
