package workloads

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

func TestPeakTroughByHand(t *testing.T) {
	// Hour i is r + (1-r)(1+cos(2π(i-peak)/24))/2; one hour from the peak
	// the cosine is cos(15°).
	cos15 := math.Cos(math.Pi / 12)
	c := PeakTrough(14, 0.25)
	cases := []struct {
		name string
		got  float64
		want float64
	}{
		{"Hourly[14] (peak hour)", c.Hourly[14], 1},
		{"Hourly[2] (12 h away)", c.Hourly[2], 0.25},
		{"Hourly[8] (6 h before, cos = 0)", c.Hourly[8], 0.625},
		{"Hourly[20] (6 h after, cos = 0)", c.Hourly[20], 0.625},
		{"Hourly[13]", c.Hourly[13], 0.25 + 0.375*(1+cos15)},
		{"At(14.5), middle of the peak hour", c.At(14.5), 1},
		{"At(2.5), middle of the trough hour", c.At(2.5), 0.25},
		{"At(14), halfway from hour 13 to 14", c.At(14), (1 + 0.25 + 0.375*(1+cos15)) / 2},
		// The mean of a cosine sampled at 24 equally spaced points is 0.
		{"MeanFactor", c.MeanFactor(), (1 + 0.25) / 2},
		{"Max", c.Max(), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !near(tc.got, tc.want) {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}

	t.Run("peak at midnight wraps", func(t *testing.T) {
		c := PeakTrough(0, 0.5)
		if !near(c.Hourly[0], 1) || !near(c.Hourly[12], 0.5) {
			t.Errorf("Hourly[0], Hourly[12] = %v, %v, want 1, 0.5", c.Hourly[0], c.Hourly[12])
		}
		// Hours 23 and 1 are one hour either side of the peak.
		if !near(c.Hourly[23], c.Hourly[1]) {
			t.Errorf("Hourly[23] = %v, Hourly[1] = %v, want equal", c.Hourly[23], c.Hourly[1])
		}
	})
	t.Run("fractional peak is rescaled to max 1", func(t *testing.T) {
		c := PeakTrough(14.5, 0.25)
		if !near(c.Max(), 1) || !near(c.Hourly[14], c.Hourly[15]) {
			t.Errorf("Max = %v, Hourly[14] = %v, Hourly[15] = %v; want 1 and the two equal", c.Max(), c.Hourly[14], c.Hourly[15])
		}
	})
	t.Run("trough ratio 1 is flat", func(t *testing.T) {
		c := PeakTrough(7, 1)
		for i, v := range c.Hourly {
			if !near(v, 1) {
				t.Errorf("Hourly[%d] = %v, want 1", i, v)
			}
		}
	})
	for _, bad := range [][2]float64{{14, -0.1}, {14, 1.5}, {14, math.NaN()}, {math.Inf(1), 0.5}} {
		t.Run("panics on bad input", func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("PeakTrough(%v, %v) did not panic, want a panic", bad[0], bad[1])
				}
			}()
			PeakTrough(bad[0], bad[1])
		})
	}
}

