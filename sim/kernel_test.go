package sim

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// sched is one Schedule call in a test table.
type sched struct {
	at   Time
	prio uint8
	ref  int32
}

func TestKernelOrder(t *testing.T) {
	// Each want lists the refs in the order the ordering rule (time, then
	// lower priority, then insertion order) dictates, worked out by hand.
	tests := []struct {
		name string
		in   []sched
		want []int32
	}{
		{
			name: "by time",
			in:   []sched{{30, 0, 1}, {10, 0, 2}, {20, 0, 3}},
			want: []int32{2, 3, 1},
		},
		{
			name: "equal times by priority",
			in:   []sched{{5, 2, 1}, {5, 0, 2}, {5, 1, 3}, {5, 255, 4}},
			want: []int32{2, 3, 1, 4},
		},
		{
			name: "equal time and priority FIFO",
			in:   []sched{{7, 1, 1}, {7, 1, 2}, {7, 1, 3}, {7, 1, 4}, {7, 1, 5}},
			want: []int32{1, 2, 3, 4, 5},
		},
		{
			name: "time beats priority",
			in:   []sched{{9, 0, 1}, {8, 255, 2}},
			want: []int32{2, 1},
		},
		{
			name: "mixed",
			in: []sched{
				{10, 1, 1}, {10, 0, 2}, {5, 3, 3}, {10, 1, 4},
				{5, 3, 5}, {0, 9, 6}, {10, 0, 7}, {Hour, 0, 8},
			},
			// t=0: 6; t=5 prio 3: 3, 5 (FIFO); t=10 prio 0: 2, 7;
			// t=10 prio 1: 1, 4; t=1h: 8.
			want: []int32{6, 3, 5, 2, 7, 1, 4, 8},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := NewKernel()
			for _, s := range tt.in {
				k.Schedule(s.at, s.prio, 0, s.ref, 0)
			}
			var got []int32
			for {
				ev, ok := k.Next()
				if !ok {
					break
				}
				got = append(got, ev.Ref)
			}
			if !equalRefs(got, tt.want) {
				t.Errorf("got order %v, want %v", got, tt.want)
			}
		})
	}
}

func equalRefs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// refQueue is the dumb reference: a slice kept sorted by (at, prio, seq),
// with insertion by linear scan and removal from the front.
type refQueue struct {
	evs []refEvent
	seq uint64
}

type refEvent struct {
	at   Time
	prio uint8
	seq  uint64
	kind uint16
	ref  int32
	gen  uint32
}

func (q *refQueue) schedule(at Time, prio uint8, kind uint16, ref int32, gen uint32) {
	e := refEvent{at, prio, q.seq, kind, ref, gen}
	q.seq++
	i := 0
	for i < len(q.evs) {
		o := q.evs[i]
		if e.at < o.at || (e.at == o.at && e.prio < o.prio) {
			break // sequences only grow, so a later seq never goes first
		}
		i++
	}
	q.evs = append(q.evs, refEvent{})
	copy(q.evs[i+1:], q.evs[i:])
	q.evs[i] = e
}

func (q *refQueue) next() (refEvent, bool) {
	if len(q.evs) == 0 {
		return refEvent{}, false
	}
	e := q.evs[0]
	q.evs = q.evs[1:]
	return e, true
}

// TestKernelAgainstReference runs seeded random sequences of Schedule, Next
// and Peek on the kernel and on refQueue and requires identical results,
// checking on the way that the clock never decreases and that Pending and
// Processed count correctly. The "renumber" cases force the insertion
// sequence to be renumbered every few calls, the path that otherwise runs
// only every 2^28 Schedule calls.
func TestKernelAgainstReference(t *testing.T) {
	seeds, ops := 200, 3000
	if testing.Short() {
		seeds, ops = 50, 2000
	}
	tests := []struct {
		name     string
		seqLimit uint64
		maxDelay int64 // delays are drawn from [0, maxDelay]; small values make ties
		pSched   float64
	}{
		{"ties", 0, 3, 0.55},
		{"spread", 0, 1000, 0.5},
		{"growing", 0, 50, 0.7},
		{"renumber every 5", 5, 3, 0.55},
		{"renumber every 64", 64, 20, 0.6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := range uint64(seeds) {
				r := rand.New(rand.NewPCG(seed, 99))
				k := NewKernel()
				if tt.seqLimit != 0 {
					k.init()
					k.seqLimit = tt.seqLimit
				}
				var ref refQueue
				var processed uint64
				prev := k.Now()
				for op := range ops {
					if r.Float64() < tt.pSched {
						at := k.Now() + Time(r.Int64N(tt.maxDelay+1))
						prio := uint8(r.IntN(3))
						kind := uint16(r.IntN(1 << 16))
						gen := r.Uint32()
						k.Schedule(at, prio, kind, int32(op), gen)
						ref.schedule(at, prio, kind, int32(op), gen)
					} else {
						gotT, gotPeek := k.Peek()
						got, gotOK := k.Next()
						want, wantOK := ref.next()
						if gotOK != wantOK || gotPeek != wantOK {
							t.Fatalf("seed %d op %d: got ok %v (peek %v), want %v", seed, op, gotOK, gotPeek, wantOK)
						}
						if gotOK {
							processed++
							if got.At != want.at || got.Priority() != want.prio || got.Kind != want.kind ||
								got.Ref != want.ref || got.Gen != want.gen || gotT != want.at {
								t.Fatalf("seed %d op %d: got %+v (peek %v), want %+v", seed, op, got, gotT, want)
							}
							if k.Now() != got.At {
								t.Fatalf("seed %d op %d: got Now %v after event at %v, want equal", seed, op, k.Now(), got.At)
							}
						}
					}
					if k.Now() < prev {
						t.Fatalf("seed %d op %d: clock went back from %v to %v", seed, op, prev, k.Now())
					}
					prev = k.Now()
					if k.Pending() != len(ref.evs) {
						t.Fatalf("seed %d op %d: got Pending %d, want %d", seed, op, k.Pending(), len(ref.evs))
					}
					if k.Processed() != processed {
						t.Fatalf("seed %d op %d: got Processed %d, want %d", seed, op, k.Processed(), processed)
					}
				}
			}
		})
	}
}

