package measure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fleetsim/fleetsim/emulate"
	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/loadgen"
	"github.com/fleetsim/fleetsim/planner"
	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/world"
)

// Options is one measured-against-predicted run.
type Options struct {
	// Scenario is the scenario, as loaded (defaults set, validated). Run
	// does not modify it.
	Scenario *scenarios.Scenario
	// Plan, when set, sets the strategy's replicas per site (as `fleetsim
	// run --plan`); nil keeps the scenario's own.
	Plan *planner.PlanFile
	// Strategy names the strategy to run; empty is allowed when the
	// scenario has exactly one.
	Strategy string
	// Duration is the measured window, in real time and in simulated time.
	Duration time.Duration
	// Warmup precedes the window in both runs: its requests are sent and
	// simulated but not compared. Zero means Duration / 10; negative means none.
	Warmup time.Duration
	// Scale multiplies every user group's rate on every workload (on top of
	// the workload's usersScale), so that one machine can serve the run.
	// Zero means 1.
	Scale float64
	// Seed is the simulation seed (spec.run.seed); zero keeps the scenario's.
	Seed uint64
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// Endpoints, when set, maps a pool's key (PoolKey: site and model) to
	// the base URL ("http://host:port") of replicas already serving it
	// elsewhere, such as the pods of a kind cluster behind a Service. Run
	// then starts no emulators for that pool: its requests go to the
	// endpoint through the same delay proxies. The endpoint must serve
	// `fleetsim emulate --gpu G --model M --tp N` with every other flag at
	// its default (what kubeplan's replica pods run); Run checks that this
	// paces the simulator's model and that the endpoint's /v1/models names
	// the pool's model. Pools without an entry are emulated in-process; a
	// key that names no pool is an error.
	Endpoints map[string]string
}

// PoolKey is the key of the pool of a deployment of model at site in
// Options.Endpoints: "site/model", the site's name as the scenario spells
// it and the model's catalog id (serving.LookupModel(name).ID, which a
// scenario's or plan's alias resolves to).
func PoolKey(site, model string) string { return site + "/" + model }

// Percentiles compared, and the metrics.
var (
	comparedPercentiles = []float64{50, 95}
	comparedMetrics     = []string{fleet.MetricTTFT, fleet.MetricE2E}
)

// maxReplicas bounds the emulated replicas of one run: each is an engine
// goroutine pacing real time on this machine.
const maxReplicas = 64

// drain is the simulated time after the window that calls in flight get
// to finish; the real run likewise waits for every request it sent.
const drain = 10 * time.Minute

// Report is the outcome of Run: predicted next to measured per workload,
// metric and percentile.
type Report struct {
	// Scenario and Strategy name what ran.
	Scenario string `json:"scenario"`
	Strategy string `json:"strategy"`
	// Scale is the factor applied to every user rate.
	Scale float64 `json:"scale"`
	// WarmupS and DurationS are the warm-up and the compared window, in seconds.
	WarmupS   float64 `json:"warmupS"`
	DurationS float64 `json:"durationS"`
	// Seed is the simulation seed.
	Seed uint64 `json:"seed"`
	// Pools are the sites (with the model when a strategy has several
	// deployments) and their replicas: emulated in-process, or at an
	// endpoint (Options.Endpoints).
	Pools []PoolReport `json:"pools"`
	// Requests counts the calls of both runs.
	Requests Counts `json:"requests"`
	// MaxSendLagMs is the latest a real request was sent after its
	// simulated issue time: how closely the real run kept the schedule.
	MaxSendLagMs float64 `json:"maxSendLagMs"`
	// Rows compare predicted with measured.
	Rows []Row `json:"rows"`
	// Notes say what the real run could not reproduce.
	Notes []string `json:"notes,omitempty"`
}

