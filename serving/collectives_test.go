package serving

import (
	"bytes"
	"encoding/csv"
	"math"
	"strconv"
	"strings"
	"testing"
)

// measuredAllReduce is one row of data/allreduce.csv, read here with
// encoding/csv independently of the package's parser.
type measuredAllReduce struct {
	gpu     string // catalog id of the topology's GPU
	workers int
	bytes   float64
	seconds float64
}

func readAllReduceRows(t *testing.T) []measuredAllReduce {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(allReduceCSV)).ReadAll()
	if err != nil {
		t.Fatalf("read data/allreduce.csv: %v", err)
	}
	gpuOf := map[string]string{"a100_dgx": "a100-80gb", "h100_dgx": "h100"}
	var rows []measuredAllReduce
	for _, r := range recs[1:] {
		w, _ := strconv.Atoi(r[1])
		b, _ := strconv.ParseFloat(r[2], 64)
		ms, _ := strconv.ParseFloat(r[3], 64)
		rows = append(rows, measuredAllReduce{gpuOf[r[0]], w, b, ms / 1e3})
	}
	if len(rows) < 6*20 {
		t.Fatalf("data/allreduce.csv: got %d rows, want at least 20 per series", len(rows))
	}
	return rows
}

func mustGPUForAllReduce(t *testing.T, id string) GPU {
	t.Helper()
	g, ok := LookupGPU(id)
	if !ok {
		t.Fatalf("LookupGPU(%q): not found", id)
	}
	return g
}

// series groups the table rows by GPU and worker count, in file order.
func series(rows []measuredAllReduce) [][]measuredAllReduce {
	var out [][]measuredAllReduce
	for i, r := range rows {
		if i == 0 || r.gpu != rows[i-1].gpu || r.workers != rows[i-1].workers {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r)
	}
	return out
}

// TestAllReduceHitsTablePoints: the table is made non-decreasing by an
// isotonic fit, which leaves a measured point alone when no earlier point
// is above it and no later point below it. At those sizes the function
// must return the measured median exactly.
func TestAllReduceHitsTablePoints(t *testing.T) {
	checked := 0
	for _, ser := range series(readAllReduceRows(t)) {
		for i, r := range ser {
			free := true
			for j, o := range ser {
				if (j < i && o.seconds > r.seconds) || (j > i && o.seconds < r.seconds) {
					free = false
				}
			}
			if !free {
				continue
			}
			got := AllReduceSeconds(mustGPUForAllReduce(t, r.gpu), r.workers, r.bytes)
			if got != r.seconds {
				t.Errorf("%s tp %d at %g B: got %g s, want the measured %g s", r.gpu, r.workers, r.bytes, got, r.seconds)
			}
			checked++
		}
	}
	// Above about 2 MiB every series rises cleanly: at least a third of the
	// points are untouched.
	if checked < 6*15 {
		t.Errorf("checked %d points, want at least 90", checked)
	}
}

// TestAllReduceKeepsMeanTime: the isotonic fit replaces falling runs by
// their mean, so over each series the function's times at the measured
// sizes add up to the measured medians.
func TestAllReduceKeepsMeanTime(t *testing.T) {
	for _, ser := range series(readAllReduceRows(t)) {
		var got, want float64
		for _, r := range ser {
			got += AllReduceSeconds(mustGPUForAllReduce(t, r.gpu), r.workers, r.bytes)
			want += r.seconds
		}
		if math.Abs(got-want) > 1e-12*want {
			t.Errorf("%s tp %d: sum of times got %g s, want %g s", ser[0].gpu, ser[0].workers, got, want)
		}
	}
}

func TestIsotonic(t *testing.T) {
	tests := []struct {
		in, want []float64
	}{
		{[]float64{1, 2, 3}, []float64{1, 2, 3}},
		{[]float64{1, 3, 2, 4}, []float64{1, 2.5, 2.5, 4}},
		{[]float64{3, 2, 1}, []float64{2, 2, 2}},
		{[]float64{4, 1, 1, 4, 3}, []float64{2, 2, 2, 3.5, 3.5}},
		{[]float64{5}, []float64{5}},
	}
	for _, tt := range tests {
		got := append([]float64(nil), tt.in...)
		isotonic(got)
		for i := range got {
			if math.Abs(got[i]-tt.want[i]) > 1e-12 {
				t.Errorf("isotonic(%v): got %v, want %v", tt.in, got, tt.want)
				break
			}
		}
	}
}

