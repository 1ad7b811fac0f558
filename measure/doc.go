// Package measure checks the simulator against a real run: it simulates
// one strategy of a scenario scaled down to what one machine can serve,
// then replays the very calls the simulator issued as real HTTP requests
// against emulated replicas (package emulate) behind user-space TCP delay
// proxies that add each path's round-trip time, measures every request
// from its stream (package loadgen), and reports the predicted and
// measured TTFT and E2E percentiles side by side. Chat calls are sent at
// their simulated issue times; an agent session's steps are sent closed
// loop (each after the previous step's real answer plus the simulator's
// tool and orchestration gap), and its task time is compared too. A pool
// may instead be served by replicas running elsewhere (Options.Endpoints,
// such as a kind cluster's pods behind a NodePort Service). See
// docs/measure.md.
package measure
