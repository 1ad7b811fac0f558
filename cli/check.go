package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/check"
	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/reports"
	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/world"
)

type checkFlags struct {
	baseline     string
	update       bool
	junit        string
	seed         uint64
	listMetrics  bool
	quiet        bool
	replications int
}

func newCheckCommand(streams Streams) *cobra.Command {
	f := &checkFlags{}
	cmd := &cobra.Command{
		Use:   "check SCENARIO...",
		Short: "Simulate scenarios and judge their spec.expect assertions and baselines (CI gates)",
		Long: `Simulate each SCENARIO (a file path or a built-in name), evaluate the
assertions of its spec.expect and print one PASS or FAIL line per assertion,
with the values of the metrics it reads.

With --baseline DIR, also compare every metric with DIR/<scenario>.json under
the tolerances of DIR/tolerances.yaml (default: 5% relative) and fail on a
regression; --update-baseline rewrites those files instead of comparing.
--junit FILE writes a JUnit XML report. --list-metrics prints every metric
name with its value and judges nothing.

Exit status: 0 when everything passes, 1 when an assertion or a baseline
metric fails, 2 for bad input (a wrong flag, an invalid scenario, an assertion
that does not parse or names an unknown metric, a missing baseline).
The language and the metric names are in docs/check.md.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{err: errors.New("check needs at least one scenario"), use: cmd.UseLine()}
			}
			if f.update && f.baseline == "" {
				return usageError{err: errors.New("--update-baseline needs --baseline DIR"), use: cmd.UseLine()}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var seed *uint64
			if cmd.Flags().Changed("seed") {
				seed = &f.seed
			}
			return runCheck(args, seed, f, streams)
		},
	}
	cmd.Flags().StringVar(&f.baseline, "baseline", "", "compare every metric with DIR/<scenario>.json under DIR/tolerances.yaml")
	cmd.Flags().BoolVar(&f.update, "update-baseline", false, "rewrite the baseline files of --baseline DIR from this run (atomically) instead of comparing")
	cmd.Flags().StringVar(&f.junit, "junit", "", "write a JUnit XML report to FILE (atomically)")
	cmd.Flags().Uint64Var(&f.seed, "seed", 0, "seed for every random stream (default: the scenario's spec.run.seed)")
	cmd.Flags().IntVar(&f.replications, "replications", 1, "simulate each scenario with this many seeds (seed, seed+1, ...) and judge assertions on 95% confidence intervals; baselines use the first")
	cmd.Flags().BoolVar(&f.listMetrics, "list-metrics", false, "print every metric name and value of each scenario, sorted, and judge nothing")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print nothing on stderr but errors")
	return cmd
}

// checkJob is one scenario, opened and with its assertions parsed.
type checkJob struct {
	arg      string
	s        *scenarios.Scenario
	exprs    []*check.Expr
	baseline *check.Baseline
}

func runCheck(args []string, seed *uint64, f *checkFlags, streams Streams) error {
	if f.replications < 1 || f.replications > 1000 {
		return invalid(fmt.Errorf("--replications %d: want 1 to 1000 runs per scenario", f.replications))
	}
	tol := check.DefaultTolerances()
	if f.baseline != "" && !f.update {
		var err error
		if tol, err = check.LoadTolerances(f.baseline); err != nil {
			return invalid(err)
		}
	}
	// Open every scenario and parse every assertion before simulating
	// anything, so that bad input fails fast and all at once.
	var jobs []*checkJob
	var bad []error
	var suites []check.TestSuite
	for _, a := range args {
		s, err := scenarios.Open(a)
		if err != nil {
			bad = append(bad, err)
			suites = append(suites, errorSuite(a, "scenario", err))
			continue
		}
		if seed != nil {
			s.Spec.Run.Seed = seed
		}
		j := &checkJob{arg: a, s: s}
		name := s.Metadata.Name
		suite := check.TestSuite{Name: name}
		for i, src := range s.Spec.Expect {
			if f.listMetrics {
				break // listing metrics helps to write assertions: judge none
			}
			e, err := check.Parse(src)
			if err != nil {
				err = exprError(s, i, err)
				bad = append(bad, err)
				suite.Cases = append(suite.Cases, check.TestCase{Name: caseName(i, src), Classname: "fleetsim." + name + ".expect",
					Error: &check.Failure{Message: err.Error(), Type: "invalid", Text: err.Error()}})
			}
			j.exprs = append(j.exprs, e)
		}
		if f.baseline != "" && !f.update && !f.listMetrics {
			b, err := check.ReadBaseline(check.BaselinePath(f.baseline, name))
			if errors.Is(err, os.ErrNotExist) {
				err = fmt.Errorf("%s: no baseline %s (write one with --update-baseline)", a, check.BaselinePath(f.baseline, name))
			}
			if err != nil {
				bad = append(bad, err)
				suite.Cases = append(suite.Cases, check.TestCase{Name: "baseline", Classname: "fleetsim." + name + ".baseline",
					Error: &check.Failure{Message: err.Error(), Type: "invalid", Text: err.Error()}})
			} else {
				j.baseline = &b
			}
		}
		if len(suite.Cases) > 0 {
			suites = append(suites, suite)
		}
		jobs = append(jobs, j)
	}
	if len(bad) > 0 {
		if err := writeJUnit(f.junit, suites); err != nil {
			bad = append(bad, err)
		}
		return invalid(errors.Join(bad...))
	}

	suites = nil
	failed := 0
	for _, j := range jobs {
		suite, nFailed, err := checkOne(j, f, tol, streams)
		if err != nil {
			bad = append(bad, err)
		}
		failed += nFailed
		suites = append(suites, suite)
	}
	if f.listMetrics {
		return invalidOrNil(bad)
	}
	if err := writeJUnit(f.junit, suites); err != nil {
		return err
	}
	if len(bad) > 0 {
		return invalidOrNil(bad)
	}
	if failed > 0 {
		return fmt.Errorf("check: %d of %d checks failed", failed, countCases(suites))
	}
	return nil
}

func invalidOrNil(bad []error) error {
	if len(bad) == 0 {
		return nil
	}
	return invalid(errors.Join(bad...))
}

func countCases(suites []check.TestSuite) int {
	n := 0
	for _, s := range suites {
		n += len(s.Cases)
	}
	return n
}

// exprError names the assertion and its place in the file:
// "spec.expect[1] (file:line): col 12: ...".
func exprError(s *scenarios.Scenario, i int, err error) error {
	field := fmt.Sprintf("spec.expect[%d]", i)
	if where := s.Where(field); where != "" {
		return fmt.Errorf("%s (%s): %w", field, where, err)
	}
	return fmt.Errorf("%s: %w", field, err)
}

func caseName(i int, src string) string { return fmt.Sprintf("expect[%d]: %s", i, src) }

func errorSuite(name, what string, err error) check.TestSuite {
	return check.TestSuite{Name: name, Cases: []check.TestCase{{Name: what, Classname: "fleetsim." + name,
		Error: &check.Failure{Message: err.Error(), Type: "invalid", Text: err.Error()}}}}
}

func writeJUnit(file string, suites []check.TestSuite) error {
	if file == "" {
		return nil
	}
	return reports.WriteFile(file, func(w io.Writer) error { return check.WriteJUnit(w, suites) })
}

// checkOne simulates one scenario and judges it. It returns the scenario's
// JUnit suite, the number of failed checks, and bad input (an unknown
// metric, a scenario that does not build).
func checkOne(j *checkJob, f *checkFlags, tol check.Tolerances, streams Streams) (check.TestSuite, int, error) {
	name := j.s.Metadata.Name
	suite := check.TestSuite{Name: name}
	start := time.Now()
	w, err := world.Build(j.s)
	if err != nil {
		err = fmt.Errorf("%s: %w", j.arg, err)
		return errorSuite(name, "scenario", err), 0, err
	}
	res, err := fleet.Run(w, runtime.GOMAXPROCS(0), fleet.Options{})
	if err != nil {
		err = fmt.Errorf("%s: %w", j.arg, err)
		return errorSuite(name, "scenario", err), 0, err
	}
	for _, n := range w.Notes {
		fmt.Fprintln(streams.Err, "note:", n)
	}
	if !f.quiet {
		fmt.Fprintf(streams.Err, "simulated %d strategies of %s (seed %d) in %.2fs\n",
			len(res.Strategies), name, res.Seed, time.Since(start).Seconds())
	}
	set := check.Collect(res)
	sets := []*check.Set{set}
	for k := 1; k < f.replications && !f.listMetrics; k++ {
		wk := *w
		wk.Run.Seed = res.Seed + uint64(k)
		rk, err := fleet.Run(&wk, runtime.GOMAXPROCS(0), fleet.Options{})
		if err != nil {
			err = fmt.Errorf("%s: replication %d: %w", j.arg, k, err)
			return errorSuite(name, "scenario", err), 0, err
		}
		sets = append(sets, check.Collect(rk))
	}
	if f.listMetrics {
		tw := tabwriter.NewWriter(streams.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "# %s (seed %d)\n", name, res.Seed)
		for _, m := range set.Metrics() {
			fmt.Fprintf(tw, "%s\t%s\n", m.Name, num(m.Value))
		}
		return suite, 0, tw.Flush()
	}

	failed := 0
	var bad []error
	if len(j.exprs) == 0 && j.baseline == nil && !f.update {
		fmt.Fprintf(streams.Out, "NONE  %s: no spec.expect assertions and no baseline\n", name)
	}
	for i, e := range j.exprs {
		t0 := time.Now()
		src := j.s.Spec.Expect[i]
		tc := check.TestCase{Name: caseName(i, src), Classname: "fleetsim." + name + ".expect"}
		var out check.Outcome
		if len(sets) > 1 {
			var ci check.CIOutcome
			ci, err = e.EvalCI(sets)
			out = ciOutcome(ci)
		} else {
			out, err = e.Eval(set)
		}
		tc.Time = time.Since(t0)
		if err != nil {
			err = exprError(j.s, i, err)
			bad = append(bad, err)
			tc.Error = &check.Failure{Message: err.Error(), Type: "invalid", Text: err.Error()}
			fmt.Fprintf(streams.Out, "ERROR %s expect[%d]: %s  (%v)\n", name, i, src, errors.Unwrap(err))
			suite.Cases = append(suite.Cases, tc)
			continue
		}
		verdict := "PASS"
		if !out.Pass {
			verdict = "FAIL"
			failed++
		}
		vals := caseValues(out)
		fmt.Fprintf(streams.Out, "%s  %s expect[%d]: %s  (%s)\n", verdict, name, i, src, vals)
		if !out.Pass {
			msg := fmt.Sprintf("%s is false: %s", src, vals)
			tc.Failure = &check.Failure{Message: msg, Type: "assertion", Text: msg}
		}
		suite.Cases = append(suite.Cases, tc)
	}

	set0 := set
	switch {
	case f.update:
		file := check.BaselinePath(f.baseline, name)
		if err := os.MkdirAll(f.baseline, 0o755); err != nil {
			return suite, failed, err
		}
		b := check.NewBaseline(name, res.Seed, set0)
		if err := check.WriteBaseline(file, b); err != nil {
			return suite, failed, err
		}
		tolFile := filepath.Join(f.baseline, check.TolerancesFile)
		if _, err := os.Stat(tolFile); errors.Is(err, os.ErrNotExist) {
			if err := reports.WriteFile(tolFile, func(w io.Writer) error {
				_, err := io.WriteString(w, check.DefaultTolerancesYAML)
				return err
			}); err != nil {
				return suite, failed, err
			}
		}
		fmt.Fprintf(streams.Out, "WROTE %s baseline: %s (%d metrics)\n", name, file, len(b.Metrics))
	case j.baseline != nil:
		t0 := time.Now()
		file := check.BaselinePath(f.baseline, name)
		if j.baseline.Seed != res.Seed {
			fmt.Fprintf(streams.Err, "note: %s: baseline %s was recorded with seed %d, this run uses seed %d; values will differ by more than chance alone\n",
				name, file, j.baseline.Seed, res.Seed)
		}
		diffs := check.Compare(*j.baseline, set0, tol)
		nFail, nNew, nOK := 0, 0, 0
		var cases []check.TestCase
		for _, d := range diffs {
			switch {
			case d.Failed():
				nFail++
				line := diffLine(d)
				fmt.Fprintf(streams.Out, "FAIL  %s baseline: %s\n", name, line)
				cases = append(cases, check.TestCase{Name: "baseline " + d.Name, Classname: "fleetsim." + name + ".baseline",
					Failure: &check.Failure{Message: line, Type: "baseline", Text: line + "\nbaseline file: " + file}})
			case d.Status == check.New:
				nNew++
			default:
				nOK++
			}
		}
		if nNew > 0 {
			fmt.Fprintf(streams.Err, "note: %s: %d metrics are not in baseline %s (new; rewrite it with --update-baseline)\n", name, nNew, file)
		}
		if nFail == 0 {
			fmt.Fprintf(streams.Out, "PASS  %s baseline: %d metrics within tolerance of %s\n", name, nOK, file)
			cases = []check.TestCase{{Name: "baseline", Classname: "fleetsim." + name + ".baseline"}}
		}
		el := time.Since(t0)
		for i := range cases {
			cases[i].Time = el / time.Duration(len(cases))
		}
		failed += nFail
		suite.Cases = append(suite.Cases, cases...)
	}
	suite.Time = time.Since(start)
	if len(bad) > 0 {
		return suite, failed, errors.Join(bad...)
	}
	return suite, failed, nil
}

// caseValues lists the metrics an assertion read: "a=1, b=2", and for an
// all. assertion per strategy, only the failing strategies when it failed.
func caseValues(out check.Outcome) string {
	var parts []string
	for _, c := range out.Cases {
		if !out.Pass && c.Pass {
			continue
		}
		var kv []string
		for _, m := range c.Values {
			kv = append(kv, m.Name+"="+num(m.Value))
		}
		parts = append(parts, strings.Join(kv, ", "))
	}
	if len(out.Cases) == 0 {
		return "no strategies"
	}
	return strings.Join(parts, "; ")
}

func diffLine(d check.Diff) string {
	if d.Status == check.Missing {
		return fmt.Sprintf("%s: in the baseline (%s) but not in this result", d.Name, num(d.Baseline))
	}
	change := d.Current - d.Baseline
	rel := ""
	if d.Baseline != 0 {
		rel = fmt.Sprintf(" (%+.1f%%)", 100*change/math.Abs(d.Baseline))
	}
	return fmt.Sprintf("%s = %s, baseline %s: change %s%s, allowed %s; %s is worse",
		d.Name, num(d.Current), num(d.Baseline), signed(change), rel, num(d.Allowed), worseWords(d.Worse))
}

func worseWords(d check.Direction) string {
	switch d {
	case check.HigherIsWorse:
		return "higher"
	case check.LowerIsWorse:
		return "lower"
	}
	return "any change"
}

func signed(v float64) string {
	if v >= 0 {
		return "+" + num(v)
	}
	return num(v)
}

// num formats a metric value: integers exactly, others to six significant
// digits (the precision of the JSON result).
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// ciOutcome shows an interval outcome as an outcome whose values are the
// means (the half-widths go in the names, so the line shows both).
func ciOutcome(ci check.CIOutcome) check.Outcome {
	out := check.Outcome{Pass: ci.Pass}
	for _, c := range ci.Cases {
		oc := check.Case{Strategy: c.Strategy, Pass: c.Pass}
		for _, iv := range c.Values {
			oc.Values = append(oc.Values, check.Metric{Name: iv.Name + "(±" + num(iv.HW) + ")", Value: iv.Mean})
		}
		out.Cases = append(out.Cases, oc)
	}
	return out
}
