// Package metrics records streaming measurements in bounded memory:
// log-linear bucketed histograms (in the manner of HdrHistogram) whose
// quantiles are within 1% of the exact sample quantiles, whatever the number
// of samples.
//
// The package uses only the Go standard library and is deterministic: the
// same values added in the same order give the same histogram, bit for bit,
// and merging gives the same buckets, counts, minimum and maximum as adding
// every value to one histogram.
package metrics
