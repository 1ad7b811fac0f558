package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/workloads"
)

func newScenariosCommand(streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List the built-in scenarios",
		Args:  argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			tw := tabwriter.NewWriter(streams.Out, 0, 4, 2, ' ', 0)
			for _, b := range scenarios.Builtins() {
				fmt.Fprintf(tw, "%s\t%s\n", b.Name, b.Description)
			}
			return tw.Flush()
		},
	}
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Print a built-in scenario as YAML, to copy and edit",
		Args:  argsRange(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, ok := scenarios.BuiltinYAML(args[0])
			if !ok {
				return invalid(fmt.Errorf("no built-in scenario %q (see `fleetsim scenarios`)", args[0]))
			}
			_, err := streams.Out.Write(b)
			return err
		},
	}
	dists := &cobra.Command{
		Use:   "dists",
		Short: "List the built-in distributions scenarios can name ({dist: builtin, name: ...})",
		Args:  argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			tw := tabwriter.NewWriter(streams.Out, 0, 4, 2, ' ', 0)
			for _, b := range workloads.Builtins() {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", b.Name, b.Unit, b.Description)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(show, dists)
	return cmd
}
