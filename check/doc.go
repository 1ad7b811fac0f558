// Package check judges simulation results for continuous integration: it
// names every number of a results.Result as a metric
// ("central.chat.p95_ttft_ms"), parses and evaluates assertions over those
// metrics in a small expression language ("edge.agent.p95_task_s <
// centralized.agent.p95_task_s"), compares metrics with a stored baseline
// under per-metric tolerances, and writes JUnit XML reports.
//
// The package simulates nothing and never exits: the caller runs the
// scenario, and passes the result in. docs/check.md describes the language,
// the metric names, baselines and the reports.
package check
