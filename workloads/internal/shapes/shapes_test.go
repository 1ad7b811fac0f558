package shapes

import (
	"math"
	"testing"
)

func TestQuantileType7ByHand(t *testing.T) {
	x := []float64{1, 2, 4, 8, 16}
	// h = (n-1)p = 4p; interpolate between x[⌊h⌋] and x[⌊h⌋+1].
	for _, tc := range []struct{ p, want float64 }{
		{0, 1}, {0.25, 2}, {0.5, 4}, {0.625, 6}, {0.9, 8 + 0.6*8}, {1, 16},
	} {
		if got := Quantile(x, tc.p); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Quantile(%v, %v) = %v, want %v", x, tc.p, got, tc.want)
		}
	}
}

func TestGrid(t *testing.T) {
	g := Grid()
	if len(g) != 119 || g[0] != 0 || g[len(g)-1] != 1 {
		t.Fatalf("Grid() has %d knots from %v to %v, want 119 from 0 to 1", len(g), g[0], g[len(g)-1])
	}
	for i := 1; i < len(g); i++ {
		if !(g[i] > g[i-1]) {
			t.Errorf("Grid()[%d] = %v is not above Grid()[%d] = %v", i, g[i], i-1, g[i-1])
		}
	}
	// The step is 0.01 up to 0.99, 0.001 up to 0.999, then 0.0001.
	for _, tc := range []struct {
		i    int
		want float64
	}{{50, 0.5}, {99, 0.99}, {100, 0.991}, {108, 0.999}, {109, 0.9991}, {117, 0.9999}} {
		if g[tc.i] != tc.want {
			t.Errorf("Grid()[%d] = %v, want %v", tc.i, g[tc.i], tc.want)
		}
	}
}

func TestTableMeanOfUniformData(t *testing.T) {
	// 0, 1, ..., 10000: the type-7 quantile is 10000p, linear, so the table
	// is exact and its mean is 5000.
	s := Shape{Values: make([]float64, 10001)}
	for i := range s.Values {
		s.Values[i] = float64(i)
	}
	if got := TableMean(s.Table()); math.Abs(got-5000) > 1e-9 {
		t.Errorf("TableMean = %v, want 5000", got)
	}
}

func TestGeneratedAndVisibleTokens(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		c                    call
		wantGen, wantVisible float64
	}{
		{"no reasoning", call{completion: 100}, 100, 100},
		{"reasoning inside completion", call{completion: 100, reas: 60}, 100, 40},
		// Rows where reasoning exceeds completion count only visible text
		// in completion_tokens.
		{"reasoning outside completion", call{completion: 55, reas: 611}, 666, 55},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if g, v := tc.c.generated(), tc.c.visible(); g != tc.wantGen || v != tc.wantVisible {
				t.Errorf("generated, visible = %v, %v, want %v, %v", g, v, tc.wantGen, tc.wantVisible)
			}
		})
	}
}
