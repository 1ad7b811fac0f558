package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// latencies returns a power-of-two table of lognormal values (median 50,
// sigma 1.5, latency-like), generated up front so that the random
// generator's cost is not measured.
func latencies() []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 1<<16)
	for i := range xs {
		xs[i] = 50 * math.Exp(1.5*r.NormFloat64())
	}
	return xs
}

func BenchmarkHistogramAdd(b *testing.B) {
	xs := latencies()
	h := NewHistogram()
	for i := 0; b.Loop(); i++ {
		h.Add(xs[i&(len(xs)-1)])
	}
}

func BenchmarkQuantile(b *testing.B) {
	xs := latencies()
	h := NewHistogram()
	for range 1_000_000 / len(xs) {
		for _, x := range xs {
			h.Add(x)
		}
	}
	for b.Loop() {
		h.Quantile(0.99)
	}
}

func BenchmarkFractionAtOrBelow(b *testing.B) {
	xs := latencies()
	h := NewHistogram()
	for _, x := range xs {
		h.Add(x)
	}
	for b.Loop() {
		h.FractionAtOrBelow(500)
	}
}
