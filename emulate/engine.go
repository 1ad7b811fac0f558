package emulate

import (
	"errors"
	"sync"
	"time"

	"github.com/fleetsim/fleetsim/serving"
)

// Errors the engine reports to request handlers.
var (
	// ErrQueueFull: the waiting queue already holds MaxQueue requests.
	ErrQueueFull = errors.New("waiting queue is full")
	// ErrClosed: the server was closed.
	ErrClosed = errors.New("server is shutting down")
)

// maxLag bounds how far behind the previous iteration's planned end the
// next iteration may start and still be timed from that planned end. Within
// it, oversleeping and bookkeeping do not accumulate; beyond it (an
// overloaded machine) the engine restarts its clock from now.
const maxLag = 50 * time.Millisecond

// seq is one request on the replica. Fields after notify are guarded by
// engine.mu.
type seq struct {
	prompt int           // prompt tokens
	output int           // output tokens to generate
	notify chan struct{} // capacity 1: something changed

	done      int  // prompt tokens computed
	chunk     int  // prompt tokens in the current iteration
	decoding  bool // prefill complete
	ctx       int  // KV-cache tokens once decoding
	produced  int  // output tokens generated
	blocks    int  // KV blocks reserved
	running   bool // admitted
	finished  bool
	cancelled bool
	err       error
}

// engine is the replica's scheduler and its clock.
type engine struct {
	model    *serving.StepModel
	speedup  float64
	maxBatch int
	budget   int
	maxQueue int
	bt       int // tokens per KV block
	blocks   int // KV blocks in the replica

	wake chan struct{} // capacity 1: new work
	stop chan struct{} // closed by close
	done chan struct{} // closed when loop returns
	once sync.Once

	mu      sync.Mutex
	used    int // blocks reserved by running sequences
	running []*seq
	waiting []*seq
	closed  bool

	promptTotal, generationTotal, successTotal int64
}

