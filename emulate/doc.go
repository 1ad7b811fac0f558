// Package emulate serves an OpenAI-compatible HTTP API that behaves like one
// inference replica in real time: requests are scheduled by iteration-level
// continuous batching with chunked prefill, as fleetsim's simulated replica
// schedules them, and every engine iteration lasts what the serving model
// (serving.StepModel) says it lasts, divided by a speed-up factor.
//
// It computes nothing: the text it returns is deterministic filler, one word
// per token. What it reproduces is timing (time to first token, time per
// output token, batching, queueing), KV-cache admission and vLLM-style
// Prometheus metrics, so that load generators, routers and autoscalers can
// be exercised against a replica of any GPU and model in the catalog
// without the hardware.
//
// Use New to build a Server from a Config, serve it with net/http, and
// Close it to stop its engine. docs/emulate.md describes the endpoints,
// metrics and the token-count rule.
package emulate
