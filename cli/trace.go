package cli

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/fleetsim/fleetsim/fleet"
)

// traceHeader names the columns of a --trace file; times are simulated
// seconds from the start of the warm-up.
var traceHeader = []string{
	"strategy", "workload", "user", "session", "step", "site", "replica",
	"prompt_tokens", "output_tokens", "measured", "spilled", "dropped",
	"issued_s", "at_server_s", "admitted_s", "first_token_s", "finished_s", "ttft_s", "e2e_s",
}

// traceWriter streams call records as CSV rows.
type traceWriter struct {
	w   *csv.Writer
	row []string
	err error
}

func newTraceWriter(w io.Writer) *traceWriter {
	t := &traceWriter{w: csv.NewWriter(w), row: make([]string, len(traceHeader))}
	t.err = t.w.Write(traceHeader)
	return t
}

func (t *traceWriter) write(r *fleet.CallRecord) {
	if t.err != nil {
		return
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
	t.row = append(t.row[:0], r.Strategy, r.Workload, r.User,
		strconv.FormatInt(r.Session, 10), strconv.FormatInt(r.Step, 10), r.Site, strconv.Itoa(r.Replica),
		strconv.Itoa(r.Prompt), strconv.Itoa(r.Output),
		strconv.FormatBool(r.Measured), strconv.FormatBool(r.Spilled), strconv.FormatBool(r.Dropped),
		f(r.Issued), f(r.AtServer), f(r.Admitted), f(r.FirstToken), f(r.Finished), f(r.TTFTS), f(r.E2ES))
	t.err = t.w.Write(t.row)
}

func (t *traceWriter) flush() error {
	if t.err != nil {
		return t.err
	}
	t.w.Flush()
	return t.w.Error()
}