// PoolReport is one pool of the run.
type PoolReport struct {
	Name     string `json:"name"`
	Replicas int    `json:"replicas"`
	// Endpoint is the base URL the pool's requests went to when its
	// replicas ran elsewhere (Options.Endpoints); empty when emulated here.
	Endpoint string `json:"endpoint,omitempty"`
	// Requests is how many real requests the pool was sent.
	Requests int `json:"requests"`
}

// Counts are the calls of a run.
type Counts struct {
	// Simulated is every model call the simulator issued (warm-up included).
	Simulated int `json:"simulated"`
	// DroppedBySim were dropped by the simulator (queues full); they are not sent.
	DroppedBySim int `json:"droppedBySim"`
	// Sent is the real requests sent, OK those that streamed to the end,
	// Failed the others (by kind in FailedBy).
	Sent     int            `json:"sent"`
	OK       int            `json:"ok"`
	Failed   int            `json:"failed"`
	FailedBy map[string]int `json:"failedBy,omitempty"`
	// Compared is the calls in the window that both runs completed.
	Compared int `json:"compared"`
	// Sessions is the agent sessions whose task time is compared: replayed
	// closed loop, started in the window and completed in both runs.
	Sessions int `json:"sessions,omitempty"`
}

// Row is one workload's metric at one percentile.
type Row struct {
	Workload   string  `json:"workload"`
	Metric     string  `json:"metric"`
	Percentile float64 `json:"percentile"`
	// Requests is the number of calls the percentiles are over; for
	// metric "task", the number of agent sessions.
	Requests    int     `json:"requests"`
	PredictedMs float64 `json:"predictedMs"`
	MeasuredMs  float64 `json:"measuredMs"`
	// DiffPct is (measured − predicted) / predicted × 100.
	DiffPct float64 `json:"diffPct"`
	// Skipped, when set, says why the row has no figures.
	Skipped string `json:"skipped,omitempty"`
}

// MedianAbsDiffPct is the median of |DiffPct| over the rows not skipped;
// NaN when every row is skipped.
func (r *Report) MedianAbsDiffPct() float64 {
	var v []float64
	for _, row := range r.Rows {
		if row.Skipped == "" {
			v = append(v, math.Abs(row.DiffPct))
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	return loadgen.Quantile(v, 0.5)
}

// logf writes a progress line.
func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", args...)
	}
}

// Run simulates the strategy on the scaled scenario, then replays the very
// calls the simulator issued as real HTTP requests against emulated
// replicas behind delay proxies, and compares the two runs' TTFT and E2E
// percentiles per workload (for an agent workload, per model call, and
// its task time per session). Chat calls and each agent session's first
// step are sent at their simulated issue times, later steps closed loop
// (see nextSend).
// It returns an error for bad options, a scenario that does not build, a
// plan that does not apply, an emulator that would pace a different model
// than the simulator, or ctx ending.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Scenario == nil {
		return nil, errors.New("measure: no scenario")
	}
	if opts.Duration <= 0 {
		return nil, fmt.Errorf("measure: duration must be > 0, got %v", opts.Duration)
	}
	if opts.Scale == 0 {
		opts.Scale = 1
	}
	if !(opts.Scale > 0) || math.IsInf(opts.Scale, 1) {
		return nil, fmt.Errorf("measure: scale must be > 0 and finite, got %g", opts.Scale)
	}
	switch {
	case opts.Warmup == 0:
		opts.Warmup = opts.Duration / 10
	case opts.Warmup < 0:
		opts.Warmup = 0
	}
	w, rep, err := buildWorld(&opts)
	if err != nil {
		return nil, err
	}
	st := &w.Strategies[0]
	// The simulator runs first: it decides each call's arrival, lengths,
	// site and replica, and predicts its latency.
	var recs []fleet.CallRecord
	if _, err := fleet.Run(w, 1, fleet.Options{OnCall: func(r *fleet.CallRecord) { recs = append(recs, *r) }}); err != nil {
		return nil, fmt.Errorf("measure: simulate: %w", err)
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Issued < recs[j].Issued })
	opts.logf("simulated %d calls of strategy %s", len(recs), st.Name)

	ps := pools(w, st)
	if err := checkEndpointKeys(opts.Endpoints, ps); err != nil {
		return nil, err
	}
	total := 0
	for i := range ps {
		if u, ok := opts.Endpoints[ps[i].key]; ok {
			ps[i].endpoint = u
			continue
		}
		total += ps[i].n
	}
	if total > maxReplicas {
		return nil, fmt.Errorf("measure: strategy %s has %d replicas, more than the %d one machine emulates; lower the plan's replicas", st.Name, total, maxReplicas)
	}
	defer func() {
		for _, p := range ps {
			if p.served != nil {
				_ = p.served.close()
			}
		}
	}()
	if err := startPools(ctx, &opts, st, ps); err != nil {
		return nil, err
	}
	if note := remoteNote(ps); note != "" {
		rep.Notes = append(rep.Notes, note)
	}
	sess := sessionsOf(recs)
	measured, sendLag, err := replay(ctx, &opts, w, ps, recs, sess)
	rep.MaxSendLagMs = float64(sendLag) / float64(time.Millisecond)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		rep.Pools = append(rep.Pools, PoolReport{Name: p.name, Replicas: p.n, Endpoint: p.endpoint})
	}
	for _, m := range measured {
		if m.sent {
			rep.Pools[m.pool].Requests++
		}
	}
	compare(w, rep, recs, measured, sess)
	return rep, nil
}

