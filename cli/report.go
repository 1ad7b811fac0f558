package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/reports"
	"github.com/fleetsim/fleetsim/results"
	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/world"
)

// reportFlags are the flags of `fleetsim report`.
type reportFlags struct {
	format   string
	out      string
	seed     uint64
	parallel int
	quiet    bool
}

// reportFiles names the file --out DIR receives for each format.
var reportFiles = map[string]string{
	"md":   "report.md",
	"html": "report.html",
	"csv":  "report.csv",
	"json": "result.json",
}

func newReportCommand(streams Streams) *cobra.Command {
	f := &reportFlags{}
	cmd := &cobra.Command{
		Use:   "report SCENARIO|RESULT.json",
		Short: "Write a Markdown, HTML or CSV report with plots of a scenario or a result",
		Long: `Write a report of SCENARIO (a file or a built-in name, simulated as by
` + "`fleetsim run`" + `) or of RESULT.json (written by ` + "`fleetsim run --output json`" + `).

Formats: md (Markdown for pull requests; with --out its plots are written as
DIR/plots/*.svg and linked), html (one self-contained file with inline SVG
plots; needs --out), csv (one row per strategy and workload), json (the
result). --out DIR writes DIR/report.md, report.html, report.csv or
result.json atomically, creating DIR; without it md, csv and json go to
stdout. Output is byte-identical for the same input. See docs/reports.md.`,
		Args: argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var seed *uint64
			if cmd.Flags().Changed("seed") {
				seed = &f.seed
			}
			return runReport(args[0], seed, f, streams, cmd.UseLine())
		},
	}
	cmd.Flags().StringVar(&f.format, "format", "md", "report format: md, html, csv or json")
	cmd.Flags().StringVar(&f.out, "out", "", "write the report into DIR (created) instead of stdout; required for html")
	cmd.Flags().Uint64Var(&f.seed, "seed", 0, "seed for every random stream when simulating a scenario (default: the scenario's spec.run.seed)")
	cmd.Flags().IntVar(&f.parallel, "parallel", 0, "strategies simulated at once (default GOMAXPROCS); output does not depend on it")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print nothing on stderr")
	return cmd
}

func runReport(input string, seed *uint64, f *reportFlags, streams Streams, use string) error {
	file, ok := reportFiles[f.format]
	if !ok {
		return usageError{err: fmt.Errorf("--format: must be md, html, csv or json, got %q", f.format), use: use}
	}
	if f.format == "html" && f.out == "" {
		return usageError{err: errors.New("--format html needs --out DIR (the report is a file)"), use: use}
	}
	res, err := loadReportInput(input, seed, f, streams)
	if err != nil {
		return err
	}
	render := map[string]func(io.Writer, results.Result) error{
		"md":   func(w io.Writer, r results.Result) error { return reports.Markdown(w, r, "") },
		"html": reports.HTML,
		"csv":  reports.CSV,
		"json": reports.JSON,
	}[f.format]
	if f.out == "" {
		var buf bytes.Buffer
		if err := render(&buf, res); err != nil {
			return err
		}
		_, err := streams.Out.Write(buf.Bytes())
		return err
	}
	var written []string
	if f.format == "md" {
		written, err = reports.WriteMarkdownReport(f.out, res)
		if err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		path := filepath.Join(f.out, file)
		if err := reports.WriteFile(path, func(w io.Writer) error { return render(w, res) }); err != nil {
			return err
		}
		written = []string{path}
	}
	if !f.quiet {
		extra := ""
		if n := len(written) - 1; n > 0 {
			extra = fmt.Sprintf(" and %d plots in %s", n, filepath.Join(f.out, "plots"))
		}
		fmt.Fprintf(streams.Err, "wrote %s%s\n", written[0], extra)
	}
	return nil
}

// loadReportInput reads a result JSON (by its .json extension, or a file
// whose content starts with '{') or simulates a scenario (a file or a
// built-in name). Anything else is bad input (exit 2).
func loadReportInput(input string, seed *uint64, f *reportFlags, streams Streams) (results.Result, error) {
	isJSON := strings.EqualFold(filepath.Ext(input), ".json")
	var data []byte
	if st, err := os.Stat(input); err == nil && st.Mode().IsRegular() {
		data, err = os.ReadFile(input)
		if err != nil {
			return results.Result{}, invalid(err)
		}
		isJSON = isJSON || bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
	} else if isJSON {
		return results.Result{}, invalid(fmt.Errorf("read result %s: %w", input, err))
	}
	if isJSON {
		if seed != nil {
			return results.Result{}, invalid(fmt.Errorf("--seed applies to a scenario, not to the result %s", input))
		}
		return decodeResult(input, data)
	}
	s, err := scenarios.Open(input)
	if err != nil {
		return results.Result{}, invalid(err)
	}
	if seed != nil {
		s.Spec.Run.Seed = seed
	}
	w, err := world.Build(s)
	if err != nil {
		return results.Result{}, invalid(err)
	}
	start := time.Now()
	res, err := fleet.Run(w, f.parallel, fleet.Options{})
	if err != nil {
		return results.Result{}, err
	}
	for _, n := range w.Notes {
		fmt.Fprintln(streams.Err, "note:", n)
	}
	if !f.quiet {
		fmt.Fprintf(streams.Err, "simulated %d strategies of %s (seed %d) in %.2fs\n",
			len(res.Strategies), res.Scenario, res.Seed, time.Since(start).Seconds())
	}
	return res, nil
}

// decodeResult decodes a result document strictly: unknown fields, a
// different schema version or no strategies are bad input.
func decodeResult(name string, data []byte) (results.Result, error) {
	var r results.Result
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, invalid(fmt.Errorf("result %s: %w", name, err))
	}
	if dec.More() {
		return r, invalid(fmt.Errorf("result %s: data after the JSON document", name))
	}
	if r.SchemaVersion != results.SchemaVersion {
		return r, invalid(fmt.Errorf("result %s: schemaVersion: must be %q, got %q", name, results.SchemaVersion, r.SchemaVersion))
	}
	if len(r.Strategies) == 0 {
		return r, invalid(fmt.Errorf("result %s: strategies: none", name))
	}
	return r, nil
}
