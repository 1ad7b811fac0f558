package sim

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestTimeUnits(t *testing.T) {
	tests := []struct {
		name string
		got  Time
		want int64
	}{
		{"Millisecond", Millisecond, 1_000},
		{"Second", Second, 1_000_000},
		{"Minute", Minute, 60_000_000},
		{"Hour", Hour, 3_600_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if int64(tt.got) != tt.want {
				t.Errorf("got %d µs, want %d", tt.got, tt.want)
			}
		})
	}
}

func TestFromSeconds(t *testing.T) {
	tests := []struct {
		name string
		s    float64
		want Time
	}{
		{"zero", 0, 0},
		{"negative zero", math.Copysign(0, -1), 0},
		{"one second", 1, Second},
		{"one microsecond", 1e-6, 1},
		{"rounds down below half", 1.4e-6, 1},
		{"rounds up above half", 1.6e-6, 2},
		{"negative rounds away", -1.6e-6, -2},
		{"tenth of a tick", 1e-7, 0},
		// 2.5e-6*1e6 and 2.0000025*1e6 are exactly 2.5 and 2000002.5 in
		// float64 (checked by printing them with %.20g); math.Round takes
		// halves away from zero.
		{"half rounds away from zero", 2.5e-6, 3},
		{"negative half rounds away from zero", -2.5e-6, -3},
		{"half above whole seconds", 2.0000025, 2*Second + 3},
		{"a day", 86400, 24 * Hour},
		// 9.2e12 s is 92·10^17 µs = 92·5^17·2^17 with 92·5^17 < 2^53,
		// so the product is exact and in range.
		{"large exact", 9.2e12, 9_200_000_000_000_000_000},
		// 9.3e12 s is 9.3e18 µs > 2^63-1.
		{"saturates high", 9.3e12, MaxTime},
		{"saturates low", -9.3e12, MinTime},
		{"+Inf", math.Inf(1), MaxTime},
		{"-Inf", math.Inf(-1), MinTime},
		// 2^63-1 µs as float64 rounds to 2^63, which does not fit.
		{"max as float", float64(math.MaxInt64) / 1e6, MaxTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromSeconds(tt.s); got != tt.want {
				t.Errorf("FromSeconds(%v): got %d µs, want %d", tt.s, int64(got), int64(tt.want))
			}
		})
	}
}

func TestFromSecondsNaNPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("got no panic for NaN, want one")
		}
	}()
	FromSeconds(math.NaN())
}

func TestSeconds(t *testing.T) {
	tests := []struct {
		t    Time
		want float64
	}{
		{0, 0},
		{1, 1e-6},
		{-1, -1e-6},
		{1500 * Millisecond, 1.5},
		{Hour + 1, 3600.000001},
		// 2^63-1 µs is 9223372036854.775807 s; the nearest float64.
		{MaxTime, 9223372036854.775807},
	}
	for _, tt := range tests {
		if got := tt.t.Seconds(); got != tt.want {
			t.Errorf("Time(%d).Seconds(): got %v, want %v", int64(tt.t), got, tt.want)
		}
	}
}

// TestSecondsRoundTrip: below 2^50 µs (35 years) Seconds is within a few ulps
// of t/10^6, far less than half a tick, so FromSeconds must recover t.
func TestSecondsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 100_000 {
		want := Time(r.Int64N(1<<51) - 1<<50)
		if got := FromSeconds(want.Seconds()); got != want {
			t.Fatalf("FromSeconds(%d µs .Seconds()): got %d", int64(want), int64(got))
		}
	}
}

// TestTimeString checks String against time.Duration's formatting, which it
// follows, wherever a Duration can hold the value; beyond that, against
// values worked out by hand.
func TestTimeString(t *testing.T) {
	tests := []struct {
		t    Time
		want string
	}{
		{0, "0s"},
		{1, "1µs"},
		{999, "999µs"},
		{1500, "1.5ms"},
		{Second, "1s"},
		{Hour + 2*Minute + 3*Second + 4, "1h2m3.000004s"},
		{-90 * Minute, "-1h30m0s"},
		// 2^63-1 µs = 9223372036854.775807 s = 2562047788 h (9223372036800 s)
		// + 54.775807 s.
		{MaxTime, "2562047788h0m54.775807s"},
		{MinTime, "-2562047788h0m54.775808s"},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("Time(%d).String(): got %q, want %q", int64(tt.t), got, tt.want)
		}
	}

	r := rand.New(rand.NewPCG(5, 6))
	limit := int64(math.MaxInt64 / 1000) // largest |µs| a Duration holds
	for i := range 100_000 {
		// Spread the magnitudes over all unit ranges.
		v := int64(r.Uint64N(uint64(limit))) >> r.IntN(62)
		if i%2 == 1 {
			v = -v
		}
		want := (time.Duration(v) * time.Microsecond).String()
		if got := Time(v).String(); got != want {
			t.Fatalf("Time(%d).String(): got %q, want %q (time.Duration)", v, got, want)
		}
	}
}
