package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/fleetsim/fleetsim/results"
)

// CSVHeader is the header line of CSV, one column per headline figure;
// docs/reports.md says what each column holds and its unit.
var CSVHeader = []string{
	"scenario", "seed", "strategy", "strategy_kind", "workload", "workload_kind",
	"gpus", "cost_per_hour_usd", "total_cost_per_hour_usd", "cost_per_million_tokens_usd", "utilization",
	"strategy_slos_met", "strategy_slos",
	"requests_arrived", "requests_completed", "requests_failed", "requests_timed_out", "requests_dropped", "spilled",
	"ttft_p50_ms", "ttft_p95_ms", "ttft_p99_ms",
	"tpot_p50_ms", "tpot_p95_ms",
	"e2e_p50_ms", "e2e_p95_ms", "e2e_p99_ms",
	"sessions_arrived", "sessions_completed", "sessions_failed", "sessions_dropped",
	"task_p50_s", "task_p95_s", "task_p99_s",
	"task_network_s", "task_queueing_s", "task_compute_s", "task_tool_s", "task_think_s",
	"slos_met", "slos", "min_slo_attainment",
}

// CSV writes one row per (strategy, workload) with the headline figures,
// after the CSVHeader line. Numbers are the result's values written in
// full (shortest representation that reads back to the same float64), so
// they equal the JSON fields; fields that do not apply (task time of a
// chat workload, or a percentile of nothing measured) are empty.
func CSV(w io.Writer, r results.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, s := range r.Strategies {
		for _, wl := range s.Workloads {
			rec := []string{
				r.Scenario, strconv.FormatUint(r.Seed, 10), s.Name, s.Kind, wl.Name, wl.Kind,
				strconv.Itoa(s.GPUs), num(s.CostPerHourUSD), num(s.TotalCostPerHourUSD), num(s.CostPerMillionTokensUSD), num(s.Utilization),
				strconv.Itoa(s.SLOsMet), strconv.Itoa(s.SLOs),
				count(wl.Requests.Arrived), count(wl.Requests.Completed), count(wl.Requests.Failed), count(wl.Requests.TimedOut),
				count(wl.Requests.Dropped), count(wl.Spilled),
			}
			rec = append(rec, percentiles(&wl.TTFTMs, true)...)
			rec = append(rec, percentiles(&wl.TPOTMs, false)...)
			rec = append(rec, percentiles(&wl.E2EMs, true)...)
			if c := wl.Sessions; c != nil {
				rec = append(rec, count(c.Arrived), count(c.Completed), count(c.Failed), count(c.Dropped))
			} else {
				rec = append(rec, "", "", "", "")
			}
			rec = append(rec, percentiles(wl.TaskS, true)...)
			if b := wl.TaskBreakdownS; b != nil {
				rec = append(rec, num(b.Network), num(b.Queueing), num(b.Compute), num(b.Tool), num(b.Think))
			} else {
				rec = append(rec, "", "", "", "", "")
			}
			met, lowest, minAtt := 0, 0, ""
			for i, slo := range wl.SLOs {
				if slo.Met {
					met++
				}
				if i == 0 || slo.Attainment < wl.SLOs[lowest].Attainment {
					lowest = i
				}
			}
			if len(wl.SLOs) > 0 {
				minAtt = num(wl.SLOs[lowest].Attainment)
			}
			rec = append(rec, strconv.Itoa(met), strconv.Itoa(len(wl.SLOs)), minAtt)
			if len(rec) != len(CSVHeader) {
				panic(fmt.Sprintf("reports: CSV row has %d fields, header %d", len(rec), len(CSVHeader))) // programmer error
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// percentiles is p50, p95 and (with p99) p99 of x, empty where nothing was measured.
func percentiles(x *results.Summary, p99 bool) []string {
	n := 2
	if p99 {
		n = 3
	}
	if x == nil || x.Count == 0 {
		return make([]string, n)
	}
	out := []string{num(x.P50), num(x.P95), num(x.P99)}
	return out[:n]
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func count(v int64) string { return strconv.FormatInt(v, 10) }