// TestAllReduceReadmeFacts checks the figures the shared data's README
// quotes for 8 × H100 (DGX, rank 0), and that H200 uses the H100 table.
func TestAllReduceReadmeFacts(t *testing.T) {
	tests := []struct {
		gpu    string
		tp     int
		bytes  float64
		wantMs float64
	}{
		{"h100", 8, 16 << 20, 0.115},
		{"h100", 8, 32 << 20, 0.196},
		{"h200", 8, 16 << 20, 0.115},
		{"h200", 8, 32 << 20, 0.196},
	}
	for _, tt := range tests {
		t.Run(tt.gpu, func(t *testing.T) {
			got := AllReduceSeconds(mustGPUForAllReduce(t, tt.gpu), tt.tp, tt.bytes) * 1e3
			if math.Abs(got-tt.wantMs) > 1e-12 {
				t.Errorf("%d B on %d GPUs: got %g ms, want %g ms", int(tt.bytes), tt.tp, got, tt.wantMs)
			}
		})
	}
}

// TestAllReduceInterpolation: between two adjacent table sizes the
// log-log interpolation at their geometric mean is the geometric mean of
// the times at the two sizes, and lies between them.
func TestAllReduceInterpolation(t *testing.T) {
	for _, ser := range series(readAllReduceRows(t)) {
		g := mustGPUForAllReduce(t, ser[0].gpu)
		tp := ser[0].workers
		for i := 1; i < len(ser); i++ {
			a, b := ser[i-1].bytes, ser[i].bytes
			ta, tb := AllReduceSeconds(g, tp, a), AllReduceSeconds(g, tp, b)
			mid := math.Sqrt(a * b)
			got := AllReduceSeconds(g, tp, mid)
			want := math.Sqrt(ta * tb)
			if math.Abs(got-want) > 1e-9*want {
				t.Errorf("%s tp %d at %g B: got %g s, want %g s (geometric mean of neighbours)", g.ID, tp, mid, got, want)
			}
			if got < ta || got > tb {
				t.Errorf("%s tp %d at %g B: got %g s, outside [%g, %g]", g.ID, tp, mid, got, ta, tb)
			}
		}
	}
}

// TestAllReduceMonotoneInSize sweeps sizes from 1 B to 4 GiB on a fine
// log grid for every catalog GPU and several TP degrees.
func TestAllReduceMonotoneInSize(t *testing.T) {
	for _, g := range GPUs() {
		for _, tp := range []int{2, 3, 4, 6, 8, 16} {
			prev := 0.0
			for e := 0.0; e <= 32; e += 1.0 / 64 {
				b := math.Exp2(e)
				got := AllReduceSeconds(g, tp, b)
				if !(got > 0) || math.IsInf(got, 0) {
					t.Fatalf("%s tp %d at %g B: got %g, want a finite positive time", g.ID, tp, b, got)
				}
				if got < prev {
					t.Fatalf("%s tp %d: time falls from %g to %g s at %g B", g.ID, tp, prev, got, b)
				}
				prev = got
			}
		}
	}
}

// TestAllReduceBandwidthSanity: a ring all-reduce of S bytes over n GPUs
// moves 2(n−1)/n × S bytes over each GPU's link (the NCCL "bus bandwidth"
// convention), so S at a large size must imply a bus bandwidth below the
// GPU's one-way NVLink bandwidth and not far below it.
func TestAllReduceBandwidthSanity(t *testing.T) {
	for _, id := range []string{"a100-80gb", "h100"} {
		g := mustGPUForAllReduce(t, id)
		for _, tp := range []int{2, 4, 8} {
			for _, size := range []float64{64 << 20, 1 << 30} {
				sec := AllReduceSeconds(g, tp, size)
				bus := 2 * float64(tp-1) / float64(tp) * size / sec / 1e9
				if bus > g.InterconnectGBs || bus < 0.3*g.InterconnectGBs {
					t.Errorf("%s tp %d %g B: bus bandwidth %.0f GB/s, want within [0.3, 1] × %g GB/s", id, tp, size, bus, g.InterconnectGBs)
				}
			}
		}
	}
}

