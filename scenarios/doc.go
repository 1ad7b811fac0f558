// Package scenarios reads, defaults and validates fleetsim scenario files.
//
// A scenario file (apiVersion fleetsim/v1alpha1, kind Scenario) says what to
// simulate: sites and their GPU pools, the network, users and their daily
// load, chat and agent workloads with their SLOs, and the placement
// strategies to compare. The types in types.go are the file format; Load,
// Parse and Open decode a file strictly (unknown fields are errors), apply
// the documented defaults (SetDefaults) and check it (Validate), and report
// every problem found as Problems, each named by file, line and field path:
//
//	bad.yaml:7: spec.regions[us-east].clusters[0].gpuPools[0].count: must be >= 0, got -3
//
// Built-in scenarios are embedded (Builtins, BuiltinYAML), and so is the
// JSON Schema of the format (JSONSchema), generated from the Go types.
//
// The package knows nothing of the simulation: it imports the catalogs
// (topology, serving, workloads) only to check names.
package scenarios

//go:generate go run ./internal/schemagen -o schema.json
