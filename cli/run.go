package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/planner"
	"github.com/fleetsim/fleetsim/reports"
	"github.com/fleetsim/fleetsim/results"
	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/world"
)

// DefaultScenario is the built-in scenario run when none is named.
const DefaultScenario = "global-agentic"

type runFlags struct {
	seed     uint64
	out      string
	trace    string
	quiet    bool
	plan     string
	planFile *planner.PlanFile
	progress string
}

func newRunCommand(v *viper.Viper, streams Streams) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run [SCENARIO]",
		Short: "Simulate a scenario and compare its strategies side by side",
		Long: `Simulate every placement strategy of SCENARIO (a file path, or the name of
a built-in scenario; default ` + DefaultScenario + `) and print the comparison.

The table is for reading; --output json is the stable schema documented in
docs/results.md. --out writes to a file atomically (never a half-written file).
Timing goes to stderr, so stdout is byte-identical for the same scenario and seed.`,
		Args: argsRange(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := DefaultScenario
			if len(args) == 1 {
				name = args[0]
			}
			if f.plan != "" {
				data, err := os.ReadFile(f.plan)
				if err != nil {
					return invalid(err)
				}
				pf, err := planner.ParsePlan(f.plan, data)
				if err != nil {
					return invalid(err)
				}
				f.planFile = pf
				if len(args) == 0 && pf.Metadata.Scenario != "" {
					name = pf.Metadata.Scenario
				}
			}
			var seed *uint64
			if cmd.Flags().Changed("seed") {
				seed = &f.seed
			}
			return runScenario(name, seed, v.GetString("output"), v.GetInt("parallel"), f, streams)
		},
	}
	cmd.Flags().Uint64Var(&f.seed, "seed", 0, "seed for every random stream (default: the scenario's spec.run.seed)")
	cmd.Flags().String("output", "table", "output format: table or json (env FLEETSIM_OUTPUT)")
	cmd.Flags().Int("parallel", 0, "strategies simulated at once (default GOMAXPROCS; env FLEETSIM_PARALLEL); output does not depend on it")
	cmd.Flags().StringVar(&f.out, "out", "", "write the output to FILE atomically instead of stdout")
	cmd.Flags().StringVar(&f.trace, "trace", "", "stream one CSV row per model call to FILE (atomically; strategies then run one at a time)")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print nothing on stderr")
	cmd.Flags().StringVar(&f.progress, "progress", "auto", "progress on stderr: auto (a bar when stderr is a terminal), bar, plain (a line every 5 s, for CI logs) or none")
	cmd.Flags().StringVar(&f.plan, "plan", "", "run with the replicas of a plan file written by `fleetsim plan` (its scenario unless SCENARIO is given)")
	_ = v.BindPFlag("output", cmd.Flags().Lookup("output"))
	_ = v.BindPFlag("parallel", cmd.Flags().Lookup("parallel"))
	return cmd
}

func runScenario(name string, seed *uint64, output string, parallel int, f *runFlags, streams Streams) error {
	var render func(io.Writer, results.Result) error
	switch output {
	case "table":
		render = reports.Table
	case "json":
		render = reports.JSON
	default:
		return invalid(fmt.Errorf("--output: must be table or json, got %q", output))
	}
	s, err := scenarios.Open(name)
	if err != nil {
		return invalid(err)
	}
	if seed != nil {
		s.Spec.Run.Seed = seed
	}
	if f.planFile != nil {
		for _, ps := range f.planFile.Strategies {
			if ps.Name == planner.FreeStrategyName {
				planner.AddFreeStrategy(s)
			}
		}
	}
	w, err := world.Build(s)
	if err != nil {
		return invalid(err)
	}
	if f.planFile != nil {
		if err := f.planFile.ApplyTo(w); err != nil {
			return invalid(fmt.Errorf("%s: %w", f.plan, err))
		}
	}
	mode, err := progressMode(f.progress, f.quiet, streams.Err)
	if err != nil {
		return usageError{err: err, use: "fleetsim run [SCENARIO]"}
	}
	prog := newProgress(streams.Err, mode, len(w.Strategies))
	start := time.Now()
	var res results.Result
	if f.trace != "" {
		err = reports.WriteFile(f.trace, func(out io.Writer) error {
			tw := newTraceWriter(out)
			var err error
			res, err = fleet.Run(w, 1, fleet.Options{OnCall: tw.write, OnProgress: prog.update})
			if err != nil {
				return err
			}
			return tw.flush()
		})
	} else {
		res, err = fleet.Run(w, parallel, fleet.Options{OnProgress: prog.update})
	}
	prog.finish()
	if err != nil {
		return err
	}
	for _, n := range w.Notes {
		fmt.Fprintln(streams.Err, "note:", n)
	}
	if !f.quiet {
		el := time.Since(start).Seconds()
		var events uint64
		for _, st := range res.Strategies {
			events += st.Events
		}
		fmt.Fprintf(streams.Err, "simulated %d strategies of %s (seed %d): %d events in %.2fs (%.2g events/s)\n",
			len(res.Strategies), res.Scenario, res.Seed, events, el, float64(events)/el)
	}
	if f.out != "" {
		return reports.WriteFile(f.out, func(w io.Writer) error { return render(w, res) })
	}
	var buf bytes.Buffer
	if err := render(&buf, res); err != nil {
		return err
	}
	_, err = streams.Out.Write(buf.Bytes())
	return err
}
