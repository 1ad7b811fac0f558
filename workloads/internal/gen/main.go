// Command gen writes the built-in workload shapes of package workloads
// (workloads/builtin_gen.go) from the public traces in the shared data
// folder, and with -facts prints what it measured as Markdown.
//
// Run it from the repository root:
//
//	go run ./workloads/internal/gen -data ../shared/data -out workloads/builtin_gen.go
//	go run ./workloads/internal/gen -data ../shared/data -facts
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/fleetsim/fleetsim/workloads/internal/shapes"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	data := fs.String("data", "../shared/data", "the shared data folder")
	out := fs.String("out", "", "write the generated Go file here")
	facts := fs.Bool("facts", false, "print the measured facts as Markdown")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" && !*facts {
		return errors.New("nothing to do: give -out, -facts or both")
	}
	shp, ex, err := shapes.Extract(*data)
	if err != nil {
		return err
	}
	if *out != "" {
		src, err := shapes.Render(shp)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, src, 0o644); err != nil {
			return fmt.Errorf("write generated file: %w", err)
		}
	}
	if *facts {
		_, err := io.WriteString(stdout, shapes.Facts(shp, ex))
		return err
	}
	return nil
}
