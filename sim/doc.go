// Package sim is fleetsim's discrete-event kernel: an integer logical clock,
// a priority queue of events ordered by (time, priority, insertion order), and
// named, reproducible random streams derived from one seed.
//
// The kernel is pure. It uses only the Go standard library, starts no
// goroutines, never reads the wall clock, does no I/O and never logs. It knows
// nothing of scenario files, YAML or Kubernetes: the caller builds the world,
// drives the kernel and measures the results.
//
// # The clock
//
// Simulated time is a [Time], an int64 count of microseconds. The tick is one
// microsecond because:
//
//   - It is finer than anything the simulator models. The shortest modelled
//     delays are intra-datacenter round trips (tens of µs) and GPU decode steps
//     (milliseconds); WAN round trips and agent think times are milliseconds to
//     seconds. Rounding a model's float64 seconds to the nearest µs moves an
//     event by at most 0.5 µs, far below the error of any of those models.
//   - An int64 of microseconds spans about ±292,000 years, so no scenario
//     (days to months of simulated time) comes near overflow; nanoseconds
//     would give about ±292 years, which is enough but buys only precision
//     nobody can use.
//   - An integer clock is exact. Adding float64 seconds drifts with the order
//     of additions and turns equal times into almost-equal ones; integer ticks
//     make ties exact, so the tie rule (priority, then insertion order) decides
//     them deterministically.
//
// # Event order
//
// [Kernel.Next] returns events in increasing (At, priority, sequence) order:
// earliest time first; at equal times the lower priority value first; at equal
// time and priority the event scheduled first (FIFO). The kernel never moves
// the clock backwards, and scheduling before [Kernel.Now] panics.
//
// # The pull loop
//
// The caller pulls events and dispatches on the caller-defined Kind, with no
// callbacks or interface calls on the hot path:
//
//	for {
//		ev, ok := k.Next()
//		if !ok {
//			break
//		}
//		switch ev.Kind {
//		case evArrival:
//			...
//		}
//	}
//
// # Cancellation
//
// The kernel offers lazy cancellation: each caller object carries a
// generation number, the event carries the generation current when it was
// scheduled (Event.Gen), cancelling bumps the object's generation, and the
// loop drops any event whose Gen no longer matches. A stale event stays in the
// queue until its time comes and is then skipped in O(1). True removal would
// need every queue entry's position tracked and updated on every swap, which
// slows every Schedule and Next; see the package example.
//
// # Random streams
//
// [Stream] derives one independent PCG generator (math/rand/v2) per named
// subsystem from the scenario's single seed, so adding draws to one subsystem
// never shifts the numbers another subsystem sees.
package sim
