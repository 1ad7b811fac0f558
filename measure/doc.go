// Package measure checks the simulator against a real run: it simulates
// one strategy of a scenario scaled down to what one machine can serve,
// then replays the very calls the simulator issued as real HTTP requests,
// at their simulated issue times, against emulated replicas (package
// emulate) behind user-space TCP delay proxies that add each path's
// round-trip time, measures every request from its stream (package
// loadgen), and reports the predicted and measured TTFT and E2E
// percentiles side by side. See docs/measure.md.
package measure
