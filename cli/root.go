package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// Streams are the standard streams a command reads and writes.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// Exit codes.
const (
	ExitOK         = 0
	ExitFailure    = 1 // the command could not do its job
	ExitInvalid    = 2 // bad input: a wrong flag, an invalid scenario or data file
	ExitInfeasible = 3 // plan: no allocation meets the SLOs within the constraints
)

// infeasibleError marks a plan that cannot be made (exit code 3).
type infeasibleError struct{ err error }

func (e infeasibleError) Error() string { return e.err.Error() }
func (e infeasibleError) Unwrap() error { return e.err }

// invalidError marks errors caused by bad input (exit code 2).
type invalidError struct{ err error }

func (e invalidError) Error() string { return e.err.Error() }
func (e invalidError) Unwrap() error { return e.err }

func invalid(err error) error {
	if err == nil {
		return nil
	}
	return invalidError{err}
}

// usageError marks a wrong command line; it is printed with the usage line.
type usageError struct {
	err error
	use string
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// ExitCode maps an error returned by Run to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	// A command that runs another one (gpu sample) exits with its code.
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	var ie invalidError
	var ue usageError
	var fe infeasibleError
	if errors.As(err, &fe) {
		return ExitInfeasible
	}
	if errors.As(err, &ie) || errors.As(err, &ue) {
		return ExitInvalid
	}
	return ExitFailure
}

// Main runs the command line of this process and exits with its code.
func Main() {
	err := Run(os.Args[1:], Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	os.Exit(ExitCode(err))
}

// Run executes the fleetsim command line args with the given streams and
// reports the error it ended with, after printing it once to streams.Err.
func Run(args []string, streams Streams) error {
	return RunContext(context.Background(), args, streams)
}

// RunContext is Run with a context the long-running commands (validate-plan,
// gpu bench, emulate) stop on; they clean up what they started first.
func RunContext(ctx context.Context, args []string, streams Streams) error {
	v := viper.New()
	root := newRoot(v, streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintf(streams.Err, "fleetsim: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(streams.Err, "usage: %s\nRun '%s --help' for more.\n", ue.use, strings.TrimSuffix(ue.use, " [flags]"))
		}
	}
	return err
}

// settings are the tool's own settings: flags > FLEETSIM_* environment >
// config file > defaults, all through one viper instance.
func initSettings(v *viper.Viper, cmd *cobra.Command) error {
	v.SetDefault("output", "table")
	v.SetDefault("parallel", runtime.GOMAXPROCS(0))
	v.SetEnvPrefix("FLEETSIM")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	cfg, _ := cmd.Flags().GetString("config")
	if cfg == "" {
		cfg = os.Getenv("FLEETSIM_CONFIG")
	}
	if cfg != "" {
		v.SetConfigFile(cfg)
		if err := v.ReadInConfig(); err != nil {
			return invalid(fmt.Errorf("config %s: %w", cfg, err))
		}
		return nil
	}
	if dir, err := os.UserConfigDir(); err == nil {
		path := filepath.Join(dir, "fleetsim", "config.yaml")
		if _, err := os.Stat(path); err == nil {
			v.SetConfigFile(path)
			if err := v.ReadInConfig(); err != nil {
				return invalid(fmt.Errorf("config %s: %w", path, err))
			}
		}
	}
	return nil
}

func newRoot(v *viper.Viper, streams Streams) *cobra.Command {
	run := newRunCommand(v, streams)
	root := &cobra.Command{
		Use:   "fleetsim",
		Short: "Simulate and compare where AI inference should run",
		Long: `fleetsim simulates users in many regions, agent loops and chat traffic,
network distance and GPU fleets under continuous batching, and compares
placement strategies (centralized, regional, edge, hybrid) side by side.

With no command it runs the built-in default scenario (global-agentic).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return initSettings(v, cmd)
		},
		RunE: func(cmd *cobra.Command, args []string) error { return run.RunE(run, nil) },
	}
	root.PersistentFlags().String("config", "", "settings file (default $XDG_CONFIG_HOME/fleetsim/config.yaml if present; env FLEETSIM_CONFIG)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{err: err, use: c.UseLine()}
	})
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.SetIn(streams.In)
	root.AddCommand(run, newValidateCommand(streams), newScenariosCommand(streams),
		newRTTCommand(streams), newSchemaCommand(streams), newCalibrateCommand(streams), newPredictCommand(streams), newPlanCommand(streams), newCheckCommand(streams), newSweepCommand(streams), newReportCommand(streams),
		newGPUCommand(streams), newEmulateCommand(streams), newValidatePlanCommand(streams))
	return root
}

// exactArgs is cobra.RangeArgs with a usage error.
func argsRange(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(lo, hi)(cmd, args); err != nil {
			return usageError{err: err, use: cmd.UseLine()}
		}
		return nil
	}
}
