package fleet

import (
	"fmt"
	"sync"

	"github.com/fleetsim/fleetsim/results"
)

// Run simulates every strategy of w and collects the results in scenario
// order. Strategies are independent simulations, so up to `parallel` of
// them run at once; the result does not depend on how many. When
// opts.OnCall is set, strategies run one after another so that the calls
// it sees come strategy by strategy, each in simulated-time order.
func Run(w *World, parallel int, opts Options) (results.Result, error) {
	res := results.Result{
		SchemaVersion: results.SchemaVersion,
		Scenario:      w.Name,
		Description:   w.Description,
		Seed:          w.Run.Seed,
		Run: results.Run{
			WindowS: w.Run.Window.Seconds(), WarmupS: w.Run.Warmup.Seconds(),
			DrainS: w.Run.Drain.Seconds(), StartHourUTC: w.Run.StartHourUTC,
		},
		Strategies: make([]results.Strategy, len(w.Strategies)),
	}
	for _, u := range w.Users {
		loc := w.Locations[u.Loc]
		ru := results.User{Name: u.Name, Lat: loc.Lat, Lon: loc.Lon}
		for _, l := range u.Loads {
			calls := 1.0
			if wl := &w.Workloads[l.Workload]; wl.Agent && wl.Steps != nil {
				calls = max(wl.Steps.Mean(), 1)
			}
			ru.PeakCallsPerS += l.PeakRatePerS * calls
		}
		res.Users = append(res.Users, ru)
	}
	if parallel < 1 || opts.OnCall != nil {
		parallel = 1
	}
	errs := make([]error, len(w.Strategies))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range w.Strategies {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res.Strategies[i], errs[i] = SimulateWith(w, i, opts)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return results.Result{}, fmt.Errorf("strategy %s: %w", w.Strategies[i].Name, err)
		}
	}
	return res, nil
}
