package workloads

//go:generate go run ./internal/gen -data ../../shared/data -out builtin_gen.go

import (
	"slices"
	"strings"
)

// BuiltinInfo describes a built-in shape.
type BuiltinInfo struct {
	// Name is what a scenario writes, e.g. azure-conv-prompt.
	Name string
	// Unit of the values: tokens, calls or s.
	Unit string
	// Description says what was measured, and over how many data points.
	Description string
	// Source names the data set, its commit and its license.
	Source string
}

// builtinShape is one generated table: quantiles at builtinP.
type builtinShape struct {
	info BuiltinInfo
	q    []float64
}

// Builtin returns the built-in shape with the given name (case-insensitive)
// as a [Piecewise] distribution over its own copy of the table, and whether
// the name is known. See [Builtins] for the names.
func Builtin(name string) (Dist, bool) {
	name = strings.ToLower(name)
	for _, s := range builtinShapes {
		if s.info.Name == name {
			return Piecewise{P: slices.Clone(builtinP), Q: slices.Clone(s.q)}, true
		}
	}
	return nil, false
}

// Builtins describes every built-in shape, sorted by name.
func Builtins() []BuiltinInfo {
	out := make([]BuiltinInfo, len(builtinShapes))
	for i, s := range builtinShapes {
		out[i] = s.info
	}
	slices.SortFunc(out, func(a, b BuiltinInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}
