// Package loadgen is a load generator for OpenAI-compatible streaming
// inference servers (vLLM, SGLang, TensorRT-LLM's trtllm-serve, fleetsim
// emulate). It sends requests of a fixed prompt and output length, either
// closed-loop at a fixed concurrency or open-loop at a Poisson rate, and
// measures each request from its server-sent-event stream: time to first
// token, time per output token, end-to-end time and output tokens. Failed
// requests are classified by ErrorKind and counted, never mixed into the
// latency statistics.
//
// Run measures one load point, Sweep a list of them. Result.Row turns a
// point into a measurement row (package measurements, mode server) that
// `fleetsim calibrate` reads. The CLI front end is `fleetsim gpu bench`
// (docs/bench.md).
//
// Randomness (the Poisson arrival times) comes only from the *rand.Rand in
// Config. The package keeps no global state; the wall clock is read only to
// time requests.
package loadgen
