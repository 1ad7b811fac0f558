// Package serving models one inference replica: the time and energy of
// one engine iteration under continuous batching with chunked prefill and
// tensor parallelism, and the replica's KV-cache capacity.
//
// It holds:
//
//   - the GPU catalog (GPUs, LookupGPU): memory, memory bandwidth, dense
//     tensor FLOP/s, TDP and interconnect of each accelerator, each entry
//     with its source;
//   - the model catalog (Models, LookupModel): the shapes of dense Llama,
//     Mistral and Qwen2 models from their published config.json, from
//     which KV bytes per token and weight bytes follow;
//   - StepModel (built by New from a ReplicaSpec and Coefficients), which
//     implements the Estimator interface the simulator uses. Its time
//     comes from one formula: linear layers bound by compute or weight
//     streaming, attention, tensor-parallel all-reduces and fixed overhead.
//     Energy comes from an assumed power model (TDP when compute-bound, a
//     fraction of it otherwise). DecodeRun sums a run of decode
//     iterations in closed form;
//   - Coefficients, the step model's free parameters, and
//     DefaultCoefficients, their uncalibrated values with sources.
//     Calibrated values come from package profiles;
//   - AllReduceSeconds, the all-reduce time read from Vidur's measured NCCL
//     table (data/allreduce.csv);
//   - Static and Steady, closed predictions of a static batch and of
//     steady-state continuous batching, used by `fleetsim predict` and
//     `fleetsim calibrate`.
//
// The package is pure: no I/O, no randomness, no mutable global state. The
// Estimator methods are on the simulator's hot path and do not allocate.
// See docs/serving.md for the formulas, parameters and their sources, and
// docs/accuracy.md for the measured error.
package serving
