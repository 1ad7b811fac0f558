// Package fleet simulates a fleet of inference replicas serving chat users
// and agent sessions across places, on the sim kernel: routing, network
// delay, continuous batching and the measurement of what each placement
// strategy achieves.
//
// A World is fully resolved (indexes and numbers, no names to look up and
// no files); Simulate runs one strategy of it and is a pure function of the
// World, the strategy and the seed.
package fleet
