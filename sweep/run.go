package sweep

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/reports"
	"github.com/fleetsim/fleetsim/results"
	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/world"
)

// Options control a sweep run.
type Options struct {
	// Out is the output directory: points/<id>.json per point, sweep.csv.
	Out string
	// Workers is the points simulated at once (>= 1).
	Workers int
	// Resume skips points whose result file exists.
	Resume bool
	// Shard and Shards select the points with index % Shards == Shard.
	Shard, Shards int
	// Stop, when set, is asked before each point starts; true stops the
	// sweep there (tests use it to simulate an interruption).
	Stop func() bool
}

// PointResult is what a point's file holds.
type PointResult struct {
	Point      int            `json:"point"`
	Parameters []string       `json:"parameters"`
	Values     []string       `json:"values"`
	Result     results.Result `json:"result"`
}

// Run simulates the sweep's points (this shard's, skipping finished ones
// with Resume) and writes each point's result atomically. It returns the
// points it simulated.
func Run(f *File, sweepPath string, opt Options, log io.Writer) ([]int, error) {
	if opt.Workers < 1 {
		opt.Workers = 1
	}
	if opt.Shards < 1 {
		opt.Shards = 1
	}
	base, name, err := baseScenario(f, sweepPath)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(opt.Out, "points")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var todo []Point
	for _, p := range f.Points() {
		if p.Index%opt.Shards != opt.Shard {
			continue
		}
		if opt.Resume {
			if _, err := os.Stat(filepath.Join(dir, p.ID()+".json")); err == nil {
				continue
			}
		}
		todo = append(todo, p)
	}
	var (
		mu   sync.Mutex
		done []int
		errs []error
		next int
		stop bool
	)
	var wg sync.WaitGroup
	for w := 0; w < opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if stop || next >= len(todo) || (opt.Stop != nil && opt.Stop()) {
					stop = true
					mu.Unlock()
					return
				}
				p := todo[next]
				next++
				mu.Unlock()
				err := runPoint(f, base, name, p, filepath.Join(dir, p.ID()+".json"))
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("point %d %v: %w", p.Index, p.Values, err))
					stop = true
				} else {
					done = append(done, p.Index)
					if log != nil {
						fmt.Fprintf(log, "point %d %v done\n", p.Index, p.Values)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(done)
	if len(errs) > 0 {
		return done, errs[0]
	}
	return done, nil
}

func baseScenario(f *File, sweepPath string) ([]byte, string, error) {
	ref := f.ScenarioPath(sweepPath)
	if data, ok := scenarios.BuiltinYAML(ref); ok && !strings.ContainsAny(ref, "/\\") {
		return data, "builtin:" + ref, nil
	}
	data, err := os.ReadFile(ref)
	if err != nil {
		return nil, "", err
	}
	return data, ref, nil
}

func runPoint(f *File, base []byte, name string, p Point, out string) error {
	data, err := f.Apply(base, p)
	if err != nil {
		return err
	}
	s, err := scenarios.Parse(fmt.Sprintf("%s (point %d)", name, p.Index), data)
	if err != nil {
		return err
	}
	if len(f.Strategies) > 0 {
		var keep []scenarios.Strategy
		for _, st := range s.Spec.Strategies {
			if slices.Contains(f.Strategies, st.Name) {
				keep = append(keep, st)
			}
		}
		if len(keep) == 0 {
			return fmt.Errorf("none of strategies %v is in the scenario", f.Strategies)
		}
		s.Spec.Strategies = keep
	}
	w, err := world.Build(s)
	if err != nil {
		return err
	}
	res, err := fleet.Run(w, 1, fleet.Options{})
	if err != nil {
		return err
	}
	pr := PointResult{Point: p.Index, Values: p.Values, Result: res}
	for _, prm := range f.Parameters {
		pr.Parameters = append(pr.Parameters, prm.Path)
	}
	return reports.WriteFile(out, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(pr)
	})
}

// CSVHeader is the combined CSV's header after the point and parameter columns.
var CSVHeader = []string{"strategy", "workload", "cost_per_hour_usd", "total_cost_per_hour_usd", "slos_met", "slos",
	"p50_ttft_ms", "p95_ttft_ms", "p99_ttft_ms", "p95_e2e_ms", "p95_task_s", "arrived", "completed", "failed", "dropped"}

// Collect reads the point files under the given output directories (shards
// of one sweep) and writes one CSV row per point, strategy and workload,
// in point order. Two different results for one point are an error.
func Collect(dirs []string, w io.Writer) (int, error) {
	byPoint := map[int]PointResult{}
	for _, d := range dirs {
		files, err := filepath.Glob(filepath.Join(d, "points", "*.json"))
		if err != nil {
			return 0, err
		}
		sort.Strings(files)
		for _, fn := range files {
			data, err := os.ReadFile(fn)
			if err != nil {
				return 0, err
			}
			var pr PointResult
			if err := json.Unmarshal(data, &pr); err != nil {
				return 0, fmt.Errorf("%s: %w", fn, err)
			}
			if old, ok := byPoint[pr.Point]; ok {
				a, _ := json.Marshal(old)
				b, _ := json.Marshal(pr)
				if string(a) != string(b) {
					return 0, fmt.Errorf("%s: point %d has two different results", fn, pr.Point)
				}
			}
			byPoint[pr.Point] = pr
		}
	}
	idx := make([]int, 0, len(byPoint))
	for k := range byPoint {
		idx = append(idx, k)
	}
	sort.Ints(idx)
	cw := csv.NewWriter(w)
	for n, k := range idx {
		pr := byPoint[k]
		if n == 0 {
			_ = cw.Write(append(append([]string{"point"}, pr.Parameters...), CSVHeader...))
		}
		for _, st := range pr.Result.Strategies {
			for _, wl := range st.Workloads {
				task := ""
				if wl.TaskS != nil {
					task = num(wl.TaskS.P95)
				}
				row := append([]string{strconv.Itoa(pr.Point)}, pr.Values...)
				row = append(row, st.Name, wl.Name, num(st.CostPerHourUSD), num(st.TotalCostPerHourUSD),
					strconv.Itoa(st.SLOsMet), strconv.Itoa(st.SLOs), num(wl.TTFTMs.P50), num(wl.TTFTMs.P95), num(wl.TTFTMs.P99),
					num(wl.E2EMs.P95), task, strconv.FormatInt(wl.Requests.Arrived, 10), strconv.FormatInt(wl.Requests.Completed, 10),
					strconv.FormatInt(wl.Requests.Failed+wl.Requests.TimedOut, 10), strconv.FormatInt(wl.Requests.Dropped, 10))
				_ = cw.Write(row)
			}
		}
	}
	cw.Flush()
	return len(idx), cw.Error()
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
