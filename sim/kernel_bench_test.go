package sim

import (
	"container/heap"
	"math/rand/v2"
	"strconv"
	"testing"
)

// The hold model (Vaucher and Duval, "A comparison of simulation event list
// algorithms", CACM 18(4), 1975): keep n events pending; each step pops the
// earliest and schedules one at now plus a random increment. The increments
// come from a pre-generated table so that the random generator's cost is not
// measured. Each benchmark reports events/s (one pop plus one push per event).

// holdSizes are the pending-queue sizes the brief asks for.
var holdSizes = []int{1e3, 1e5}

// holdTableSize is a power of two, so i&(holdTableSize-1) indexes the table.
const holdTableSize = 1 << 16

// holdIncrements returns exponential increments with a mean of 1 ms, rounded
// to whole µs (so about 0.05% of them are zero and produce exact ties).
func holdIncrements() []int64 {
	r := rand.New(rand.NewPCG(1, 2))
	inc := make([]int64, holdTableSize)
	for i := range inc {
		inc[i] = int64(r.ExpFloat64()*1000 + 0.5)
	}
	return inc
}

func reportEventsPerSecond(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkKernelHold(b *testing.B) {
	inc := holdIncrements()
	for _, n := range holdSizes {
		b.Run("pending=1e"+strconv.Itoa(log10(n)), func(b *testing.B) {
			k := NewKernel()
			k.Reserve(n + 1)
			for i := range n {
				k.Schedule(Time(inc[i&(holdTableSize-1)]), 0, 1, int32(i), 0)
			}
			for i := 0; b.Loop(); i++ {
				ev, _ := k.Next()
				k.Schedule(ev.At+Time(inc[i&(holdTableSize-1)]), 0, ev.Kind, ev.Ref, ev.Gen)
			}
			reportEventsPerSecond(b)
		})
	}
}

// bareItem is the reference heap's element: a time and a tie-breaking
// sequence number, nothing else.
type bareItem struct {
	t   int64
	seq uint64
}

func bareLess(a, b bareItem) bool {
	return a.t < b.t || (a.t == b.t && a.seq < b.seq)
}

// bareHeap is a plain binary min-heap written the fast way (moving a hole,
// not swapping), as a yardstick for the kernel.
type bareHeap []bareItem

func (h *bareHeap) push(x bareItem) {
	*h = append(*h, x)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !bareLess(x, s[p]) {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = x
}

func (h *bareHeap) pop() bareItem {
	s := *h
	n := len(s) - 1
	top, x := s[0], s[n]
	s = s[:n]
	*h = s
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && bareLess(s[c+1], s[c]) {
			c++
		}
		if !bareLess(s[c], x) {
			break
		}
		s[i] = s[c]
		i = c
	}
	if n > 0 {
		s[i] = x
	}
	return top
}

func BenchmarkBareHeap(b *testing.B) {
	inc := holdIncrements()
	for _, n := range holdSizes {
		b.Run("pending=1e"+strconv.Itoa(log10(n)), func(b *testing.B) {
			h := make(bareHeap, 0, n+1)
			var seq uint64
			for i := range n {
				h.push(bareItem{inc[i&(holdTableSize-1)], seq})
				seq++
			}
			for i := 0; b.Loop(); i++ {
				x := h.pop()
				h.push(bareItem{x.t + inc[i&(holdTableSize-1)], seq})
				seq++
			}
			reportEventsPerSecond(b)
		})
	}
}

// stdHeap adapts a slice of bareItem to container/heap.
type stdHeap []bareItem

func (h stdHeap) Len() int           { return len(h) }
func (h stdHeap) Less(i, j int) bool { return bareLess(h[i], h[j]) }
func (h stdHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *stdHeap) Push(x any)        { *h = append(*h, x.(bareItem)) }
func (h *stdHeap) Pop() any {
	s := *h
	x := s[len(s)-1]
	*h = s[:len(s)-1]
	return x
}

func BenchmarkContainerHeap(b *testing.B) {
	inc := holdIncrements()
	for _, n := range holdSizes {
		b.Run("pending=1e"+strconv.Itoa(log10(n)), func(b *testing.B) {
			h := make(stdHeap, 0, n+1)
			var seq uint64
			for i := range n {
				heap.Push(&h, bareItem{inc[i&(holdTableSize-1)], seq})
				seq++
			}
			for i := 0; b.Loop(); i++ {
				x := heap.Pop(&h).(bareItem)
				heap.Push(&h, bareItem{x.t + inc[i&(holdTableSize-1)], seq})
				seq++
			}
			reportEventsPerSecond(b)
		})
	}
}

// log10 returns the exponent of an exact power of ten, for benchmark names.
func log10(n int) int {
	e := 0
	for n >= 10 {
		n /= 10
		e++
	}
	return e
}
