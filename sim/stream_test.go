package sim

import (
	"hash/fnv"
	"math"
	"testing"
)

func TestFNV1a64(t *testing.T) {
	for _, s := range []string{"", "a", "arrivals", "network/eu-west", "\xff\x00"} {
		h := fnv.New64a()
		h.Write([]byte(s))
		if got, want := fnv1a64(s), h.Sum64(); got != want {
			t.Errorf("fnv1a64(%q): got %#x, want %#x (hash/fnv)", s, got, want)
		}
	}
}

func TestSplitMix64(t *testing.T) {
	// First outputs of Vigna's reference splitmix64.c started at x = 0.
	want := []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f}
	var state uint64
	for i, w := range want {
		if got := splitmix64(&state); got != w {
			t.Errorf("output %d: got %#x, want %#x", i, got, w)
		}
	}
}

func draw(seed uint64, name string, n int) []uint64 {
	r := Stream(seed, name)
	out := make([]uint64, n)
	for i := range out {
		out[i] = r.Uint64()
	}
	return out
}

func TestStreamReproducible(t *testing.T) {
	tests := []struct {
		seed uint64
		name string
	}{{0, ""}, {1, "arrivals"}, {math.MaxUint64, "faults"}}
	for _, tt := range tests {
		a, b := draw(tt.seed, tt.name, 1000), draw(tt.seed, tt.name, 1000)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("Stream(%d, %q) draw %d: got %#x then %#x, want equal", tt.seed, tt.name, i, a[i], b[i])
			}
		}
	}
}

// TestStreamDistinct: streams for different seeds or names must differ. The
// first 4 draws of 64 streams colliding by chance has probability about
// 64²/2^257, so any collision is a bug.
func TestStreamDistinct(t *testing.T) {
	names := []string{"", "a", "b", "arrivals", "arrival", "network", "faults", "agents"}
	seen := map[[4]uint64]string{}
	for seed := range uint64(8) {
		for _, name := range names {
			var key [4]uint64
			copy(key[:], draw(seed, name, 4))
			id := name + "/" + string(rune('0'+seed))
			if prev, ok := seen[key]; ok {
				t.Errorf("streams %s and %s: got the same first draws, want different", prev, id)
			}
			seen[key] = id
		}
	}
}

// TestStreamOrderIndependent: drawing from two streams interleaved gives each
// the same sequence as drawing from it alone.
func TestStreamOrderIndependent(t *testing.T) {
	wantA, wantB := draw(42, "arrivals", 500), draw(42, "service", 500)
	b := Stream(42, "service") // created first this time
	a := Stream(42, "arrivals")
	for i := range 500 {
		if got := b.Uint64(); got != wantB[i] {
			t.Fatalf("service draw %d: got %#x, want %#x", i, got, wantB[i])
		}
		if got := a.Uint64(); got != wantA[i] {
			t.Fatalf("arrivals draw %d: got %#x, want %#x", i, got, wantA[i])
		}
	}
}

// TestStreamUncorrelated: the sample correlation of 10^4 uniform pairs from
// two independent streams has standard deviation 1/sqrt(10^4) = 0.01; demand
// |r| < 0.05 (five sigma) for neighbouring seeds and similar names.
func TestStreamUncorrelated(t *testing.T) {
	pairs := []struct {
		s1, s2 uint64
		n1, n2 string
	}{
		{1, 2, "x", "x"},
		{1, 1, "arrival", "arrivals"},
		{0, 1, "", ""},
	}
	const n = 10_000
	for _, p := range pairs {
		a, b := Stream(p.s1, p.n1), Stream(p.s2, p.n2)
		var sa, sb, saa, sbb, sab float64
		for range n {
			x, y := a.Float64(), b.Float64()
			sa += x
			sb += y
			saa += x * x
			sbb += y * y
			sab += x * y
		}
		cov := sab/n - sa/n*sb/n
		r := cov / math.Sqrt((saa/n-sa/n*sa/n)*(sbb/n-sb/n*sb/n))
		if math.Abs(r) >= 0.05 {
			t.Errorf("streams (%d,%q) and (%d,%q): got correlation %.4f, want |r| < 0.05", p.s1, p.n1, p.s2, p.n2, r)
		}
	}
}