// buildWorld resolves the scaled scenario into a world with only the
// chosen strategy and no faults, autoscaling or prefix caching, and starts
// the report.
func buildWorld(opts *Options) (*fleet.World, *Report, error) {
	sc := *opts.Scenario
	sc.Spec.Workloads = slices.Clone(sc.Spec.Workloads)
	for i := range sc.Spec.Workloads {
		u := sc.Spec.Workloads[i].UsersScale
		if u == 0 {
			u = 1
		}
		sc.Spec.Workloads[i].UsersScale = u * opts.Scale
	}
	sc.Spec.Run.Duration = scenarios.Duration(opts.Duration.Seconds())
	sc.Spec.Run.Warmup = scenarios.Duration(opts.Warmup.Seconds())
	sc.Spec.Run.Drain = scenarios.Duration(drain.Seconds())
	if opts.Seed != 0 {
		seed := opts.Seed
		sc.Spec.Run.Seed = &seed
	}
	if err := sc.Validate(); err != nil {
		return nil, nil, fmt.Errorf("measure: scaled scenario: %w", err)
	}
	w, err := world.Build(&sc)
	if err != nil {
		return nil, nil, fmt.Errorf("measure: %w", err)
	}
	if opts.Plan != nil {
		if err := opts.Plan.ApplyTo(w); err != nil {
			return nil, nil, fmt.Errorf("measure: %w", err)
		}
	}
	si := -1
	var names []string
	for i := range w.Strategies {
		names = append(names, w.Strategies[i].Name)
		if w.Strategies[i].Name == opts.Strategy || (opts.Strategy == "" && len(w.Strategies) == 1) {
			si = i
		}
	}
	if si < 0 {
		if opts.Strategy == "" {
			return nil, nil, fmt.Errorf("measure: the scenario has %d strategies (%s): name one", len(names), strings.Join(names, ", "))
		}
		return nil, nil, fmt.Errorf("measure: no strategy %q (have %s)", opts.Strategy, strings.Join(names, ", "))
	}
	rep := &Report{
		Scenario: w.Name, Strategy: w.Strategies[si].Name, Scale: opts.Scale,
		WarmupS: opts.Warmup.Seconds(), DurationS: opts.Duration.Seconds(), Seed: w.Run.Seed,
	}
	// Deployment settings the world does not keep (precision, profile,
	// batch limit) come from the scenario's strategy of the same name.
	st := w.Strategies[si]
	st.Deployments = slices.Clone(st.Deployments)
	for i := range st.Deployments {
		if st.Deployments[i].Autoscale != nil {
			st.Deployments[i].Autoscale = nil
			rep.Notes = append(rep.Notes, fmt.Sprintf("deployment %d: autoscaling is off in both runs; every planned replica serves throughout", i))
		}
	}
	// The emulator has no prefix cache: an agent step or a traced prompt
	// recomputes its whole context there, so the simulator must too.
	caching := false
	for i := range st.Deployments {
		caching = caching || st.Deployments[i].PrefixCaching
		st.Deployments[i].PrefixCaching = false
	}
	agents, traces, remote := false, false, false
	for _, wl := range w.Workloads {
		agents = agents || wl.Agent
		traces = traces || wl.Replays()
		remote = remote || (wl.Agent && wl.Orchestrator != fleet.AtClient)
	}
	if caching && (agents || traces) {
		rep.Notes = append(rep.Notes, "prefix caching is off in both runs (the emulator has none)")
	}
	if agents {
		rep.Notes = append(rep.Notes, "agent workloads: sessions replayed closed loop (each step sent at the previous step's measured end plus the simulator's tool and orchestration gap); TTFT and E2E per model call, task time per session from its first call to its last answer back at the user")
		if remote {
			rep.Notes = append(rep.Notes, "agent workloads orchestrated at the edge or the model: task time leaves out the task's trip from the user to the orchestrator before the first call, in both runs")
		}
	}
	w.Strategies = []fleet.Strategy{st}
	if len(w.Faults) > 0 {
		w.Faults = nil
		rep.Notes = append(rep.Notes, "faults are left out of both runs")
	}
	return w, rep, nil
}

