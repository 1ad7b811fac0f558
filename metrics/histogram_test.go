package metrics

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"unsafe"
)

// exactQuantile is the nearest-rank q-quantile of sorted: the
// ceil(q·n)-th smallest value, the smallest for q = 0.
func exactQuantile(sorted []float64, q float64) float64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func TestBucketLayout(t *testing.T) {
	if b := bucket(RangeLow); b < 0 {
		t.Fatalf("got bucket(RangeLow) = %d, want >= 0", b)
	}
	if b := bucket(RangeHigh); b >= numBuckets {
		t.Fatalf("got bucket(RangeHigh) = %d, want < %d", b, numBuckets)
	}
	for i := range numBuckets {
		lo, hi := bucketBounds(i)
		// Each binade [2^e, 2^(e+1)) splits into 64 equal parts, so the
		// width is 2^e/64, with e from math.Frexp (lo = f·2^exp, f in
		// [0.5, 1), so e = exp-1).
		_, exp := math.Frexp(lo)
		if want := math.Ldexp(1, exp-1-subBits); hi-lo != want {
			t.Fatalf("bucket %d [%g, %g): got width %g, want %g", i, lo, hi, hi-lo, want)
		}
		if (hi-lo)/lo > 1.0/64 {
			t.Fatalf("bucket %d: got relative width %g, want <= 1/64", i, (hi-lo)/lo)
		}
		if got := bucket(lo); got != i {
			t.Fatalf("bucket(lower bound of %d) = %d, want %d", i, got, i)
		}
		if got := bucket(math.Nextafter(hi, 0)); got != i {
			t.Fatalf("bucket(just below upper bound of %d) = %d, want %d", i, got, i)
		}
		if i > 0 {
			if _, prevHi := bucketBounds(i - 1); prevHi != lo {
				t.Fatalf("bucket %d starts at %g, want the previous end %g", i, lo, prevHi)
			}
		}
	}
}

// samplers are the distributions the accuracy tests draw from.
var samplers = []struct {
	name string
	draw func(r *rand.Rand) float64
}{
	{"uniform 0-1000", func(r *rand.Rand) float64 { return 1000 * r.Float64() }},
	// Lognormal with median 50 and sigma 1.5: a latency-like long tail.
	{"lognormal", func(r *rand.Rand) float64 { return 50 * math.Exp(1.5*r.NormFloat64()) }},
	// Log-uniform over the whole tracked range: every binade gets samples.
	{"log-uniform full range", func(r *rand.Rand) float64 {
		return math.Exp(math.Log(RangeLow) + r.Float64()*(math.Log(RangeHigh)-math.Log(RangeLow)))
	}},
	// Exact powers of two and halves sit on bucket edges.
	{"bucket edges", func(r *rand.Rand) float64 { return math.Ldexp(1+float64(r.IntN(64))/64, r.IntN(30)-9) }},
}

var quantiles = []float64{0, 1e-4, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1}

// TestQuantileAccuracy compares Quantile with the exact nearest-rank quantile
// of the sorted sample. The bound is RelativeError, which follows from the
// bucket layout (half a bucket's width over its lower bound, 1/128), not
// from this code's output; the requirement is 1%.
func TestQuantileAccuracy(t *testing.T) {
	// 64 sub-buckets per binade: a bucket is at most 1/64 of its lower
	// bound wide, so its midpoint is within 1/128 of any value in it.
	const bound = (1.0 / 128) * (1 + 1e-12)
	if RelativeError > bound || RelativeError > 0.01 {
		t.Fatalf("got RelativeError %v, want <= 1/128 and <= 1%%", RelativeError)
	}
	n := 1_000_000
	if testing.Short() {
		n = 200_000
	}
	for si, s := range samplers {
		for _, size := range []int{1, 2, 3, 10, 1000, n} {
			r := rand.New(rand.NewPCG(uint64(si), uint64(size)))
			h := NewHistogram()
			xs := make([]float64, size)
			for i := range xs {
				xs[i] = s.draw(r)
				h.Add(xs[i])
			}
			slices.Sort(xs)
			prev := math.Inf(-1)
			for _, q := range quantiles {
				got, want := h.Quantile(q), exactQuantile(xs, q)
				if q == 0 || q == 1 {
					if got != want {
						t.Errorf("%s n=%d q=%v: got %v, want exactly %v", s.name, size, q, got, want)
					}
				} else if rel := math.Abs(got-want) / want; rel > bound {
					t.Errorf("%s n=%d q=%v: got %v, want %v (relative error %.3g > %.3g)",
						s.name, size, q, got, want, rel, bound)
				}
				if got < prev {
					t.Errorf("%s n=%d q=%v: got %v below the previous quantile %v", s.name, size, q, got, prev)
				}
				prev = got
			}
		}
	}
}

