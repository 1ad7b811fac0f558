package sim_test

import (
	"fmt"

	"github.com/fleetsim/fleetsim/sim"
)

// Event kinds of the example; the kernel leaves their meaning to the caller.
const (
	evResponse uint16 = iota
	evTimeout
)

// request is one object of the caller's slab. Its generation counts how many
// times its pending events have been invalidated.
type request struct {
	gen uint32
}

// The lazy cancellation pattern: every event carries the generation its
// object had when it was scheduled; cancelling bumps the object's generation,
// and the pull loop drops events whose Gen no longer matches. Here each
// request races a response against a timeout, and whichever comes first
// cancels the other.
func Example_lazyCancellation() {
	k := sim.NewKernel()
	reqs := make([]request, 2)
	latency := []sim.Time{80 * sim.Millisecond, 300 * sim.Millisecond}
	const timeout = 200 * sim.Millisecond
	for i := range reqs {
		k.Schedule(latency[i], 0, evResponse, int32(i), reqs[i].gen)
		k.Schedule(timeout, 0, evTimeout, int32(i), reqs[i].gen)
	}

	for {
		ev, ok := k.Next()
		if !ok {
			break
		}
		r := &reqs[ev.Ref]
		if ev.Gen != r.gen {
			fmt.Printf("%v: request %d: stale event dropped\n", k.Now(), ev.Ref)
			continue
		}
		switch ev.Kind {
		case evResponse:
			fmt.Printf("%v: request %d answered\n", k.Now(), ev.Ref)
		case evTimeout:
			fmt.Printf("%v: request %d timed out\n", k.Now(), ev.Ref)
		}
		r.gen++ // cancels the request's other pending event
	}
	fmt.Println("processed", k.Processed())
	// Output:
	// 80ms: request 0 answered
	// 200ms: request 0: stale event dropped
	// 200ms: request 1 timed out
	// 300ms: request 1: stale event dropped
	// processed 4
}

// One named stream per subsystem, all from the scenario's one seed: adding
// draws to one subsystem never changes what another sees.
func ExampleStream() {
	const seed = 2026
	arrivals := sim.Stream(seed, "arrivals")
	faults := sim.Stream(seed, "faults")
	again := sim.Stream(seed, "arrivals")
	a, f, b := arrivals.Uint64(), faults.Uint64(), again.Uint64()
	fmt.Println(a == b, a == f)
	// Output: true false
}
