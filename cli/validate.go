package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/world"
)

func newValidateCommand(streams Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "validate SCENARIO...",
		Short: "Check scenario files without simulating them",
		Long: `Check each SCENARIO (a file path or a built-in name) and report every problem
with its file, line and field path. Exit status 0 when all are valid, 2 otherwise.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{err: errors.New("validate needs at least one scenario"), use: cmd.UseLine()}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, a := range args {
				if err := validateOne(a); err != nil {
					bad++
					fmt.Fprintln(streams.Err, err)
					continue
				}
				fmt.Fprintf(streams.Out, "%s: ok\n", a)
			}
			if bad > 0 {
				return invalid(fmt.Errorf("%d of %d scenarios invalid", bad, len(args)))
			}
			return nil
		},
	}
}

func validateOne(arg string) error {
	s, err := scenarios.Open(arg)
	if err != nil {
		return err
	}
	_, err = world.Build(s)
	return err
}
