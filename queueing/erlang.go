package queueing

import (
	"fmt"
	"math"
)

// ErlangC is the probability that an arrival must wait in an M/M/c queue
// with c servers and offered load a = λ/μ (in Erlangs). It returns an
// error unless c >= 1 and 0 <= a < c (the queue is stable).
//
// It uses the numerically stable Erlang-B recursion
// B(0) = 1, B(k) = a·B(k-1) / (k + a·B(k-1)), then C = c·B / (c - a·(1 - B))
// (Kleinrock, Queueing Systems Vol. 1, 1975, §3.5).
func ErlangC(c int, a float64) (float64, error) {
	if c < 1 {
		return 0, fmt.Errorf("erlang c: need at least one server, got %d", c)
	}
	if !(a >= 0) || a >= float64(c) {
		return 0, fmt.Errorf("erlang c: offered load must be in [0, %d), got %g", c, a)
	}
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return float64(c) * b / (float64(c) - a*(1-b)), nil
}

// MMcWait is the mean time an arrival waits before service in an M/M/c
// queue with arrival rate lambda and service rate mu per server:
// Wq = C(c, λ/μ) / (cμ - λ).
func MMcWait(c int, lambda, mu float64) (float64, error) {
	if !(mu > 0) || !(lambda >= 0) {
		return 0, fmt.Errorf("mmc wait: rates must be positive, got λ=%g μ=%g", lambda, mu)
	}
	pc, err := ErlangC(c, lambda/mu)
	if err != nil {
		return 0, err
	}
	return pc / (float64(c)*mu - lambda), nil
}

// erlangCDirect is the textbook closed form, kept for tests: it overflows
// for large c, which is why ErlangC uses the recursion.
func erlangCDirect(c int, a float64) float64 {
	sum := 0.0
	for k := 0; k < c; k++ {
		sum += math.Pow(a, float64(k)) / fact(k)
	}
	top := math.Pow(a, float64(c)) / fact(c) * float64(c) / (float64(c) - a)
	return top / (sum + top)
}

func fact(n int) float64 {
	f := 1.0
	for i := 2; i <= n; i++ {
		f *= float64(i)
	}
	return f
}
