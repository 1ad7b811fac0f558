package cli

import (
	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/scenarios"
)

func newSchemaCommand(streams Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of scenario files (for editor completion and checks)",
		Args:  argsRange(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := streams.Out.Write(scenarios.JSONSchema())
			return err
		},
	}
}
