// Package calibrate fits the serving step model's free coefficients
// (serving.Coefficients) to measurements (package measurements) and
// measures the fitted model's error.
//
// Every measurement row is predicted by the same step model the simulator
// runs: a static batch (Static), continuous batching at its highest
// sustainable concurrency (Steady at MaxConcurrency), or continuous batching
// under Poisson arrivals at a given rate (Steady at the concurrency Little's
// law gives). Rows are grouped by engine family (a profile: vllm, trtllm)
// and GPU, and each group's coefficients minimise the mean squared log
// error over its fit rows with gonum's Nelder-Mead. Rows are split into fit
// and check parts by model, never at random, so the check error is the
// error on models the fit never saw.
package calibrate
