// Package bench holds fleetsim's step benchmark, step_bench.py: a python3 +
// PyTorch script that times decoder steps of a catalog model's exact shapes
// (random weights, a few layers scaled to the full depth) on a GPU and writes
// a measurement CSV that `fleetsim calibrate` fits, and device-check.sh, the
// script that runs it on a machine with an NVIDIA GPU.
//
// The package has no Go API. Its tests check that the script's model table,
// GPU ids and CSV header equal serving.Models, serving.GPUs and
// measurements.Header, and, where a python3 with torch is installed, run the
// script on the CPU and read its output with measurements.ReadCSV. See
// bench/README.md and docs/stepbench.md.
package bench
