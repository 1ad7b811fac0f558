package loadgen

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetsim/fleetsim/measurements"
	"github.com/fleetsim/fleetsim/serving"
)

// Percentiles are the 50th, 90th and 99th percentiles of a latency, in
// milliseconds, by linear interpolation between the order statistics
// (Quantile). All are NaN when there was no sample.
type Percentiles struct {
	P50, P90, P99 float64
}

// Summary is what a load point measured. Latencies and throughput count
// successful requests only; failures are counted by kind.
type Summary struct {
	// Sent is the number of requests sent, OK the number that succeeded.
	Sent, OK int
	// Errors counts the failed requests by kind; kinds with none are absent.
	Errors map[ErrorKind]int
	// TTFT, TPOT and E2E are the latency percentiles of the successful
	// requests (TPOT of those with at least two output tokens), in ms.
	TTFT, TPOT, E2E Percentiles
	// OutputTokens is the output tokens of the successful requests, summed.
	OutputTokens int
	// OutputTokensPerS is OutputTokens over the elapsed time of the load
	// point (first send to the end of the last request).
	OutputTokensPerS float64
	// RequestsPerS is OK over the elapsed time: the achieved request rate.
	RequestsPerS float64
}

// ErrorString lists the error counts as "kind=n" in ErrorKinds order,
// space-separated; "" when there was none.
func (s Summary) ErrorString() string {
	var parts []string
	for _, k := range ErrorKinds() {
		if n := s.Errors[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, n))
		}
	}
	return strings.Join(parts, " ")
}

// Summarize computes the summary of the requests of a load point that
// took elapsed in all.
func Summarize(reqs []Request, elapsed time.Duration) Summary {
	s := Summary{Sent: len(reqs), Errors: map[ErrorKind]int{}}
	var ttft, tpot, e2e []float64
	for _, r := range reqs {
		if !r.OK() {
			s.Errors[r.Err]++
			continue
		}
		s.OK++
		s.OutputTokens += r.OutputTokens
		ttft = append(ttft, ms(r.TTFT))
		e2e = append(e2e, ms(r.E2E))
		if r.OutputTokens >= 2 {
			tpot = append(tpot, ms(r.TPOT))
		}
	}
	s.TTFT, s.TPOT, s.E2E = percentiles(ttft), percentiles(tpot), percentiles(e2e)
	if sec := elapsed.Seconds(); sec > 0 {
		s.OutputTokensPerS = float64(s.OutputTokens) / sec
		s.RequestsPerS = float64(s.OK) / sec
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func percentiles(v []float64) Percentiles {
	slices.Sort(v)
	return Percentiles{P50: Quantile(v, 0.5), P90: Quantile(v, 0.9), P99: Quantile(v, 0.99)}
}

// Quantile returns the q-quantile of sorted by linear interpolation
// between order statistics (position q × (n−1), Hyndman and Fan's type 7,
// the default of numpy and R); NaN when sorted is empty.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (pos-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// RowMeta is what a measurement row needs beyond the load point: what was
// served, and where the row comes from.
type RowMeta struct {
	// Dataset names the measurements, e.g. "bench".
	Dataset string
	// GPU and Model are catalog ids (aliases are canonicalised).
	GPU, Model string
	// TP is the number of GPUs of the replica.
	TP int
	// Precision is the weight precision.
	Precision serving.Precision
	// Framework is the serving stack (vLLM, SGLang, ...).
	Framework string
	// Source prefixes the row's source cell; the load point's Label follows.
	Source string
}

// Row returns the load point as a measurement row of mode server: medians
// of TTFT, TPOT and E2E, the output tokens per second, and as rate_rps the
// offered rate of a rate point or the achieved request rate of a
// concurrency point. It returns an error when the row would be invalid,
// as when no request succeeded.
func (r *Result) Row(m RowMeta) (measurements.Row, error) {
	row := measurements.EmptyRow()
	row.Dataset, row.TP, row.Precision, row.Framework = m.Dataset, m.TP, m.Precision, m.Framework
	row.GPU, row.Model = m.GPU, m.Model
	if g, ok := serving.LookupGPU(m.GPU); ok {
		row.GPU = g.ID
	}
	if mod, ok := serving.LookupModel(m.Model); ok {
		row.Model = mod.ID
	}
	row.Mode = measurements.Server
	row.ISL, row.OSL = r.Config.ISL, r.Config.OSL
	s := r.Summary
	row.RateRPS = s.RequestsPerS
	if r.Config.RatePerS > 0 {
		row.RateRPS = r.Config.RatePerS
	}
	positive := func(v float64) float64 {
		if v > 0 {
			return v
		}
		return math.NaN()
	}
	row.RateRPS = positive(row.RateRPS)
	row.OutputTokensPerS = positive(s.OutputTokensPerS)
	row.TTFTms, row.TPOTms, row.E2Ems = positive(s.TTFT.P50), positive(s.TPOT.P50), positive(s.E2E.P50)
	row.Source = strings.TrimSpace(m.Source + " " + r.Config.Label())
	if s.OK == 0 {
		return row, fmt.Errorf("%s: no request succeeded (%s)", r.Config.Label(), s.ErrorString())
	}
	if err := row.Validate(); err != nil {
		return row, fmt.Errorf("%s: %w", r.Config.Label(), err)
	}
	return row, nil
}

// requestsHeader is the header of WriteRequestsCSV.
var requestsHeader = []string{"point", "index", "sent_ms", "status", "error", "output_tokens", "chunks", "ttft_ms", "tpot_ms", "e2e_ms", "detail"}

// WriteRequestsCSV writes every request of results, one row each, with the
// columns point (the load point's Label), index, sent_ms, status, error,
// output_tokens, chunks, ttft_ms, tpot_ms, e2e_ms, detail. Latencies of a
// failed request are empty.
func WriteRequestsCSV(w io.Writer, results []*Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(requestsHeader); err != nil {
		return err
	}
	f := func(d time.Duration) string { return strconv.FormatFloat(ms(d), 'f', 3, 64) }
	for _, res := range results {
		for _, r := range res.Requests {
			rec := []string{res.Config.Label(), strconv.Itoa(r.Index), f(r.Sent), strconv.Itoa(r.Status), string(r.Err),
				strconv.Itoa(r.OutputTokens), strconv.Itoa(r.Chunks), "", "", "", r.Detail}
			if r.OK() {
				rec[7], rec[9] = f(r.TTFT), f(r.E2E)
				if r.OutputTokens >= 2 {
					rec[8] = f(r.TPOT)
				}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
