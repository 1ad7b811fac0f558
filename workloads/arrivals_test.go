package workloads

import (
	"math"
	"testing"
)

// countArrivals returns the arrival times in [0, end).
func countArrivals(a Arrivals, end float64, seed uint64) []float64 {
	r := newRand(seed)
	var ts []float64
	for t := a.Next(0, r); t < end; t = a.Next(t, r) {
		ts = append(ts, t)
	}
	return ts
}

// TestArrivalsDayCount: the number of arrivals in a day is Poisson with mean
// Λ = PeakRatePerS·86400·MeanFactor, so it must lie within 5√Λ of Λ.
func TestArrivalsDayCount(t *testing.T) {
	a := Arrivals{PeakRatePerS: 0.5, Curve: PeakTrough(14, 0.25), StartLocalHour: 6}
	want := 0.5 * 86400 * 0.625 // MeanFactor of a raised cosine: (1+r)/2
	for seed := uint64(1); seed <= 5; seed++ {
		got := float64(len(countArrivals(a, 86400, seed)))
		if tol := 5 * math.Sqrt(want); math.Abs(got-want) > tol {
			t.Errorf("seed %d: %v arrivals in a day, want %v ± %v", seed, got, want, tol)
		}
	}
}

// TestArrivalsFollowCurve: each hour's count is Poisson with mean the
// integral of the rate over the hour, so within 5 standard deviations.
// A start at 21:20 local puts the bins across local midnight and off the
// hour grid of the curve.
func TestArrivalsFollowCurve(t *testing.T) {
	a := Arrivals{PeakRatePerS: 2, Curve: PeakTrough(14, 0.1), StartLocalHour: 21 + 1.0/3}
	var bins [24]float64
	for _, ts := range countArrivals(a, 86400, 7) {
		bins[int(ts/3600)]++
	}
	for h, got := range bins {
		want := a.Expected(float64(h)*3600, float64(h+1)*3600)
		if tol := 5 * math.Sqrt(want); math.Abs(got-want) > tol {
			t.Errorf("hour %d after start: %v arrivals, want %v ± %v", h, got, want, tol)
		}
	}
}

// TestArrivalsFlatIsPoisson: with a flat curve the gaps are exponential with
// mean 1/rate and coefficient of variation 1. The sample mean of n gaps has
// standard error mean/√n; the sample CV has standard error about 1/√n for
// exponential gaps (its fourth moment is 9·mean⁴).
func TestArrivalsFlatIsPoisson(t *testing.T) {
	const rate, n = 3.0, 100_000
	a := Arrivals{PeakRatePerS: rate, Curve: PeakTrough(0, 1)}
	r := newRand(3)
	var sum, sum2, prev float64
	for range n {
		next := a.Next(prev, r)
		g := next - prev
		sum += g
		sum2 += g * g
		prev = next
	}
	mean := sum / n
	cv := math.Sqrt(sum2/n-mean*mean) / mean
	if tol := 5 / rate / math.Sqrt(n); math.Abs(mean-1/rate) > tol {
		t.Errorf("mean gap = %v, want %v ± %v", mean, 1/rate, tol)
	}
	if tol := 5 / math.Sqrt(n); math.Abs(cv-1) > tol {
		t.Errorf("gap CV = %v, want 1 ± %v", cv, tol)
	}
}

func TestArrivalsStrictlyIncreasing(t *testing.T) {
	a := Arrivals{PeakRatePerS: 50, Curve: PeakTrough(3, 0.01), StartLocalHour: 12}
	r := newRand(11)
	for _, t0 := range []float64{0, 1e6, 1e9} { // large t: gaps near the float spacing
		prev := t0
		for i := range 10_000 {
			next := a.Next(prev, r)
			if !(next > prev) {
				t.Fatalf("t0 %v, arrival %d: Next(%v) = %v, want > %v", t0, i, prev, next, prev)
			}
			prev = next
		}
	}
}

func TestArrivalsZeroRate(t *testing.T) {
	r := newRand(1)
	for _, tc := range []struct {
		name string
		a    Arrivals
	}{
		{"zero peak rate", Arrivals{PeakRatePerS: 0, Curve: PeakTrough(14, 0.25)}},
		{"negative peak rate", Arrivals{PeakRatePerS: -1, Curve: PeakTrough(14, 0.25)}},
		{"zero curve", Arrivals{PeakRatePerS: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Next(10, r); !math.IsInf(got, 1) {
				t.Errorf("Next(10) = %v, want +Inf", got)
			}
		})
	}
}

// TestArrivalsZeroHours: hours at 0 get no arrivals. Hourly[i] is 0 for
// i in 0..11 and 1 for 12..23, so the rate is 0 between 00:30 and 11:30.
func TestArrivalsZeroHours(t *testing.T) {
	v := make([]float64, 24)
	for i := 12; i < 24; i++ {
		v[i] = 1
	}
	c, err := NewHourlyCurve(v)
	if err != nil {
		t.Fatal(err)
	}
	a := Arrivals{PeakRatePerS: 1, Curve: c}
	for _, ts := range countArrivals(a, 2*86400, 5) {
		if h := math.Mod(ts/3600, 24); h > 0.5 && h < 11.5 {
			t.Fatalf("arrival at local hour %v, want none between 0.5 and 11.5", h)
		}
	}
}

func TestArrivalsDeterministic(t *testing.T) {
	a := Arrivals{PeakRatePerS: 1, Curve: PeakTrough(14, 0.25), StartLocalHour: 3}
	x, y := countArrivals(a, 20000, 9), countArrivals(a, 20000, 9)
	if len(x) != len(y) {
		t.Fatalf("got %d and %d arrivals from equal seeds, want equal", len(x), len(y))
	}
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("arrival %d: got %v and %v from equal seeds, want equal", i, x[i], y[i])
		}
	}
	if z := countArrivals(a, 20000, 10); len(z) == len(x) && z[0] == x[0] {
		t.Errorf("seeds 9 and 10 gave the same first arrival %v, want different streams", z[0])
	}
}

func TestArrivalsNextDoesNotAllocate(t *testing.T) {
	a := Arrivals{PeakRatePerS: 1, Curve: PeakTrough(14, 0.25)}
	r := newRand(1)
	var tt float64
	if got := testing.AllocsPerRun(1000, func() { tt = a.Next(tt, r) }); got != 0 {
		t.Errorf("Next allocates %v times per call, want 0", got)
	}
}

func BenchmarkArrivalsNext(b *testing.B) {
	a := Arrivals{PeakRatePerS: 10, Curve: PeakTrough(14, 0.25), StartLocalHour: 8}
	r := newRand(1)
	var tt float64
	for b.Loop() {
		tt = a.Next(tt, r)
	}
}

func TestArrivalsNextPanicsOnUndefinedTime(t *testing.T) {
	r := newRand(1)
	for _, tc := range []struct {
		name  string
		a     Arrivals
		start float64
	}{
		{"NaN t", Arrivals{PeakRatePerS: 1, Curve: PeakTrough(14, 0.25)}, math.NaN()},
		{"NaN start hour", Arrivals{PeakRatePerS: 1, Curve: PeakTrough(14, 0.25), StartLocalHour: math.NaN()}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Next(%v) did not panic, want a panic", tc.start)
				}
			}()
			tc.a.Next(tc.start, r)
		})
	}
}
