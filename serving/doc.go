// Package serving turns GPU and model specifications into the timings of
// one inference replica: prefill time, decode-step time and KV-cache
// capacity under continuous batching with tensor parallelism.
//
// It holds three things:
//
//   - the GPU catalog (GPUs, LookupGPU): memory, memory bandwidth, dense
//     tensor FLOP/s, power and interconnect of each accelerator, each entry
//     with its source;
//   - the model catalog (Models, LookupModel): the shapes of the Llama
//     models from their published config.json, from which KV bytes per
//     token and weight bytes follow;
//   - the Estimator interface that the simulator asks of a replica, and
//     Roofline, its first implementation: a roofline model with static
//     efficiency factors (DefaultEfficiency). A later, calibrated model can
//     replace Roofline behind the same interface.
//
// The package is pure: no I/O, no randomness, no global mutable state. The
// Estimator methods are on the simulator's hot path and do not allocate.
// See docs/serving.md for the model, its parameters and sources, and its
// measured error against public benchmarks.
package serving