// exactSum adds xs without rounding (math/big at 2048 bits holds any sum of
// a million float64s in the tracked range exactly) and rounds once.
func exactSum(xs []float64) float64 {
	s := new(big.Float).SetPrec(2048)
	for _, x := range xs {
		s.Add(s, new(big.Float).SetFloat64(x))
	}
	f, _ := s.Float64()
	return f
}

func TestExactStatistics(t *testing.T) {
	for si, s := range samplers {
		t.Run(s.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(si), 7))
			h := NewHistogram()
			xs := make([]float64, 100_000)
			for i := range xs {
				xs[i] = s.draw(r)
				h.Add(xs[i])
			}
			if got, want := h.Count(), uint64(len(xs)); got != want {
				t.Errorf("got Count %d, want %d", got, want)
			}
			if got, want := h.Min(), slices.Min(xs); got != want {
				t.Errorf("got Min %v, want %v", got, want)
			}
			if got, want := h.Max(), slices.Max(xs); got != want {
				t.Errorf("got Max %v, want %v", got, want)
			}
			// Neumaier's sum is within 2 ulps of the exact sum (Higham,
			// Accuracy and Stability of Numerical Algorithms, 2nd ed., §4.3:
			// error <= 2u|S| + O(n u²)Σ|x|, and all values are positive).
			want := exactSum(xs)
			if got := h.Sum(); math.Abs(got-want) > 2*ulp(want) {
				t.Errorf("got Sum %v, want %v within 2 ulps", got, want)
			}
			if got, wantMean := h.Mean(), want/float64(len(xs)); math.Abs(got-wantMean) > 4*ulp(wantMean) {
				t.Errorf("got Mean %v, want %v", got, wantMean)
			}
		})
	}
}

func ulp(x float64) float64 {
	return math.Nextafter(x, math.Inf(1)) - x
}

func TestMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	all := NewHistogram()
	parts := []*Histogram{NewHistogram(), NewHistogram(), NewHistogram(), NewHistogram()}
	var xs []float64
	for i := range 50_000 {
		x := 50 * math.Exp(3*r.NormFloat64()) // wide: reaches under- and overflow
		switch {
		case i%1000 == 0:
			x = 0
		case i%997 == 0:
			x = 2e9 + float64(i)
		}
		xs = append(xs, x)
		all.Add(x)
		parts[r.IntN(3)].Add(x) // parts[3] stays empty
	}
	all.Add(math.NaN())
	parts[1].Add(math.NaN())

	merged := NewHistogram()
	for _, p := range parts {
		merged.Merge(p)
	}
	if merged.counts != all.counts {
		t.Errorf("got merged buckets different from adding all values, want equal")
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"Count", float64(merged.Count()), float64(all.Count())},
		{"Underflow", float64(merged.Underflow()), float64(all.Underflow())},
		{"Overflow", float64(merged.Overflow()), float64(all.Overflow())},
		{"NaNs", float64(merged.NaNs()), float64(all.NaNs())},
		{"Min", merged.Min(), all.Min()},
		{"Max", merged.Max(), all.Max()},
		{"p50", merged.Quantile(0.5), all.Quantile(0.5)},
		{"p99", merged.Quantile(0.99), all.Quantile(0.99)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v after merge, want %v", c.name, c.got, c.want)
		}
	}
	if all.Underflow() == 0 || all.Overflow() == 0 {
		t.Fatalf("got underflow %d, overflow %d: the test data should reach both", all.Underflow(), all.Overflow())
	}
	if got, want := merged.Sum(), exactSum(xs); math.Abs(got-want) > 4*ulp(want) {
		t.Errorf("got merged Sum %v, want %v", got, want)
	}

	// Merging into itself doubles every count.
	self := NewHistogram()
	self.Merge(all)
	self.Merge(self)
	if got, want := self.Count(), 2*all.Count(); got != want {
		t.Errorf("got Count %d after self-merge, want %d", got, want)
	}
	if got, want := self.counts[bucket(50)], 2*all.counts[bucket(50)]; got != want {
		t.Errorf("got bucket count %d after self-merge, want %d", got, want)
	}
	if self.Min() != all.Min() || self.Max() != all.Max() {
		t.Errorf("got Min %v Max %v after self-merge, want %v %v", self.Min(), self.Max(), all.Min(), all.Max())
	}
}

