package queueing

import (
	"math"
	"testing"
)

func TestErlangCMatchesClosedForm(t *testing.T) {
	for _, c := range []int{1, 2, 3, 5, 8, 16} {
		for _, rho := range []float64{0.1, 0.5, 0.8, 0.95} {
			a := rho * float64(c)
			got, err := ErlangC(c, a)
			if err != nil {
				t.Fatal(err)
			}
			want := erlangCDirect(c, a)
			if math.Abs(got-want) > 1e-12 {
				t.Errorf("ErlangC(%d, %g) = %.15f, want %.15f", c, a, got, want)
			}
		}
	}
}

func TestErlangCByHand(t *testing.T) {
	// M/M/1: an arrival waits with probability ρ.
	if got, _ := ErlangC(1, 0.7); math.Abs(got-0.7) > 1e-12 {
		t.Errorf("ErlangC(1, 0.7) = %g, want 0.7", got)
	}
	// c = 2, a = 1: (1/2·2)/(1 + 1 + 1) = 1/3.
	if got, _ := ErlangC(2, 1); math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("ErlangC(2, 1) = %g, want 1/3", got)
	}
	// M/M/1 mean wait: ρ/(μ-λ) = 0.5/(1-0.5) = 1.
	if got, _ := MMcWait(1, 0.5, 1); math.Abs(got-1) > 1e-12 {
		t.Errorf("MMcWait(1, 0.5, 1) = %g, want 1", got)
	}
}

func TestErlangCRejectsUnstable(t *testing.T) {
	for _, tc := range []struct {
		c int
		a float64
	}{{0, 0.5}, {2, 2}, {2, 3}, {1, -1}, {1, math.NaN()}} {
		if _, err := ErlangC(tc.c, tc.a); err == nil {
			t.Errorf("ErlangC(%d, %g): got nil error, want one", tc.c, tc.a)
		}
	}
}

func TestErlangCLargeFleet(t *testing.T) {
	// The closed form overflows here; the recursion must stay a probability
	// and fall as servers are added at the same utilization.
	prev := 1.0
	for _, c := range []int{100, 400, 1000} {
		got, err := ErlangC(c, 0.9*float64(c))
		if err != nil || !(got > 0 && got < prev) {
			t.Fatalf("ErlangC(%d, %g) = %g, %v; want in (0, %g)", c, 0.9*float64(c), got, err, prev)
		}
		prev = got
	}
}