func TestAllReduceEdges(t *testing.T) {
	h100 := mustGPUForAllReduce(t, "h100")
	rows := readAllReduceRows(t)
	var smallest measuredAllReduce
	for _, r := range rows {
		if r.gpu == "h100" && r.workers == 2 {
			smallest = r
			break
		}
	}
	tests := []struct {
		name  string
		tp    int
		bytes float64
		want  float64
	}{
		{"tp 1", 1, 1 << 20, 0},
		{"tp 0", 0, 1 << 20, 0},
		{"zero bytes", 8, 0, 0},
		{"negative bytes", 8, -5, 0},
		{"nan bytes", 8, math.NaN(), 0},
		// Below the measured range: the time at the smallest size.
		{"below the smallest size", 2, 1, AllReduceSeconds(h100, 2, smallest.bytes)},
		{"half the smallest size", 2, smallest.bytes / 2, AllReduceSeconds(h100, 2, smallest.bytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AllReduceSeconds(h100, tt.tp, tt.bytes); got != tt.want {
				t.Errorf("got %g, want %g", got, tt.want)
			}
		})
	}
	// TP 3 uses the 4-GPU series; above 8 the ring factor grows the
	// bandwidth part: (15/16)/(7/8) for 16 GPUs.
	if got, want := AllReduceSeconds(h100, 3, 1<<24), AllReduceSeconds(h100, 4, 1<<24); got != want {
		t.Errorf("tp 3: got %g, want the tp-4 time %g", got, want)
	}
	floor := AllReduceSeconds(h100, 8, 1)
	t8, t16 := AllReduceSeconds(h100, 8, 1<<26), AllReduceSeconds(h100, 16, 1<<26)
	if want := floor + (t8-floor)*(15.0/16)/(7.0/8); math.Abs(t16-want) > 1e-15 {
		t.Errorf("tp 16: got %g, want %g", t16, want)
	}
}

// TestAllReduceOtherGPUs: GPUs without a measured table use the H100 one
// with the part above the latency floor scaled by 450 GB/s over their link
// bandwidth (PCIe when they have no NVLink).
func TestAllReduceOtherGPUs(t *testing.T) {
	h100 := mustGPUForAllReduce(t, "h100")
	floor := AllReduceSeconds(h100, 8, 1)
	tests := []struct {
		id     string
		linkGB float64 // by hand from the catalog: NVLink/xGMI one way, else PCIe
	}{
		{"b200", 900}, {"gb200", 900}, {"mi300x", 448}, {"l40s", 32}, {"l4", 32}, {"h100-pcie", 64},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			g := mustGPUForAllReduce(t, tt.id)
			for _, size := range []float64{2048, 1 << 20, 1 << 26} {
				ref := AllReduceSeconds(h100, 8, size)
				got := AllReduceSeconds(g, 8, size)
				want := floor + (ref-floor)*450/tt.linkGB
				if math.Abs(got-want) > 1e-12*want {
					t.Errorf("%g B: got %g s, want %g s", size, got, want)
				}
				if got < floor {
					t.Errorf("%g B: got %g s, below the latency floor %g s", size, got, floor)
				}
			}
		})
	}
	// The A100's own table is slower than the H100's at large sizes
	// (NVLink 3 against NVLink 4).
	a100 := mustGPUForAllReduce(t, "a100-40gb")
	if a, h := AllReduceSeconds(a100, 8, 1<<26), AllReduceSeconds(h100, 8, 1<<26); a <= h {
		t.Errorf("64 MiB on 8 GPUs: a100 %g s, want slower than h100 %g s", a, h)
	}
}

func TestParseAllReduceErrors(t *testing.T) {
	head := "topology,num_workers,size_bytes,median_ms\n"
	full := func(extra string) string {
		var b strings.Builder
		b.WriteString(head)
		for _, topo := range []string{"a100_dgx", "h100_dgx"} {
			for _, w := range []string{"2", "4", "8"} {
				b.WriteString(topo + "," + w + ",1024,0.01\n" + topo + "," + w + ",2048,0.02\n")
			}
		}
		return b.String() + extra
	}
	tests := []struct {
		name, data, wantErr string
	}{
		{"valid", full(""), ""},
		{"bad header", "a,b,c,d\n", "header"},
		{"unknown topology", full("a40_dgx,2,4096,0.1\n"), "unknown topology"},
		{"bad workers", full("h100_dgx,16,4096,0.1\n"), "num_workers"},
		{"sizes must increase", full("h100_dgx,8,2048,0.1\n"), "increase"},
		{"negative time", full("h100_dgx,8,4096,-1\n"), "positive"},
		{"missing series", head + "h100_dgx,2,1024,0.01\nh100_dgx,2,2048,0.02\n", "want at least 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseAllReduce([]byte(tt.data))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestAllReduceDoesNotAllocate(t *testing.T) {
	g := mustGPUForAllReduce(t, "l40s")
	allocs := testing.AllocsPerRun(100, func() {
		_ = AllReduceSeconds(g, 8, 3<<20)
	})
	if allocs != 0 {
		t.Errorf("got %g allocations per call, want 0", allocs)
	}
}

func BenchmarkAllReduceSeconds(b *testing.B) {
	g, _ := LookupGPU("h100")
	sizes := []float64{4096, 1 << 20, 3 << 22, 1 << 28}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = AllReduceSeconds(g, 8, sizes[i&3])
	}
}
