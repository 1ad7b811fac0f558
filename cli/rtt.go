package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/topology"
)

type rttFlags struct {
	csv           string
	list          bool
	baseRTTMs     float64
	pathInflation float64
}

func newRTTCommand(streams Streams) *cobra.Command {
	f := &rttFlags{}
	def := topology.DefaultModel()
	cmd := &cobra.Command{
		Use:   "rtt [PLACE...]",
		Short: "Print the modelled RTT between places (catalog names or lat,lon)",
		Long: `Print the network model's round-trip times, in ms, between PLACEs: built-in
place names (see --list) or "lat,lon" pairs in degrees.

With --csv FILE (or - for stdin), read rows src_lat,src_lon,dst_lat,dst_lon
(after a header line) and write CSV to stdout with the same columns plus
rtt_ms, one row per input row in input order. This exposes the model for
checking against measured data (docs/network.md).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			m := def
			m.BaseRTTMs, m.PathInflation = f.baseRTTMs, f.pathInflation
			if err := m.Validate(); err != nil {
				return invalid(err)
			}
			switch {
			case f.list:
				return listPlaces(streams)
			case f.csv != "":
				if len(args) > 0 {
					return usageError{err: errors.New("--csv takes no places"), use: cmd.UseLine()}
				}
				return rttCSV(f.csv, m, streams)
			case len(args) == 0:
				return usageError{err: errors.New("give at least one place, --csv FILE or --list"), use: cmd.UseLine()}
			}
			return rttMatrix(args, m, streams)
		},
	}
	cmd.Flags().StringVar(&f.csv, "csv", "", "read pairs from a CSV file (- for stdin) and write CSV with rtt_ms")
	cmd.Flags().BoolVar(&f.list, "list", false, "list the built-in places")
	cmd.Flags().Float64Var(&f.baseRTTMs, "base-rtt-ms", def.BaseRTTMs, "fixed RTT between distinct places, ms")
	cmd.Flags().Float64Var(&f.pathInflation, "path-inflation", def.PathInflation, "route length over great-circle length")
	return cmd
}

func listPlaces(streams Streams) error {
	w := tabwriter.NewWriter(streams.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "name\tkind\tlat\tlon\ttime zone\tzone\taliases")
	for _, p := range topology.Catalog() {
		fmt.Fprintf(w, "%s\t%s\t%.2f\t%.2f\t%s\t%s\t%s\n", p.Name, p.Kind, p.Lat, p.Lon, p.TimeZone, p.Zone,
			strings.Join(topology.Aliases(p.Name), ","))
	}
	return w.Flush()
}

func rttCSV(name string, m topology.Model, streams Streams) error {
	var r io.Reader = streams.In
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return invalid(err)
		}
		defer f.Close()
		r = f
	}
	var buf bytes.Buffer
	if err := topology.WriteRTTCSV(r, &buf, m); err != nil {
		return invalid(fmt.Errorf("%s: %w", name, err))
	}
	_, err := streams.Out.Write(buf.Bytes())
	return err
}

func rttMatrix(args []string, m topology.Model, streams Streams) error {
	places := make([]topology.Place, len(args))
	for i, a := range args {
		p, err := topology.ParsePlace(a)
		if err != nil {
			return invalid(err)
		}
		places[i] = p
	}
	t := tablewriter.NewTable(streams.Out, tablewriter.WithHeaderAutoFormat(tw.Off))
	head := []any{"RTT ms"}
	for _, p := range places {
		head = append(head, p.Name)
	}
	t.Header(head...)
	for _, a := range places {
		row := []any{a.Name}
		for _, b := range places {
			row = append(row, fmt.Sprintf("%.1f", m.Between(a, b)))
		}
		t.Append(row...)
	}
	return t.Render()
}
