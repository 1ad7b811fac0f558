package sim

import "math/rand/v2"

// Stream returns a reproducible random generator for the subsystem called
// name, derived from the scenario's seed. The same (seed, name) always gives
// the same sequence; different names or seeds give unrelated sequences; and
// because each stream has its own state, drawing from one never shifts
// another, whatever the order of calls.
//
// The generator is math/rand/v2's PCG. Its two 64-bit seed words come from a
// SplitMix64 sequence (Steele, Lea and Flood, "Fast splittable pseudorandom
// number generators", OOPSLA 2014) started at the mixed seed XOR the FNV-1a
// 64-bit hash of name.
func Stream(seed uint64, name string) *rand.Rand {
	state := mix64(seed) ^ fnv1a64(name)
	hi := splitmix64(&state)
	lo := splitmix64(&state)
	return rand.New(rand.NewPCG(hi, lo))
}

// FNV-1a 64-bit parameters (Fowler, Noll and Vo; IETF draft
// draft-eastlake-fnv, and hash/fnv in the standard library).
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// fnv1a64 returns the FNV-1a 64-bit hash of s, without allocating.
func fnv1a64(s string) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

// splitmix64 advances *state by the golden-ratio increment and returns the
// mixed value: one step of SplitMix64 (constants from Steele, Lea and Flood,
// as in Vigna's reference splitmix64.c).
func splitmix64(state *uint64) uint64 {
	*state += 0x9e3779b97f4a7c15
	return mix64(*state)
}

// mix64 is SplitMix64's finalizer, a bijection on uint64 in which every input
// bit affects every output bit.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
