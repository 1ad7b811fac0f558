// Package workloads holds the shapes of traffic: distributions of token
// counts and times, daily load curves in local time, and non-homogeneous
// Poisson arrivals.
//
// Distributions implement [Dist]. The parametric families ([Constant],
// [Exponential], [LogNormal], [Uniform]) and the tabulated ones ([Empirical],
// [Piecewise]) are value structs with exported parameters; [Clamp] bounds the
// draws of any of them. [Builtin] returns shapes measured from public traces
// (Azure LLM inference 2023, mini-SWE-agent on SWE-bench Verified); their
// quantile tables are generated from the data by
//
//	go run ./workloads/internal/gen -data ../shared/data -out workloads/builtin_gen.go
//
// and a test keeps the committed tables equal to what the generator produces.
//
// A [Curve] gives the load of a user group over a local day as multipliers of
// the peak rate, and [Arrivals] draws the arrival times of a non-homogeneous
// Poisson process that follows such a curve.
//
// Randomness always comes from an explicit *rand.Rand (math/rand/v2) passed
// by the caller; nothing in this package uses a global generator, and Sample
// and Next do not allocate.
package workloads