func newEngine(m *serving.StepModel, speedup float64, budget, maxQueue, blockTokens int) *engine {
	return &engine{
		model:    m,
		speedup:  speedup,
		maxBatch: m.MaxBatch(),
		budget:   budget,
		maxQueue: maxQueue,
		bt:       blockTokens,
		blocks:   m.KVCapacityTokens() / blockTokens,
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// blocksFor is the number of KV blocks that hold n tokens.
func (e *engine) blocksFor(n int) int { return (n + e.bt - 1) / e.bt }

// fits says whether a request of prompt+output tokens can ever be admitted.
func (e *engine) fits(prompt, output int) bool { return e.blocksFor(prompt+output) <= e.blocks }

// poke sends on c without blocking; c has capacity 1, so a pending wake-up is kept.
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// submit queues a request of prompt tokens that generates output tokens.
// It is admitted at once when the batch and the KV cache have room and
// nobody waits before it; else it waits, unless MaxQueue requests already do.
func (e *engine) submit(prompt, output int) (*seq, error) {
	s := &seq{prompt: prompt, output: output, notify: make(chan struct{}, 1)}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if len(e.waiting) == 0 && e.canAdmit(s) {
		e.admit(s)
	} else {
		if len(e.waiting) >= e.maxQueue {
			return nil, ErrQueueFull
		}
		e.waiting = append(e.waiting, s)
	}
	poke(e.wake)
	return s, nil
}

func (e *engine) canAdmit(s *seq) bool {
	return len(e.running) < e.maxBatch && e.used+e.blocksFor(s.prompt+s.output) <= e.blocks
}

// admit makes s a running sequence. It reserves the KV blocks of the whole
// request (prompt and output), so a running sequence is never preempted.
func (e *engine) admit(s *seq) {
	s.blocks = e.blocksFor(s.prompt + s.output)
	s.running = true
	e.used += s.blocks
	e.running = append(e.running, s)
}

// cancel withdraws s (its client went away). A running sequence's blocks
// are freed at the end of the current iteration.
func (e *engine) cancel(s *seq) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.finished || s.err != nil || s.cancelled {
		return
	}
	s.cancelled = true
	if !s.running {
		for i, w := range e.waiting {
			if w == s {
				e.waiting = append(e.waiting[:i], e.waiting[i+1:]...)
				break
			}
		}
	}
}

// state returns what a handler needs of s.
func (e *engine) state(s *seq) (produced int, finished bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return s.produced, s.finished, s.err
}

// admitWaiting drops cancelled sequences and admits waiting ones, oldest
// first, while they fit. Called with mu held.
func (e *engine) admitWaiting() {
	kept := e.running[:0]
	for _, s := range e.running {
		if s.cancelled {
			e.used -= s.blocks
			continue
		}
		kept = append(kept, s)
	}
	clear(e.running[len(kept):])
	e.running = kept
	n := 0
	for _, s := range e.waiting {
		if !e.canAdmit(s) {
			break
		}
		e.admit(s)
		n++
	}
	e.waiting = append(e.waiting[:0], e.waiting[n:]...)
}

// plan builds the next iteration's batch: one decode token for every
// decoding sequence, then prompt chunks of the prefilling ones, oldest
// first, within the token budget. Called with mu held.
func (e *engine) plan() serving.Batch {
	var b serving.Batch
	for _, s := range e.running {
		if s.decoding {
			b.DecodeSeqs++
			b.DecodeContext += s.ctx
		}
	}
	room := e.budget - b.DecodeSeqs
	for _, s := range e.running {
		if room <= 0 {
			break
		}
		if s.decoding {
			continue
		}
		ch := min(room, s.prompt-s.done)
		s.chunk = ch
		room -= ch
		b.PrefillTokens += ch
		b.PrefillSeqs++
		b.PrefillPairs += float64(ch) * (float64(s.done) + float64(ch)/2)
	}
	return b
}

// commit ends the iteration plan built: prompt chunks are computed (a
// sequence whose prompt is complete samples its first token), decoding
// sequences get one token each, and finished sequences free their blocks.
// Called with mu held.
func (e *engine) commit() {
	kept := e.running[:0]
	for _, s := range e.running {
		if s.cancelled {
			e.used -= s.blocks
			continue
		}
		switch {
		case s.chunk > 0:
			s.done += s.chunk
			s.chunk = 0
			if s.done < s.prompt {
				kept = append(kept, s)
				continue
			}
			s.decoding = true
			s.ctx = s.prompt
			s.produced = 1
			e.promptTotal += int64(s.prompt)
			e.generationTotal++
		case s.decoding:
			s.produced++
			s.ctx++
			e.generationTotal++
		default: // admitted after plan, or no budget left for it
			kept = append(kept, s)
			continue
		}
		if s.produced >= s.output {
			s.finished = true
			e.used -= s.blocks
			e.successTotal++
		} else {
			kept = append(kept, s)
		}
		poke(s.notify)
	}
	clear(e.running[len(kept):])
	e.running = kept
}

// loop runs iterations until close: admit, plan, sleep the step time
// divided by the speed-up, commit. It idles while nothing runs.
func (e *engine) loop() {
	defer close(e.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var last time.Time // planned end of the previous iteration; zero after idling
	for {
		e.mu.Lock()
		e.admitWaiting()
		b := e.plan()
		e.mu.Unlock()
		if b.PrefillSeqs == 0 && b.DecodeSeqs == 0 {
			last = time.Time{}
			select {
			case <-e.wake:
				continue
			case <-e.stop:
				return
			}
		}
		d := time.Duration(e.model.StepSeconds(b) / e.speedup * float64(time.Second))
		start := time.Now()
		if !last.IsZero() && start.Sub(last) < maxLag {
			start = last
		}
		last = start.Add(d)
		timer.Reset(time.Until(last))
		select {
		case <-timer.C:
		case <-e.stop:
			timer.Stop()
			return
		}
		e.mu.Lock()
		e.commit()
		e.mu.Unlock()
	}
}

// close stops the loop and ends every unfinished request with ErrClosed.
func (e *engine) close() {
	e.once.Do(func() {
		e.mu.Lock()
		e.closed = true
		for _, list := range [][]*seq{e.running, e.waiting} {
			for _, s := range list {
				s.err = ErrClosed
				poke(s.notify)
			}
		}
		e.running, e.waiting, e.used = nil, nil, 0
		e.mu.Unlock()
		close(e.stop)
		<-e.done
	})
}

// snapshot is the engine's state for /metrics.
type snapshot struct {
	running, waiting                           int
	kvUsage                                    float64
	promptTotal, generationTotal, successTotal int64
}

func (e *engine) snapshot() snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	return snapshot{
		running: len(e.running), waiting: len(e.waiting),
		kvUsage:     float64(e.used) / float64(e.blocks),
		promptTotal: e.promptTotal, generationTotal: e.generationTotal, successTotal: e.successTotal,
	}
}