// scenarioDeployment returns the scenario's deployment di of strategy name.
func scenarioDeployment(s *scenarios.Scenario, name string, di int) (scenarios.Deployment, bool) {
	for _, ss := range s.Spec.Strategies {
		if ss.Name == name && di < len(ss.Deployments) {
			return ss.Deployments[di], true
		}
	}
	return scenarios.Deployment{}, false
}

// startPools starts each pool's emulated replicas, configured as the
// world's deployment, and checks they pace the simulator's step model. A
// pool with an endpoint is checked instead (checkRemote).
func startPools(ctx context.Context, opts *Options, st *fleet.Strategy, ps []pool) error {
	for i := range ps {
		p := &ps[i]
		d := p.deployment
		if p.endpoint != "" {
			addr, err := checkRemote(ctx, p)
			if err != nil {
				return fmt.Errorf("measure: pool %s: %w", p.name, err)
			}
			p.addr = addr
			opts.logf("pool %s: %d × %s on %d × %s at %s (not started here)", p.name, p.n, d.Model, d.TP, d.GPU, p.endpoint)
			continue
		}
		ds, ok := scenarioDeployment(opts.Scenario, st.Name, p.dep)
		if !ok {
			return fmt.Errorf("measure: strategy %s deployment %d: not in the scenario", st.Name, p.dep)
		}
		profile := ds.Profile
		if isProfileFile(profile) && !filepath.IsAbs(profile) {
			if src := opts.Scenario.SourcePath(); src != "" && !strings.HasPrefix(src, "builtin:") {
				profile = filepath.Join(filepath.Dir(src), profile)
			}
		}
		cfg := emulate.Config{
			GPU: d.GPU, Model: d.Model, TP: d.TP, Precision: ds.Precision, Profile: profile,
			MaxBatch: ds.MaxBatch, TokenBudget: d.TokenBudget,
		}
		s, err := newSite(p.name, cfg, p.n)
		if err != nil {
			return fmt.Errorf("measure: %w", err)
		}
		p.served = s
		p.addr = s.addr()
		if err := checkModel(d.Estimator, s.replicas[0].Model()); err != nil {
			return fmt.Errorf("measure: pool %s: emulator and simulator differ: %w", p.name, err)
		}
		if bt := d.BlockTokens; bt != 0 && bt != emulate.DefaultBlockTokens {
			return fmt.Errorf("measure: pool %s: blockSize %d, the emulator has %d-token blocks", p.name, bt, emulate.DefaultBlockTokens)
		}
		opts.logf("pool %s: %d × %s on %d × %s at %s", p.name, p.n, d.Model, d.TP, d.GPU, s.addr())
	}
	return nil
}

