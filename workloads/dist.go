package workloads

import "math/rand/v2"

// Dist is a distribution of a non-negative quantity. STUB.
type Dist interface {
	Sample(r *rand.Rand) float64
	Mean() float64
}

// Builtin returns a built-in distribution by name. STUB.
func Builtin(name string) (Dist, bool) { return nil, false }
