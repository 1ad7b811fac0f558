package reports

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"testing"
)

// TestCSVRowsTraceToJSON: one row per (strategy, workload) after the
// header, and each figure reads back to the JSON field it is named after.
func TestCSVRowsTraceToJSON(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			r := loadFixture(t, name)
			var buf bytes.Buffer
			if err := CSV(&buf, r); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			want := 1
			for _, s := range r.Strategies {
				want += len(s.Workloads)
			}
			if len(recs) != want {
				t.Fatalf("got %d records, want %d (header + one per strategy and workload)", len(recs), want)
			}
			col := map[string]int{}
			for i, h := range recs[0] {
				col[h] = i
			}
			i := 1
			for _, s := range r.Strategies {
				for _, w := range s.Workloads {
					rec := recs[i]
					i++
					get := func(c string) float64 {
						v, err := strconv.ParseFloat(rec[col[c]], 64)
						if err != nil {
							t.Fatalf("%s/%s %s: %v", s.Name, w.Name, c, err)
						}
						return v
					}
					checks := []struct {
						col  string
						want float64
					}{
						{"gpus", float64(s.GPUs)},
						{"total_cost_per_hour_usd", s.TotalCostPerHourUSD},
						{"requests_completed", float64(w.Requests.Completed)},
						{"ttft_p95_ms", w.TTFTMs.P95},
						{"e2e_p99_ms", w.E2EMs.P99},
						{"slos", float64(len(w.SLOs))},
					}
					if w.TaskS != nil {
						checks = append(checks, struct {
							col  string
							want float64
						}{"task_p95_s", w.TaskS.P95})
					} else if rec[col["task_p95_s"]] != "" {
						t.Errorf("%s/%s: task_p95_s %q for a chat workload, want empty", s.Name, w.Name, rec[col["task_p95_s"]])
					}
					for _, c := range checks {
						if got := get(c.col); got != c.want {
							t.Errorf("%s/%s %s: got %v, want %v", s.Name, w.Name, c.col, got, c.want)
						}
					}
					if rec[col["strategy"]] != s.Name || rec[col["workload"]] != w.Name {
						t.Errorf("row %d: got %s/%s, want %s/%s", i-1, rec[col["strategy"]], rec[col["workload"]], s.Name, w.Name)
					}
				}
			}
		})
	}
}
