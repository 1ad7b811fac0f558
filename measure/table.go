package measure

import (
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// WriteTable writes the report's rows as a table (column "calls" counts
// sessions on task rows), then one line with the request counts and one
// per note.
func (r *Report) WriteTable(w io.Writer) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("workload", "metric", "pct", "calls", "predicted ms", "measured ms", "diff %")
	for _, row := range r.Rows {
		if row.Skipped != "" {
			if err := t.Append(row.Workload, row.Metric, fmt.Sprintf("p%g", row.Percentile), "–", "–", "–", row.Skipped); err != nil {
				return err
			}
			continue
		}
		if err := t.Append(row.Workload, row.Metric, fmt.Sprintf("p%g", row.Percentile), fmt.Sprint(row.Requests),
			fmt.Sprintf("%.1f", row.PredictedMs), fmt.Sprintf("%.1f", row.MeasuredMs), fmt.Sprintf("%+.1f", row.DiffPct)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	c := r.Requests
	sessions := ""
	if c.Sessions > 0 {
		sessions = fmt.Sprintf(", %d agent sessions compared", c.Sessions)
	}
	if _, err := fmt.Fprintf(w, "%s / %s, scale %g, warm-up %gs, window %gs: %d calls simulated (%d dropped), %d sent, %d ok, %d failed, %d compared%s; send lag ≤ %.1f ms\n",
		r.Scenario, r.Strategy, r.Scale, r.WarmupS, r.DurationS, c.Simulated, c.DroppedBySim, c.Sent, c.OK, c.Failed, c.Compared, sessions, r.MaxSendLagMs); err != nil {
		return err
	}
	for _, n := range r.Notes {
		if _, err := fmt.Fprintf(w, "note: %s\n", n); err != nil {
			return err
		}
	}
	return nil
}