func TestKernelAccounting(t *testing.T) {
	k := NewKernel()
	if _, ok := k.Next(); ok {
		t.Fatalf("got an event from an empty kernel, want none")
	}
	if _, ok := k.Peek(); ok {
		t.Fatalf("got Peek ok on an empty kernel, want false")
	}
	for i := range 10 {
		k.Schedule(Time(i)*Second, 0, 0, int32(i), 0)
	}
	for i := range 4 {
		if _, ok := k.Next(); !ok {
			t.Fatalf("pop %d: got no event, want one", i)
		}
	}
	if got, want := k.Pending(), 6; got != want {
		t.Errorf("got Pending %d, want %d", got, want)
	}
	if got, want := k.Processed(), uint64(4); got != want {
		t.Errorf("got Processed %d, want %d", got, want)
	}
	if got, want := k.Now(), 3*Second; got != want {
		t.Errorf("got Now %v, want %v", got, want)
	}
	for range 6 {
		k.Next()
	}
	// Next on an empty kernel leaves the clock and the count alone.
	if _, ok := k.Next(); ok {
		t.Fatalf("got an event after draining, want none")
	}
	if got, want := k.Now(), 9*Second; got != want {
		t.Errorf("got Now %v after draining, want %v", got, want)
	}
	if got, want := k.Processed(), uint64(10); got != want {
		t.Errorf("got Processed %d, want %d", got, want)
	}
	if got := k.Pending(); got != 0 {
		t.Errorf("got Pending %d, want 0", got)
	}
}

func TestZeroKernel(t *testing.T) {
	var k Kernel
	if got := k.Pending(); got != 0 {
		t.Errorf("got Pending %d, want 0", got)
	}
	if _, ok := k.Next(); ok {
		t.Fatalf("got an event from a zero kernel, want none")
	}
	k.Schedule(2, 0, 7, 1, 0)
	k.Schedule(1, 0, 8, 2, 0)
	ev, ok := k.Next()
	if !ok || ev.Ref != 2 || ev.Kind != 8 {
		t.Fatalf("got %+v, %v, want ref 2 kind 8", ev, ok)
	}
}

func TestSchedulePast(t *testing.T) {
	tests := []struct {
		name      string
		at        Time
		wantPanic bool
	}{
		{"now", 5 * Second, false},
		{"later", 5*Second + 1, false},
		{"one tick before now", 5*Second - 1, true},
		{"negative", -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := NewKernel()
			k.Schedule(5*Second, 0, 0, 0, 0)
			k.Next()
			defer func() {
				r := recover()
				if (r != nil) != tt.wantPanic {
					t.Fatalf("got panic %v, want panic %v", r, tt.wantPanic)
				}
				if r != nil && !strings.Contains(r.(string), "before now 5s") {
					t.Errorf("got panic message %q, want it to name the current time", r)
				}
			}()
			k.Schedule(tt.at, 0, 0, 0, 0)
		})
	}
}

func TestScheduleExtremeTimes(t *testing.T) {
	// The branch-free comparison treats times as unsigned; it must still
	// order the whole non-negative range.
	k := NewKernel()
	k.Schedule(MaxTime, 0, 0, 1, 0)
	k.Schedule(0, 0, 0, 2, 0)
	k.Schedule(MaxTime-1, 0, 0, 3, 0)
	k.Schedule(1<<62, 0, 0, 4, 0)
	k.Schedule(MaxTime, 0, 0, 5, 0)
	want := []int32{2, 4, 3, 1, 5}
	var got []int32
	for ev, ok := k.Next(); ok; ev, ok = k.Next() {
		got = append(got, ev.Ref)
	}
	if !equalRefs(got, want) {
		t.Errorf("got order %v, want %v", got, want)
	}
}

// TestKernelAllocs checks that a reserved kernel in steady state allocates
// nothing per event.
func TestKernelAllocs(t *testing.T) {
	k := NewKernel()
	k.Reserve(1000)
	for i := range 1000 {
		k.Schedule(Time(i), 0, 0, 0, 0)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		ev, _ := k.Next()
		k.Schedule(ev.At+1000, 0, 0, 0, 0)
	})
	if allocs != 0 {
		t.Errorf("got %v allocations per event, want 0", allocs)
	}
}

func TestReserve(t *testing.T) {
	k := NewKernel()
	k.Schedule(3, 0, 0, 3, 0)
	k.Schedule(1, 0, 0, 1, 0)
	k.Reserve(500)
	if got := k.Pending(); got != 2 {
		t.Fatalf("got Pending %d after Reserve, want 2", got)
	}
	if c := cap(k.heap) - root; c < 500 {
		t.Errorf("got heap capacity %d, want >= 500", c)
	}
	k.Reserve(1) // smaller than pending: no effect
	for _, want := range []int32{1, 3} {
		ev, ok := k.Next()
		if !ok || ev.Ref != want {
			t.Fatalf("got %+v, %v, want ref %d", ev, ok, want)
		}
	}
}
