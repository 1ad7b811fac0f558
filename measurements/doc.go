// Package measurements defines fleetsim's canonical measurement CSV, the
// format `fleetsim calibrate` reads, and converts public serving benchmarks
// into it.
//
// A measurement is one Row: a GPU and model from the serving catalog, a
// tensor-parallel degree and precision, a serving framework, and what was
// measured in one of four modes (Mode): a static batch, offline maximum
// throughput, a Poisson-arrival server run, or the time of one layer's
// linear operators. ReadCSV and WriteCSV read and write the format; Open
// reads a file.
//
// Four importers convert the public datasets of the project's shared data
// folder: ImportArgonne (LLM-Inference-Bench static batches), ImportTRTLLM
// (TensorRT-LLM's published max-throughput table), ImportMLPerf (MLPerf
// Inference LLM results) and ImportVidurLinear (Vidur's per-layer operator
// profiles). Each returns the rows it kept and an ImportReport that counts
// the rows it skipped by reason. The converted datasets are embedded in the
// package (Builtin, BuiltinDatasets); the generator in internal/importgen
// rewrites them.
//
// The package does no I/O except Open, holds no mutable global state and
// uses no randomness. See docs/measurements.md for the format and every
// importer's rules and assumptions.
package measurements