// isProfileFile says whether a profile reference names a file (as
// profiles.Resolve decides).
func isProfileFile(ref string) bool {
	return strings.ContainsAny(ref, `/\`) || strings.HasSuffix(ref, ".yaml") || strings.HasSuffix(ref, ".yml")
}

// outcome is what the real run measured for one call record.
type outcome struct {
	sent bool
	pool int
	req  loadgen.Request
	// sentAt is when the request was sent and doneAt when its stream
	// ended at the caller ([DONE]), from the start of the real run.
	sentAt, doneAt time.Duration
}

// pathKey identifies a delay proxy: calls from one origin location (with
// user group user's access RTT when the caller is that group's client; -1
// otherwise) to one pool, on per-request or persistent connections.
type pathKey struct {
	user, origin, pool int
	persistent         bool
}

// path is a delay proxy and the HTTP transport that uses it.
type path struct {
	proxy     *DelayProxy
	transport *http.Transport
	rttS      float64
	handshake float64
}

// prepared is how one call record is sent: its pool, and the request.
type prepared struct {
	pool int
	cfg  loadgen.Config
}

// replay sends every call record that the simulator did not drop, through
// the delay proxy of its user group and pool, and waits for all. Chat calls
// and the first step of each agent session go at their simulated issue
// times; every later step of a session goes closed loop, at nextSend: the
// previous step's real completion plus the simulator's gap (tools,
// orchestration) before the step. It returns what each record measured
// and the largest send lag.
func replay(ctx context.Context, opts *Options, w *fleet.World, ps []pool, recs []fleet.CallRecord, sess []agentSession) ([]outcome, time.Duration, error) {
	userIdx := map[string]int{}
	for i, u := range w.Users {
		userIdx[u.Name] = i
	}
	wlIdx := map[string]int{}
	for i, wl := range w.Workloads {
		wlIdx[wl.Name] = i
	}
	poolOf := func(replica int) int {
		for i, p := range ps {
			if replica >= p.first && replica < p.first+p.n {
				return i
			}
		}
		return -1
	}
	paths := map[pathKey]*path{}
	defer func() {
		for _, p := range paths { // order does not matter: each is closed
			p.transport.CloseIdleConnections()
			_ = p.proxy.Close()
		}
	}()
	getPath := func(k pathKey) (*path, error) {
		if p, ok := paths[k]; ok {
			return p, nil
		}
		rttMs := w.RTT.RTTMs(k.origin, w.Sites[ps[k.pool].site].Loc)
		from := w.Locations[k.origin].Name
		if k.user >= 0 {
			rttMs += w.Users[k.user].AccessRTTMs
			from = w.Users[k.user].Name
		}
		hs := 0.0
		if !k.persistent {
			// fleet/engine.go handshakeS: per-request connections pay
			// HandshakeRTTs round trips plus the mTLS setup every call.
			hs = float64(w.Net.HandshakeRTTs)*rttMs/1000 + w.Net.MTLSS
		}
		pr, err := NewDelayProxy(ps[k.pool].addr, seconds(rttMs/2000), seconds(hs))
		if err != nil {
			return nil, err
		}
		tr := &http.Transport{DisableKeepAlives: !k.persistent, MaxIdleConnsPerHost: 256, DisableCompression: true}
		p := &path{proxy: pr, transport: tr, rttS: rttMs / 1000, handshake: hs}
		paths[k] = p
		opts.logf("path %s → %s: rtt %.1f ms, handshake %.1f ms, proxy %s", from, ps[k.pool].name, rttMs, hs*1000, pr.Addr())
		return p, nil
	}
	// Every path is set up before the clock starts.
	prep := make([]prepared, len(recs))
	for i := range recs {
		rec := &recs[i]
		if rec.Dropped {
			continue
		}
		ui, ok1 := userIdx[rec.User]
		wi, ok2 := wlIdx[rec.Workload]
		pi := poolOf(rec.Replica)
		if !ok1 || !ok2 || pi < 0 {
			return nil, 0, fmt.Errorf("measure: call of %s/%s at %.3f s: unknown user, workload or replica %d", rec.User, rec.Workload, rec.Issued, rec.Replica)
		}
		pa, err := getPath(origin(w, ui, wi, ps[pi].site, pi))
		if err != nil {
			return nil, 0, fmt.Errorf("measure: %w", err)
		}
		// What the simulator adds upstream beyond the proxy's half RTT and
		// the handshake: jitter, prompt transfer and gateway time.
		extra := (rec.AtServer - rec.Issued) - pa.rttS/2 - pa.handshake
		prep[i] = prepared{pool: pi, cfg: loadgen.Config{
			URL: "http://" + pa.proxy.Addr(), API: loadgen.Completions,
			ISL: rec.Prompt, OSL: rec.Output, Concurrency: 1, Requests: 1,
			Timeout: time.Minute,
			Client: &http.Client{Transport: extraDelay{base: pa.transport, us: int64(math.Max(extra, 0) * 1e6),
				atClient: ps[pi].endpoint != ""}},
		}}
	}
	// chained marks the later steps of closed-loop sessions: the goroutine
	// of the session's first step sends them.
	chained := make([]bool, len(recs))
	first := make([]int, len(recs)) // session index + 1 of a closed session's first step
	for si, s := range sess {
		if !s.closed {
			continue
		}
		first[s.calls[0]] = si + 1
		for _, i := range s.calls[1:] {
			chained[i] = true
		}
	}

	out := make([]outcome, len(recs))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		maxLag  time.Duration
		lastLog time.Time
	)
	start := time.Now()
	// wait sleeps until due; it reports false when ctx ended first.
	wait := func(timer *time.Timer, due time.Time) bool {
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				timer.Stop()
				return false
			case <-timer.C:
			}
		}
		mu.Lock()
		if lag := time.Since(due); lag > maxLag {
			maxLag = lag
		}
		mu.Unlock()
		return true
	}
	// send sends record i now and waits for its stream to end.
	send := func(i int) {
		sentAt := time.Since(start)
		res, err := loadgen.Run(ctx, prep[i].cfg)
		mu.Lock()
		defer mu.Unlock()
		o := &out[i]
		o.sent, o.pool, o.sentAt = true, prep[i].pool, sentAt
		switch {
		case res != nil && len(res.Requests) == 1:
			o.req = res.Requests[0]
			o.doneAt = sentAt + o.req.Sent + o.req.E2E
		case err != nil:
			o.req = loadgen.Request{Err: loadgen.ErrConnect, Detail: err.Error()}
		default:
			o.req = loadgen.Request{Err: loadgen.ErrCanceled}
		}
	}
	timer := time.NewTimer(0)
	<-timer.C
	defer timer.Stop()
	for i := range recs {
		rec := &recs[i]
		if rec.Dropped || chained[i] {
			continue
		}
		if !wait(timer, start.Add(seconds(rec.Issued))) {
			wg.Wait()
			return nil, maxLag, fmt.Errorf("measure: %w", ctx.Err())
		}
		if now := time.Now(); now.Sub(lastLog) >= 5*time.Second {
			lastLog = now
			opts.logf("t=%.0f s: sending call %d of %d", rec.Issued, i+1, len(recs))
		}
		wg.Add(1)
		if si := first[i] - 1; si >= 0 {
			calls := sess[si].calls
			go func() {
				defer wg.Done()
				t := time.NewTimer(0)
				<-t.C
				defer t.Stop()
				send(calls[0])
				for k := 1; k < len(calls); k++ {
					mu.Lock()
					prev := out[calls[k-1]]
					mu.Unlock()
					if !prev.req.OK() {
						return // the session ends at a failed step
					}
					if !wait(t, start.Add(nextSend(prev.doneAt, &recs[calls[k-1]], &recs[calls[k]]))) {
						return
					}
					send(calls[k])
				}
			}()
			continue
		}
		go func() {
			defer wg.Done()
			send(i)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, maxLag, fmt.Errorf("measure: %w", err)
	}
	opts.logf("real run done after %.1f s", time.Since(start).Seconds())
	return out, maxLag, nil
}

// origin returns the path a call of workload wi from user group ui to
// pool pi (at site si) takes: from the user's client for chat and for
// agents orchestrated there, else from the orchestrator's location (the
// user's edge site; for orchestrator "model" the call's own site, which
// is where the simulator places it unless the call spilled over).
func origin(w *fleet.World, ui, wi, si, pi int) pathKey {
	wl := &w.Workloads[wi]
	u := &w.Users[ui]
	k := pathKey{user: ui, origin: u.Loc, pool: pi, persistent: wl.Persistent}
	if wl.Agent {
		switch wl.Orchestrator {
		case fleet.AtEdge:
			k.user, k.origin = -1, u.EdgeLoc
		case fleet.AtModel:
			k.user, k.origin = -1, w.Sites[si].Loc
		}
	}
	return k
}

// seconds converts seconds to a Duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// extraDelay is a RoundTripper that marks each request with the extra
// upstream delay the site applies. With atClient (a pool at an endpoint,
// which knows no such header) it waits that long itself before sending:
// loadgen's clock has started, so TTFT and E2E count the wait as they
// count the site's, and the request reaches the replicas at the same time.
type extraDelay struct {
	base     http.RoundTripper
	us       int64
	atClient bool
}

// RoundTrip sets the delay header on a clone of r and sends it, or waits
// the delay and sends r.
func (e extraDelay) RoundTrip(r *http.Request) (*http.Response, error) {
	if e.atClient {
		if e.us > 0 {
			t := time.NewTimer(time.Duration(e.us) * time.Microsecond)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return nil, r.Context().Err()
			}
		}
		return e.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set(extraDelayHeader, strconv.FormatInt(e.us, 10))
	return e.base.RoundTrip(r)
}

// compare fills the report's counts and rows: per workload, the
// percentiles of predicted and of measured TTFT and E2E over the calls in
// the window that both runs completed, and for an agent workload those of
// task time over the closed-loop sessions that started in the window and
// completed in both runs (sessionTask).
func compare(w *fleet.World, rep *Report, recs []fleet.CallRecord, out []outcome, sess []agentSession) {
	type pair struct{ pred, meas map[string][]float64 }
	byWl := map[string]*pair{}
	get := func(wl string) *pair {
		p := byWl[wl]
		if p == nil {
			p = &pair{pred: map[string][]float64{}, meas: map[string][]float64{}}
			byWl[wl] = p
		}
		return p
	}
	rep.Requests.FailedBy = map[string]int{}
	for i := range recs {
		rec := &recs[i]
		rep.Requests.Simulated++
		if rec.Dropped {
			rep.Requests.DroppedBySim++
			continue
		}
		o := &out[i]
		if !o.sent {
			continue
		}
		rep.Requests.Sent++
		if !o.req.OK() {
			rep.Requests.Failed++
			rep.Requests.FailedBy[string(o.req.Err)]++
			continue
		}
		rep.Requests.OK++
		if !rec.Measured {
			continue
		}
		rep.Requests.Compared++
		p := get(rec.Workload)
		p.pred[fleet.MetricTTFT] = append(p.pred[fleet.MetricTTFT], rec.TTFTS*1000)
		p.pred[fleet.MetricE2E] = append(p.pred[fleet.MetricE2E], rec.E2ES*1000)
		p.meas[fleet.MetricTTFT] = append(p.meas[fleet.MetricTTFT], ms(o.req.TTFT))
		p.meas[fleet.MetricE2E] = append(p.meas[fleet.MetricE2E], ms(o.req.E2E))
	}
	if len(rep.Requests.FailedBy) == 0 {
		rep.Requests.FailedBy = nil
	}
	for _, s := range sess {
		pred, meas, ok := sessionTask(w, recs, out, s)
		if !ok {
			continue
		}
		rep.Requests.Sessions++
		p := get(recs[s.calls[0]].Workload)
		p.pred[fleet.MetricTask] = append(p.pred[fleet.MetricTask], pred*1000)
		p.meas[fleet.MetricTask] = append(p.meas[fleet.MetricTask], ms(meas))
	}
	// Workloads in scenario order.
	for _, wl := range w.Workloads {
		metrics := comparedMetrics
		if wl.Agent {
			metrics = append(slices.Clone(metrics), fleet.MetricTask)
		}
		for _, metric := range metrics {
			for _, q := range comparedPercentiles {
				row := Row{Workload: wl.Name, Metric: metric, Percentile: q}
				p := byWl[wl.Name]
				switch {
				case metric == fleet.MetricTask && (p == nil || len(p.pred[metric]) == 0):
					row.Skipped = "no session completed in the window"
				case p == nil || len(p.pred[metric]) == 0:
					row.Skipped = "no call completed in the window"
				default:
					pred := slices.Sorted(slices.Values(p.pred[metric]))
					meas := slices.Sorted(slices.Values(p.meas[metric]))
					row.Requests = len(pred)
					row.PredictedMs = loadgen.Quantile(pred, q/100)
					row.MeasuredMs = loadgen.Quantile(meas, q/100)
					row.DiffPct = (row.MeasuredMs - row.PredictedMs) / row.PredictedMs * 100
				}
				rep.Rows = append(rep.Rows, row)
			}
		}
	}
}

// sessionTask returns agent session s's task time as the simulator
// predicted it (seconds) and as the real run measured it, and whether it
// is compared: the session is closed loop, started in the window, and
// every step completed in both runs.
//
// Predicted: from the first call's issue to the last call's answer back at
// the orchestrator (Issued + E2ES), plus the final leg to the user
// (finalLegS). For orchestrator client this is the simulator's task time
// exactly (fleet/agent.go: the session starts when its first call is
// issued and ends when the last answer is back). For orchestrators edge
// and model the simulator's task time also counts the task's trip from the
// user to the orchestrator before the first call; the call records do not
// hold it (it has its own jitter draw), so it is left out of both sides.
// Measured: from the first step's real send to the last step's real end of
// stream, plus the same final leg, which the real run does not execute.
func sessionTask(w *fleet.World, recs []fleet.CallRecord, out []outcome, s agentSession) (float64, time.Duration, bool) {
	if !s.closed || len(s.calls) == 0 {
		return 0, 0, false
	}
	r0, rn := &recs[s.calls[0]], &recs[s.calls[len(s.calls)-1]]
	if !r0.Measured {
		return 0, 0, false
	}
	for _, i := range s.calls {
		if !out[i].sent || !out[i].req.OK() {
			return 0, 0, false
		}
	}
	ui := slices.IndexFunc(w.Users, func(u fleet.UserGroup) bool { return u.Name == r0.User })
	wi := slices.IndexFunc(w.Workloads, func(wl fleet.Workload) bool { return wl.Name == r0.Workload })
	si := slices.IndexFunc(w.Sites, func(st fleet.Site) bool { return st.Name == r0.Site })
	if ui < 0 || wi < 0 || si < 0 {
		return 0, 0, false
	}
	leg := finalLegS(w, wi, ui, si)
	pred := doneS(rn) - r0.Issued + leg
	meas := out[s.calls[len(s.calls)-1]].doneAt - out[s.calls[0]].sentAt + seconds(leg)
	return pred, meas, true
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
