package measurements

import (
	"bytes"
	"embed"
	"fmt"
	"slices"
)

// builtinFS holds the converted public datasets, written by
// internal/importgen from the project's shared data (see data/README.md).
//
//go:embed data/*.csv
var builtinFS embed.FS

// builtinDatasets are the embedded datasets, in the order Builtin returns
// them; each is data/<name>.csv.
var builtinDatasets = []string{"argonne", "trtllm", "mlperf", "vidur-linear"}

// BuiltinDatasets returns the names of the embedded datasets.
func BuiltinDatasets() []string { return slices.Clone(builtinDatasets) }

// Builtin returns the rows of every embedded dataset, dataset by dataset
// in BuiltinDatasets order, each in its file's order. The embedded files
// are checked by the package's tests; a file that fails to parse is a
// programmer error, and Builtin panics.
func Builtin() []Row {
	var all []Row
	for _, name := range builtinDatasets {
		rows, err := BuiltinDataset(name)
		if err != nil {
			panic(fmt.Sprintf("measurements: embedded dataset: %v", err))
		}
		all = append(all, rows...)
	}
	return all
}

// BuiltinDataset returns the rows of one embedded dataset, or an error if
// there is none of that name.
func BuiltinDataset(name string) ([]Row, error) {
	if !slices.Contains(builtinDatasets, name) {
		return nil, fmt.Errorf("no builtin dataset %q (have %v)", name, builtinDatasets)
	}
	path := "data/" + name + ".csv"
	b, err := builtinFS.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read embedded %s: %w", path, err)
	}
	return ReadCSV(bytes.NewReader(b), path)
}
