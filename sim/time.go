package sim

import "math"

// Time is a point or span of simulated time, in microseconds (the kernel's
// tick; see the package documentation for why).
type Time int64

// Units of simulated time.
const (
	Microsecond Time = 1
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
	Minute           = 60 * Second
	Hour             = 60 * Minute
)

// MaxTime is the largest representable Time, about 292,000 years.
const MaxTime Time = math.MaxInt64

// MinTime is the smallest representable Time.
const MinTime Time = math.MinInt64

// FromSeconds converts s seconds to a Time. It computes s·10⁶ in float64 and
// rounds half away from zero (math.Round), so decimal halves written in
// seconds round the way they read (2.5e-6 s becomes 3 µs). Results beyond the
// int64 range, including ±Inf, saturate at MaxTime or MinTime. FromSeconds
// panics if s is NaN: a NaN duration is a programmer error in the model that
// produced it.
func FromSeconds(s float64) Time {
	if s != s {
		panic("sim: FromSeconds of NaN")
	}
	us := math.Round(s * 1e6)
	// float64(math.MaxInt64) rounds up to 2^63, which does not fit in an
	// int64, so compare with >=; -2^63 is exact and fits.
	if us >= math.MaxInt64 {
		return MaxTime
	}
	if us <= math.MinInt64 {
		return MinTime
	}
	return Time(us)
}

// Seconds returns t in seconds. It splits t into whole seconds and the
// microsecond remainder before converting, so the result is exact to the µs
// for any |t| below 2^53 seconds.
func (t Time) Seconds() float64 {
	sec := t / Second
	usec := t % Second
	return float64(sec) + float64(usec)/1e6
}

// String formats t the way time.Duration does, at microsecond resolution:
// "0s", "750µs", "1.5ms", "2.000001s", "1h2m3.000004s", with a leading "-"
// for negative values. The output depends only on t.
func (t Time) String() string {
	// buf holds the largest value, "-2562047788h0m54.775808s" (24 bytes).
	var buf [32]byte
	w := len(buf)

	neg := t < 0
	u := uint64(t)
	if neg {
		u = -u // two's complement; correct for MinTime too
	}

	switch {
	case u == 0:
		return "0s"
	case u < uint64(Millisecond):
		// "µs" is 3 bytes in UTF-8.
		w -= 3
		copy(buf[w:], "µs")
		w = fmtInt(buf[:w], u)
	case u < uint64(Second):
		w--
		buf[w] = 's'
		w--
		buf[w] = 'm'
		w, u = fmtFrac(buf[:w], u, 3)
		w = fmtInt(buf[:w], u)
	default:
		w--
		buf[w] = 's'
		w, u = fmtFrac(buf[:w], u, 6)
		// u is now whole seconds.
		w = fmtInt(buf[:w], u%60)
		u /= 60
		if u > 0 {
			w--
			buf[w] = 'm'
			w = fmtInt(buf[:w], u%60)
			u /= 60
			if u > 0 {
				w--
				buf[w] = 'h'
				w = fmtInt(buf[:w], u)
			}
		}
	}
	if neg {
		w--
		buf[w] = '-'
	}
	return string(buf[w:])
}

// fmtFrac writes the low prec decimal digits of v into the tail of buf as a
// fraction, omitting trailing zeros and the point itself when the fraction is
// zero. It returns the index where the output begins and v divided by
// 10^prec.
func fmtFrac(buf []byte, v uint64, prec int) (int, uint64) {
	w := len(buf)
	print := false
	for range prec {
		digit := v % 10
		print = print || digit != 0
		if print {
			w--
			buf[w] = byte(digit) + '0'
		}
		v /= 10
	}
	if print {
		w--
		buf[w] = '.'
	}
	return w, v
}

// fmtInt writes v in decimal into the tail of buf and returns the index where
// the output begins.
func fmtInt(buf []byte, v uint64) int {
	w := len(buf)
	if v == 0 {
		w--
		buf[w] = '0'
		return w
	}
	for v > 0 {
		w--
		buf[w] = byte(v%10) + '0'
		v /= 10
	}
	return w
}