func TestAtWraps(t *testing.T) {
	c := PeakTrough(9, 0.1)
	// Between 23:30 and 00:30 the curve runs from Hourly[23] to Hourly[0].
	for _, tc := range []struct {
		h    float64
		want float64
	}{
		{23.5, c.Hourly[23]},
		{0.5, c.Hourly[0]},
		{0, (c.Hourly[23] + c.Hourly[0]) / 2},
		{24, (c.Hourly[23] + c.Hourly[0]) / 2},
		{-0.25, 0.75*c.Hourly[23] + 0.25*c.Hourly[0]},
		{23.75, 0.75*c.Hourly[23] + 0.25*c.Hourly[0]},
		{0.25, 0.25*c.Hourly[23] + 0.75*c.Hourly[0]},
	} {
		if got := c.At(tc.h); !near(got, tc.want) {
			t.Errorf("At(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
	for _, h := range []float64{0, 0.3, 5.5, 11.9, 23.99} {
		for _, k := range []float64{-48, -24, 24, 72, 24 * 365} {
			if a, b := c.At(h), c.At(h+k); math.Abs(a-b) > 1e-9 {
				t.Errorf("At(%v) = %v, At(%v) = %v, want equal", h, a, h+k, b)
			}
		}
	}
}

// midpointIntegral integrates f over [a, b] with n midpoints; for a
// piecewise-linear f the error is O(n⁻²) per kink.
func midpointIntegral(f func(float64) float64, a, b float64, n int) float64 {
	w := (b - a) / float64(n)
	var s float64
	for i := range n {
		s += f(a + (float64(i)+0.5)*w)
	}
	return s * w
}

func TestMeanFactorMatchesIntegral(t *testing.T) {
	hourly, err := NewHourlyCurve([]float64{
		1, 0, 0, 3, 8, 2, 2, 2, 9, 4, 4, 0,
		7, 7, 1, 5, 5, 6, 0, 2, 3, 3, 10, 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    Curve
	}{
		{"peak trough", PeakTrough(14, 0.25)},
		{"fractional peak", PeakTrough(3.7, 0.05)},
		{"irregular hourly", hourly},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := midpointIntegral(tc.c.At, 0, 24, 240_000) / 24
			if got := tc.c.MeanFactor(); math.Abs(got-want) > 1e-8 {
				t.Errorf("MeanFactor() = %v, want %v (midpoint rule)", got, want)
			}
		})
	}
}

func TestNewHourlyCurve(t *testing.T) {
	v := make([]float64, 24)
	for i := range v {
		v[i] = float64(i)
	}
	c, err := NewHourlyCurve(v)
	if err != nil {
		t.Fatalf("NewHourlyCurve(0..23) error: %v", err)
	}
	if c.Hourly[23] != 1 || !near(c.Hourly[1], 1.0/23) {
		t.Errorf("Hourly[23], Hourly[1] = %v, %v, want 1, 1/23", c.Hourly[23], c.Hourly[1])
	}
	bad := func(i int, x float64) []float64 {
		w := make([]float64, 24)
		for k := range w {
			w[k] = 1
		}
		w[i] = x
		return w
	}
	for _, tc := range []struct {
		name    string
		v       []float64
		wantErr string
	}{
		{"short", []float64{1, 2}, "needs 24 values, got 2"},
		{"negative", bad(5, -1), "hourly[5]"},
		{"nan", bad(7, math.NaN()), "hourly[7]"},
		{"inf", bad(0, math.Inf(1)), "hourly[0]"},
		{"all zero", make([]float64, 24), "0 at every hour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHourlyCurve(tc.v)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("NewHourlyCurve error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestExpectedMatchesIntegral(t *testing.T) {
	a := Arrivals{PeakRatePerS: 2, Curve: PeakTrough(14, 0.25), StartLocalHour: 21.3}
	for _, w := range [][2]float64{
		{0, 3600},           // crosses midnight local (21.3 h + 1 h)
		{1000, 1000},        // empty
		{500, 12345},        // odd bounds
		{0, 86400},          // one day
		{7200, 3.5 * 86400}, // several days
	} {
		want := midpointIntegral(a.Rate, w[0], w[1], 1_000_000)
		if got := a.Expected(w[0], w[1]); math.Abs(got-want) > 1e-6*math.Max(1, want) {
			t.Errorf("Expected(%v, %v) = %v, want %v (midpoint rule)", w[0], w[1], got, want)
		}
	}
	// Over whole days the start hour does not matter: rate·86400·MeanFactor.
	if got, want := a.Expected(0, 86400), 2*86400*0.625; !near(got, want) {
		t.Errorf("Expected over a day = %v, want %v", got, want)
	}
}
