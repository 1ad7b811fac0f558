// Command importgen converts the public datasets of the project's shared
// data folder into the files fleetsim embeds:
//
//   - measurements/data/{argonne,trtllm,mlperf,vidur-linear}.csv, in the
//     canonical measurement format (package measurements);
//   - serving/data/allreduce.csv, the all-reduce table of
//     serving.AllReduceSeconds.
//
// Run it from the repository root:
//
//	go run ./measurements/internal/importgen [-shared ../shared/data] [-root .]
//
// It prints each importer's report. The tests of this command check that
// the committed files are what it writes (when the shared folder is there).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "importgen:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("importgen", flag.ContinueOnError)
	shared := fs.String("shared", filepath.Join("..", "shared", "data"), "the shared data folder")
	root := fs.String("root", ".", "the repository root")
	if err := fs.Parse(args); err != nil {
		return err
	}
	files, reports, err := generate(*shared)
	if err != nil {
		return err
	}
	for _, f := range files {
		path := filepath.Join(*root, f.path)
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		fmt.Fprintf(out, "wrote %s (%d bytes)\n", f.path, len(f.data))
	}
	for _, r := range reports {
		fmt.Fprintln(out, r)
	}
	return nil
}

// file is one generated file: its path from the repository root and content.
type file struct {
	path string
	data []byte
}

// generate converts every dataset of the shared folder and returns the
// files to write and the import reports, in a fixed order.
func generate(shared string) ([]file, []fmt.Stringer, error) {
	var files []file
	var reports []fmt.Stringer
	for _, s := range sources {
		rows, rep, err := s.convert(filepath.Join(shared, s.input))
		if err != nil {
			return nil, nil, err
		}
		var buf bytes.Buffer
		if err := writeRows(&buf, rows); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", s.output, err)
		}
		files = append(files, file{s.output, buf.Bytes()})
		reports = append(reports, rep)
	}
	ar, err := allReduceTable(filepath.Join(shared, "vidur_profiling", "collectives.csv"))
	if err != nil {
		return nil, nil, err
	}
	files = append(files, file{filepath.Join("serving", "data", "allreduce.csv"), ar})
	return files, reports, nil
}
