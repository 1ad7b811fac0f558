package traces

import (
	"slices"
	"time"
)

// Request is one request of a Trace.
type Request struct {
	// ArrivalS is the arrival time in seconds: since the earliest request
	// for Azure, the trace's own timestamp/1000 for Mooncake.
	ArrivalS float64
	// Input and Output are the prompt and generated token counts, in
	// 1..MaxTokens.
	Input, Output int32
	// Hash holds the request's prefix-block hash ids (Mooncake), nil when
	// the trace has none. It is a view into the trace's shared slice:
	// read it, do not modify it.
	Hash []uint64
}

// Trace is a read-only sequence of requests sorted by arrival time (ties
// keep their input order). Build one with Read or Open.
type Trace struct {
	// Name is the name given to Read (the path for Open).
	Name string
	// Format is the format the trace was read as.
	Format Format
	// Start is the wall-clock time of ArrivalS 0 for Azure traces; the
	// file's times have no zone, so it is stored as UTC. It is the zero
	// time for Mooncake traces.
	Start time.Time
	// BlockTokens is the number of tokens per prefix block behind Hash.
	BlockTokens int

	arrival []float64
	input   []int32
	output  []int32
	hashOff []int // len(arrival)+1 offsets into hashes, nil without hashes
	hashes  []uint64
}

// Len returns the number of requests.
func (t *Trace) Len() int { return len(t.arrival) }

// At returns request i. It panics if i is out of range (a programmer error).
func (t *Trace) At(i int) Request {
	r := Request{ArrivalS: t.arrival[i], Input: t.input[i], Output: t.output[i]}
	if t.hashOff != nil {
		a, b := t.hashOff[i], t.hashOff[i+1]
		if b > a {
			r.Hash = t.hashes[a:b:b]
		}
	}
	return r
}

// DurationS returns the time from the first to the last arrival in
// seconds, 0 for fewer than two requests.
func (t *Trace) DurationS() float64 {
	if len(t.arrival) < 2 {
		return 0
	}
	return t.arrival[len(t.arrival)-1] - t.arrival[0]
}

// add appends one request; hash is copied.
func (t *Trace) add(arrival float64, in, out int32, hash []uint64) {
	t.arrival = append(t.arrival, arrival)
	t.input = append(t.input, in)
	t.output = append(t.output, out)
	if t.hashOff != nil {
		t.hashes = append(t.hashes, hash...)
		t.hashOff = append(t.hashOff, len(t.hashes))
	}
}

// unsorted counts the requests that arrive earlier than the one before.
func (t *Trace) unsorted() int {
	n := 0
	for i := 1; i < len(t.arrival); i++ {
		if t.arrival[i] < t.arrival[i-1] {
			n++
		}
	}
	return n
}

// sortStable sorts the requests by arrival, keeping the input order of
// ties.
func (t *Trace) sortStable() {
	perm := make([]int, len(t.arrival))
	for i := range perm {
		perm[i] = i
	}
	slices.SortStableFunc(perm, func(a, b int) int {
		switch {
		case t.arrival[a] < t.arrival[b]:
			return -1
		case t.arrival[a] > t.arrival[b]:
			return 1
		}
		return 0
	})
	s := &Trace{Name: t.Name, Format: t.Format, Start: t.Start, BlockTokens: t.BlockTokens,
		arrival: make([]float64, 0, len(perm)),
		input:   make([]int32, 0, len(perm)),
		output:  make([]int32, 0, len(perm)),
	}
	if t.hashOff != nil {
		s.hashOff = make([]int, 1, len(perm)+1)
		s.hashes = make([]uint64, 0, len(t.hashes))
	}
	for _, i := range perm {
		r := t.At(i)
		s.add(r.ArrivalS, r.Input, r.Output, r.Hash)
	}
	*t = *s
}

// finish sorts t and records the disorder in rep.
func (t *Trace) finish(rep *Report) {
	if rep.Unsorted = t.unsorted(); rep.Unsorted > 0 {
		t.sortStable()
	}
}