func TestEmpty(t *testing.T) {
	var zero Histogram
	merged := NewHistogram()
	merged.Merge(NewHistogram())
	for name, h := range map[string]*Histogram{"new": NewHistogram(), "zero value": &zero, "merged empties": merged} {
		t.Run(name, func(t *testing.T) {
			if h.Count() != 0 || h.Sum() != 0 || h.Mean() != 0 || h.Min() != 0 || h.Max() != 0 {
				t.Errorf("got Count %d Sum %v Mean %v Min %v Max %v, want all 0",
					h.Count(), h.Sum(), h.Mean(), h.Min(), h.Max())
			}
			for _, q := range []float64{0, 0.5, 1} {
				if got := h.Quantile(q); got != 0 {
					t.Errorf("got Quantile(%v) = %v, want 0", q, got)
				}
			}
			if got := h.FractionAtOrBelow(1); got != 0 {
				t.Errorf("got FractionAtOrBelow(1) = %v, want 0", got)
			}
		})
	}
}

func TestRangeEdges(t *testing.T) {
	h := NewHistogram()
	// Two underflows, six in range, two overflows (ranks 1-2, 3-8, 9-10).
	for _, v := range []float64{0, 5e-4, 1, 2, 3, 4, 5, 6, 2e9, 3e9} {
		h.Add(v)
	}
	if got, want := h.Underflow(), uint64(2); got != want {
		t.Errorf("got Underflow %d, want %d", got, want)
	}
	if got, want := h.Overflow(), uint64(2); got != want {
		t.Errorf("got Overflow %d, want %d", got, want)
	}
	tests := []struct {
		q    float64
		want float64
	}{
		{0.1, 0},          // rank 1: underflow, reported as Min
		{0.2, 0},          // rank 2: underflow, reported as Min
		{0.9, RangeHigh},  // rank 9: overflow, clamped
		{0.95, RangeHigh}, // rank 10 (ceil 9.5): overflow, clamped
		{1, 3e9},          // exact Max
	}
	for _, tt := range tests {
		if got := h.Quantile(tt.q); got != tt.want {
			t.Errorf("Quantile(%v): got %v, want %v", tt.q, got, tt.want)
		}
	}
	// Rank 3 is the value 1, which starts a binade: bucket [1, 1+1/64),
	// midpoint 1+1/128.
	if got, want := h.Quantile(0.3), 1+1.0/128; got != want {
		t.Errorf("Quantile(0.3): got %v, want %v", got, want)
	}
}

func TestAddSpecialValues(t *testing.T) {
	h := NewHistogram()
	h.Add(math.NaN())
	h.Add(math.Copysign(0, -1))
	h.Add(2)
	if got := h.Count(); got != 2 {
		t.Errorf("got Count %d, want 2 (NaN not recorded)", got)
	}
	if got := h.NaNs(); got != 1 {
		t.Errorf("got NaNs %d, want 1", got)
	}
	if got := h.Min(); got != 0 || math.Signbit(got) {
		t.Errorf("got Min %v (sign bit %v), want +0", got, math.Signbit(got))
	}
	h.Add(math.Inf(1))
	if got := h.Max(); !math.IsInf(got, 1) {
		t.Errorf("got Max %v, want +Inf", got)
	}
	if got := h.Sum(); !math.IsInf(got, 1) {
		t.Errorf("got Sum %v, want +Inf", got)
	}
	if got := h.Overflow(); got != 1 {
		t.Errorf("got Overflow %d, want 1", got)
	}
}

func TestPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func(h *Histogram)
	}{
		{"Add negative", func(h *Histogram) { h.Add(-1e-9) }},
		{"Add -Inf", func(h *Histogram) { h.Add(math.Inf(-1)) }},
		{"Quantile below 0", func(h *Histogram) { h.Quantile(-0.1) }},
		{"Quantile above 1", func(h *Histogram) { h.Quantile(1.01) }},
		{"Quantile NaN", func(h *Histogram) { h.Quantile(math.NaN()) }},
		{"FractionAtOrBelow NaN", func(h *Histogram) { h.FractionAtOrBelow(math.NaN()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("got no panic, want one")
				}
			}()
			h := NewHistogram()
			h.Add(1)
			tt.f(h)
		})
	}
}

func TestFractionAtOrBelow(t *testing.T) {
	// Hand-worked: 1, 2, 3, 4 each start a binade or sit in different
	// buckets. v = 2.5: 1 and 2 lie in buckets wholly below 2.5's bucket
	// [2.5, 2.53125), so 2/4. v = 2: 2's own bucket counts as above, so
	// only 1 counts: 1/4 (the documented conservative side).
	h := NewHistogram()
	for _, v := range []float64{1, 2, 3, 4} {
		h.Add(v)
	}
	hand := []struct{ v, want float64 }{
		{0.5, 0}, {1, 0}, {2, 0.25}, {2.5, 0.5}, {3.9, 0.75}, {4, 1}, {100, 1},
	}
	for _, tt := range hand {
		if got := h.FractionAtOrBelow(tt.v); got != tt.want {
			t.Errorf("FractionAtOrBelow(%v): got %v, want %v", tt.v, got, tt.want)
		}
	}

	// Random: the documented bounds, against the sorted sample.
	r := rand.New(rand.NewPCG(21, 22))
	h = NewHistogram()
	xs := make([]float64, 100_000)
	for i := range xs {
		xs[i] = 50 * math.Exp(1.5*r.NormFloat64())
		h.Add(xs[i])
	}
	slices.Sort(xs)
	n := float64(len(xs))
	for range 2000 {
		v := 50 * math.Exp(2*r.NormFloat64())
		got := h.FractionAtOrBelow(v)
		below := sort.Search(len(xs), func(i int) bool { return xs[i] >= v/(1+1.0/64) })
		atOrBelow := sort.Search(len(xs), func(i int) bool { return xs[i] > v })
		if lo, hi := float64(below)/n, float64(atOrBelow)/n; got < lo || got > hi {
			t.Fatalf("FractionAtOrBelow(%v): got %v, want within [%v, %v]", v, got, lo, hi)
		}
	}
}

func TestDeterministic(t *testing.T) {
	build := func() *Histogram {
		r := rand.New(rand.NewPCG(5, 5))
		h := NewHistogram()
		for range 10_000 {
			h.Add(r.ExpFloat64() * 100)
		}
		return h
	}
	if a, b := build(), build(); *a != *b {
		t.Errorf("got different histograms from the same input, want identical")
	}
}

// TestMemory checks that the histogram's size is fixed (about 20 KiB:
// 2,560 uint64 buckets plus a few words) and that Add never allocates.
func TestMemory(t *testing.T) {
	size := unsafe.Sizeof(Histogram{})
	t.Logf("bytes per histogram: %d", size)
	if want := uintptr(numBuckets*8 + 128); size > want {
		t.Errorf("got %d bytes per histogram, want <= %d", size, want)
	}
	h := NewHistogram()
	r := rand.New(rand.NewPCG(1, 1))
	allocs := testing.AllocsPerRun(10_000, func() {
		h.Add(r.ExpFloat64() * 1000)
	})
	if allocs != 0 {
		t.Errorf("got %v allocations per Add, want 0", allocs)
	}
}
