// Package world resolves a validated scenario into a fleet.World: places
// and their RTTs, sites, users with their arrival processes, tools,
// workloads, serving models and the replicas each strategy places.
package world

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // time zones resolve the same on every machine

	"github.com/fleetsim/fleetsim/fleet"
	"github.com/fleetsim/fleetsim/profiles"
	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/fleetsim/fleetsim/serving"
	"github.com/fleetsim/fleetsim/sim"
	"github.com/fleetsim/fleetsim/topology"
	"github.com/fleetsim/fleetsim/traces"
	"github.com/fleetsim/fleetsim/workloads"
)

// Build resolves s, which must have passed Validate, into a World. Errors
// name the file, line and field they come from.
func Build(s *scenarios.Scenario) (*fleet.World, error) {
	b := &builder{s: s, locByName: map[string]int{}}
	w, err := b.build()
	if err != nil {
		return nil, err
	}
	return w, nil
}

type builder struct {
	s         *scenarios.Scenario
	w         *fleet.World
	locByName map[string]int
	profiles  map[string]*profiles.Profile
	errs      []error
}

func (b *builder) fail(path, format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf("%s: %s: %s", b.s.Where(path), path, fmt.Sprintf(format, args...)))
}

func (b *builder) build() (*fleet.World, error) {
	sp := &b.s.Spec
	b.w = &fleet.World{Name: b.s.Metadata.Name, Description: b.s.Metadata.Description}
	b.run()
	b.places()
	if len(b.errs) > 0 {
		return nil, errors.Join(b.errs...)
	}
	b.network()
	b.sites()
	b.tools()
	b.workloads()
	b.users()
	if len(b.errs) > 0 {
		return nil, errors.Join(b.errs...)
	}
	for i := range sp.Strategies {
		b.strategy(i)
	}
	b.faults()
	b.residency()
	if len(b.errs) > 0 {
		return nil, errors.Join(b.errs...)
	}
	return b.w, nil
}

// faults resolves the scheduled faults. Times count from the start of the
// measured window; a fault without a duration lasts past the run's end.
func (b *builder) faults() {
	never := b.w.Run.Warmup + b.w.Run.Window + b.w.Run.Drain + 1
	for _, fs := range b.s.Spec.Faults {
		path := fmt.Sprintf("spec.faults[%s]", fs.Name)
		f := fleet.Fault{Name: fs.Name, Start: b.w.Run.Warmup + sim.FromSeconds(fs.Start.Seconds()), End: never,
			Fraction: fs.Fraction, Count: fs.Count, AddRTTMs: fs.AddRTTMs, Loss: fs.Loss, Site: -1, Tool: -1, LocA: -1, LocB: -1}
		if fs.Duration != nil {
			f.End = f.Start + sim.FromSeconds(fs.Duration.Seconds())
		}
		switch fs.Kind {
		case "nodeLoss":
			f.Kind = fleet.NodeLoss
		case "siteDown":
			f.Kind = fleet.SiteDown
		case "linkDegraded":
			f.Kind = fleet.LinkDegraded
		case "linkCut":
			f.Kind = fleet.LinkCut
		case "toolOutage":
			f.Kind = fleet.ToolOutage
		default:
			b.fail(path+".kind", "unknown kind %q", fs.Kind)
			continue
		}
		if fs.Site != "" {
			if f.Site = b.siteIndex(fs.Site); f.Site < 0 {
				b.fail(path+".site", "unknown region %q", fs.Site)
			}
		}
		if fs.Tool != "" {
			for ti, t := range b.w.Tools {
				if t.Name == fs.Tool {
					f.Tool = ti
				}
			}
			if f.Tool < 0 {
				b.fail(path+".tool", "unknown tool %q", fs.Tool)
			}
		}
		if f.Kind == fleet.LinkDegraded || f.Kind == fleet.LinkCut {
			f.LocA = b.linkEnd(fs.From, path+".from")
			f.LocB = b.linkEnd(fs.To, path+".to")
		}
		b.w.Faults = append(b.w.Faults, f)
	}
}

// residency rejects scenarios that could only serve a workload by
// breaking its residency zone: an agent confined to a zone that calls a tool
// outside it, and a strategy with no site in the zone that serves the
// workload for a user group that sends it. The router refuses such calls,
// so the scenario would fail them all; it is better said up front.
func (b *builder) residency() {
	zoneOf := func(wi, ui int) string {
		wl := &b.w.Workloads[wi]
		if wl.ZoneFromUser {
			return b.w.Users[ui].Zone
		}
		return wl.Zone
	}
	type pair struct{ w, u int }
	var sends []pair
	for ui, u := range b.w.Users {
		for _, l := range u.Loads {
			sends = append(sends, pair{l.Workload, ui})
		}
		for wi, sh := range u.TraceShares {
			if sh > 0 {
				sends = append(sends, pair{wi, ui})
			}
		}
	}
	for _, p := range sends {
		zone := zoneOf(p.w, p.u)
		if zone == "" {
			continue
		}
		wl := &b.w.Workloads[p.w]
		path := fmt.Sprintf("spec.workloads[%s]", wl.Name)
		for _, tc := range wl.Tools {
			t := &b.w.Tools[tc.Tool]
			if tz := b.w.Locations[t.Loc].Zone; tz != zone {
				b.fail(path+".agent.tools", "tool %q is in zone %q, outside the zone %q that confines %s's calls from %s: the agent cannot call it without breaking residency",
					t.Name, tz, zone, wl.Name, b.w.Users[p.u].Name)
			}
		}
		for _, st := range b.w.Strategies {
			ok := false
			var seen []string
			for _, d := range st.Deployments {
				if !d.Serves[p.w] {
					continue
				}
				for _, pl := range d.Placements {
					site := b.w.Sites[pl.Site]
					if pl.Replicas > 0 && site.Zone == zone {
						ok = true
					}
					seen = append(seen, fmt.Sprintf("%s (zone %q)", site.Name, site.Zone))
				}
			}
			if !ok {
				b.fail(fmt.Sprintf("spec.strategies[%s]", st.Name), "cannot serve workload %q for users %q within their residency zone %q: the sites serving it are %s",
					wl.Name, b.w.Users[p.u].Name, zone, strings.Join(seen, ", "))
			}
		}
	}
}

// linkEnd finds a link fault's end among the scenario's locations: a tool
// name, a region, a user group or a catalog place the scenario uses.
func (b *builder) linkEnd(name, path string) int {
	for _, t := range b.w.Tools {
		if t.Name == name {
			return t.Loc
		}
	}
	for _, u := range b.w.Users {
		if u.Name == name {
			return u.Loc
		}
	}
	if i, ok := b.locByName[strings.ToLower(name)]; ok {
		return i
	}
	if p, ok := topology.Lookup(name); ok {
		if i, ok := b.locByName[strings.ToLower(p.Name)]; ok {
			return i
		}
	}
	b.fail(path, "place %q is not used by this scenario (no region, user group or tool is there)", name)
	return -1
}

func (b *builder) run() {
	r := &b.s.Spec.Run
	rp := fleet.RunParams{
		Warmup:       sim.FromSeconds(r.Warmup.Seconds()),
		Window:       sim.FromSeconds(r.Duration.Seconds()),
		Drain:        sim.FromSeconds(r.Drain.Seconds()),
		StartHourUTC: r.StartHourUTC,
		Seed:         1,
	}
	if r.Seed != nil {
		rp.Seed = *r.Seed
	}
	b.w.Run = rp
}

// addLoc adds a location once per (case-insensitive) name.
func (b *builder) addLoc(p topology.Place) int {
	key := strings.ToLower(p.Name)
	if i, ok := b.locByName[key]; ok {
		return i
	}
	b.w.Locations = append(b.w.Locations, p)
	b.locByName[key] = len(b.w.Locations) - 1
	return len(b.w.Locations) - 1
}

// resolvePlace finds a place by name: a region of the scenario first, then
// the built-in catalog.
func (b *builder) resolvePlace(name, path string) (int, bool) {
	if i, ok := b.locByName[strings.ToLower(name)]; ok {
		return i, true
	}
	p, ok := topology.Lookup(name)
	if !ok {
		b.fail(path, "unknown place %q (not a region of this scenario nor a catalog place; see `fleetsim rtt --list`)", name)
		return 0, false
	}
	// A catalog place referred to by alias resolves to its canonical entry.
	if i, ok := b.locByName[strings.ToLower(p.Name)]; ok {
		b.locByName[strings.ToLower(name)] = i
		return i, true
	}
	i := b.addLoc(p)
	b.locByName[strings.ToLower(name)] = i
	return i, true
}

func (b *builder) places() {
	sp := &b.s.Spec
	// Regions come first, so a site's location index equals its site index.
	for i, r := range sp.Regions {
		path := fmt.Sprintf("spec.regions[%s]", r.Name)
		p, ok := topology.Lookup(r.Name)
		if !ok {
			p = topology.Place{Kind: topology.Core}
		}
		p.Name = r.Name
		if r.Lat != nil {
			p.Lat = *r.Lat
		}
		if r.Lon != nil {
			p.Lon = *r.Lon
		}
		if !ok && (r.Lat == nil || r.Lon == nil) {
			b.fail(path, "not a catalog region: give lat and lon")
		}
		if r.TimeZone != "" {
			p.TimeZone = r.TimeZone
		}
		if r.Kind != "" {
			p.Kind = topology.Kind(r.Kind)
		}
		if r.Zone != "" {
			p.Zone = r.Zone
		}
		if got := b.addLoc(p); got != i {
			b.fail(path+".name", "duplicate region name")
		}
	}
	for _, u := range sp.Users {
		if u.Place == "" && u.Lat != nil && u.Lon != nil {
			b.addLoc(topology.Place{Name: u.Name, Lat: *u.Lat, Lon: *u.Lon, TimeZone: u.TimeZone, Zone: u.Zone, Kind: topology.Edge})
		}
	}
}

func (b *builder) network() {
	n := &b.s.Spec.Network
	m := topology.DefaultModel()
	if n.BaseRTTMs != nil {
		m.BaseRTTMs = *n.BaseRTTMs
	}
	if n.PathInflation != nil {
		m.PathInflation = *n.PathInflation
	}
	if n.FiberKmPerMs != nil {
		m.FiberKmPerMs = *n.FiberKmPerMs
	}
	if n.SameSiteRTTMs != nil {
		m.SameSiteRTTMs = *n.SameSiteRTTMs
	}
	if err := m.Validate(); err != nil {
		b.fail("spec.network", "%v", err)
		return
	}
	// Every place a measurement names must be a location.
	var meas []topology.Measurement
	for i, mr := range n.Measured {
		path := fmt.Sprintf("spec.network.measured[%d]", i)
		fi, ok1 := b.resolvePlace(mr.From, path+".from")
		ti, ok2 := b.resolvePlace(mr.To, path+".to")
		if ok1 && ok2 {
			meas = append(meas, topology.Measurement{From: b.w.Locations[fi].Name, To: b.w.Locations[ti].Name, RTTMs: mr.RTTMs})
		}
	}
	if n.MeasuredCSV != "" {
		meas = append(meas, b.measuredCSV(n.MeasuredCSV)...)
	}
	// Resolve the remaining place names now, so the matrix covers them.
	for i, t := range b.s.Spec.Tools {
		b.resolvePlace(t.Place, fmt.Sprintf("spec.tools[%s].place", t.Name))
		_ = i
	}
	for _, u := range b.s.Spec.Users {
		if u.Place != "" {
			b.resolvePlace(u.Place, fmt.Sprintf("spec.users[%s].place", u.Name))
		}
	}
	telemetryLoc := -1
	if sec := n.Security; sec != nil && sec.TelemetryBytesPerCall > 0 {
		telemetryLoc, _ = b.resolvePlace(sec.TelemetryPlace, "spec.network.security.telemetryPlace")
	}
	if len(b.errs) > 0 {
		return
	}
	x, err := topology.NewMatrix(b.w.Locations, m, meas)
	if err != nil {
		b.fail("spec.network.measured", "%v", err)
		return
	}
	b.w.RTT = x
	net := fleet.Network{
		HandshakeRTTs:   scenarios.DefaultHandshakeRTTs,
		SiteBytesPerS:   orDefault(n.BandwidthMbps, scenarios.DefaultBandwidthMbps) * 1e6 / 8,
		AccessBytesPerS: orDefault(n.AccessBandwidthMbps, scenarios.DefaultAccessBandwidthMbps) * 1e6 / 8,
		BytesPerToken:   orDefault(n.BytesPerToken, scenarios.DefaultBytesPerToken),
		JitterMs:        workloads.Exponential{Rate: 1 / scenarios.DefaultJitterMeanMs},
	}
	if n.HandshakeRTTs != nil {
		net.HandshakeRTTs = *n.HandshakeRTTs
	}
	if n.JitterMs != nil {
		net.JitterMs = b.dist(*n.JitterMs, "spec.network.jitterMs")
	}
	net.EgressPerGB, net.InternetEgressPerGB = scenarios.DefaultEgressPerGBUSD, scenarios.DefaultInternetEgressPerGBUSD
	if n.EgressPerGBUSD != nil {
		net.EgressPerGB = *n.EgressPerGBUSD
	}
	if n.InternetEgressPerGBUSD != nil {
		net.InternetEgressPerGB = *n.InternetEgressPerGBUSD
	}
	net.TelemetryLoc = telemetryLoc
	if sec := n.Security; sec != nil {
		net.MTLSS, net.GatewayS = sec.MTLSHandshakeMs/1000, sec.GatewayMs/1000
		net.TelemetryBytes = sec.TelemetryBytesPerCall
	}
	b.w.Net = net
}

// autoscale resolves an autoscaler with its defaults; weightBytes is what a
// new replica loads.
func (b *builder) autoscale(a *scenarios.Autoscale, weightBytes float64, path string) *fleet.Autoscale {
	as := &fleet.Autoscale{
		Queue:       a.Metric == "queue",
		Target:      a.Target,
		Interval:    sim.FromSeconds(scenarios.DefaultAutoscaleInterval.Seconds()),
		DownWindow:  sim.FromSeconds(scenarios.DefaultAutoscaleDownWindow.Seconds()),
		MinReplicas: 1,
		WarmupS:     scenarios.DefaultAutoscaleWarmup.Seconds(),
	}
	if as.Target == 0 {
		as.Target = scenarios.DefaultAutoscaleConcurrency
		if as.Queue {
			as.Target = scenarios.DefaultAutoscaleQueue
		}
	}
	if a.Interval != nil {
		as.Interval = sim.FromSeconds(a.Interval.Seconds())
	}
	if a.ScaleUpStabilization != nil {
		as.UpWindow = sim.FromSeconds(a.ScaleUpStabilization.Seconds())
	}
	if a.ScaleDownStabilization != nil {
		as.DownWindow = sim.FromSeconds(a.ScaleDownStabilization.Seconds())
	}
	if a.MinReplicas != nil {
		as.MinReplicas = *a.MinReplicas
	}
	if a.Warmup != nil {
		as.WarmupS = a.Warmup.Seconds()
	}
	if a.ProvisioningS != nil {
		as.ProvisioningS = b.dist(*a.ProvisioningS, path+".provisioningS")
	} else {
		as.ProvisioningS = workloads.LogNormalMedian(scenarios.DefaultAutoscaleProvisionMedian, scenarios.DefaultAutoscaleProvisionSigma)
	}
	gbps := scenarios.DefaultLoadGBpsRegional
	switch a.WeightSource {
	case "local":
		gbps = scenarios.DefaultLoadGBpsLocal
	case "remote":
		gbps = scenarios.DefaultLoadGBpsRemote
	}
	if a.LoadGBps > 0 {
		gbps = a.LoadGBps
	}
	as.LoadS = weightBytes / (gbps * 1e9)
	return as
}

// trace reads a workload's trace file (relative to the scenario file).
// A bad row is an error naming the file and line, or with onError skip a
// note counting the skipped rows.
func (b *builder) trace(wl *fleet.Workload, ts *scenarios.Trace, scale float64, path string) {
	p := ts.File
	if src := b.s.SourcePath(); !filepath.IsAbs(p) && src != "" && !strings.HasPrefix(src, "builtin:") {
		p = filepath.Join(filepath.Dir(src), p)
	}
	opt := traces.Options{}
	f, err := traces.ParseFormat(ts.Format)
	if err != nil {
		b.fail(path+".format", "%v", err)
		return
	}
	opt.Format = f
	if ts.OnError == "skip" {
		opt.OnError = traces.Skip
	}
	var rep traces.Report
	if f == traces.Agent {
		ss, r, err := traces.OpenSessions(p, opt)
		if err != nil {
			b.fail(path+".file", "%v", err)
			return
		}
		wl.Sessions, rep = ss, r
		switch ts.Orchestrator {
		case "edge":
			wl.Orchestrator = fleet.AtEdge
		case "model":
			wl.Orchestrator = fleet.AtModel
		}
	} else {
		t, r, err := traces.Open(p, opt)
		if err != nil {
			b.fail(path+".file", "%v", err)
			return
		}
		wl.Trace, rep = t, r
	}
	if rep.Skipped > 0 {
		first := ""
		if len(rep.Problems) > 0 {
			first = fmt.Sprintf("; first: line %d: %s", rep.Problems[0].Line, rep.Problems[0].Msg)
		}
		b.w.Notes = append(b.w.Notes, fmt.Sprintf("%s: skipped %d of %d rows of %s%s", path, rep.Skipped, rep.Rows, p, first))
	}
	wl.TraceRateScale = 1
	if ts.RateScale > 0 {
		wl.TraceRateScale = ts.RateScale
	}
	wl.TraceRateScale *= scale
	wl.TraceLoop = ts.Loop
}

// profile resolves a deployment's profile name (built-in or a file beside
// the scenario), once per name.
func (b *builder) profile(ref string) (*profiles.Profile, error) {
	if p, ok := b.profiles[ref]; ok {
		return p, nil
	}
	dir := ""
	if src := b.s.SourcePath(); src != "" && !strings.HasPrefix(src, "builtin:") {
		dir = filepath.Dir(src)
	}
	p, err := profiles.Resolve(ref, dir)
	if err != nil {
		return nil, err
	}
	if b.profiles == nil {
		b.profiles = map[string]*profiles.Profile{}
	}
	b.profiles[ref] = p
	return p, nil
}

func (b *builder) measuredCSV(name string) []topology.Measurement {
	path := name
	if src := b.s.SourcePath(); !filepath.IsAbs(path) && src != "" && !strings.HasPrefix(src, "builtin:") {
		path = filepath.Join(filepath.Dir(src), name)
	}
	f, err := os.Open(path)
	if err != nil {
		b.fail("spec.network.measuredCsv", "%v", err)
		return nil
	}
	defer f.Close()
	ms, err := topology.ReadMeasurementsCSV(f)
	if err != nil {
		b.fail("spec.network.measuredCsv", "%s: %v", path, err)
		return nil
	}
	var out []topology.Measurement
	for _, m := range ms {
		fi, ok1 := b.resolvePlace(m.From, "spec.network.measuredCsv")
		ti, ok2 := b.resolvePlace(m.To, "spec.network.measuredCsv")
		if ok1 && ok2 {
			out = append(out, topology.Measurement{From: b.w.Locations[fi].Name, To: b.w.Locations[ti].Name, RTTMs: m.RTTMs})
		}
	}
	return out
}

func orDefault(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

func (b *builder) sites() {
	for i, r := range b.s.Spec.Regions {
		p := b.w.Locations[i]
		site := fleet.Site{Name: r.Name, Loc: i, Kind: p.Kind, Zone: p.Zone, GPUs: map[string]int{}, PricePerGPUHour: map[string]float64{}}
		for _, c := range r.Clusters {
			for _, gp := range c.GPUPools {
				if g, ok := serving.LookupGPU(gp.GPU); ok {
					if _, done := site.GPUs[g.ID]; !done {
						site.GPUs[g.ID], site.PricePerGPUHour[g.ID], _ = b.pools(i, g.ID)
					}
				}
			}
		}
		if r.CarbonGPerKWh != nil {
			site.CarbonGPerKWh, site.HasCarbon = *r.CarbonGPerKWh, true
		}
		b.w.Sites = append(b.w.Sites, site)
	}
}

func (b *builder) tools() {
	for _, t := range b.s.Spec.Tools {
		path := fmt.Sprintf("spec.tools[%s]", t.Name)
		loc, _ := b.resolvePlace(t.Place, path+".place")
		tool := fleet.Tool{Name: t.Name, Loc: loc, ServiceMs: b.dist(t.ServiceTimeMs, path+".serviceTimeMs")}
		if t.ResponseBytes != nil {
			tool.ResponseBytes = b.dist(*t.ResponseBytes, path+".responseBytes")
		}
		b.w.Tools = append(b.w.Tools, tool)
	}
}

// dist turns a scenario distribution into a sampler.
func (b *builder) dist(d scenarios.Dist, path string) workloads.Dist {
	var out workloads.Dist
	val := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	switch d.Dist {
	case "constant":
		out = workloads.Constant{Value: val(d.Value)}
	case "exponential":
		if val(d.Mean) <= 0 {
			b.fail(path+".mean", "must be > 0")
			return workloads.Constant{}
		}
		out = workloads.Exponential{Rate: 1 / val(d.Mean)}
	case "lognormal":
		out = workloads.LogNormalMedian(val(d.Median), val(d.Sigma))
	case "uniform":
		return workloads.Uniform{Min: val(d.Min), Max: val(d.Max)}
	case "empirical":
		e, err := workloads.NewEmpirical(d.Quantiles)
		if err != nil {
			b.fail(path+".quantiles", "%v", err)
			return workloads.Constant{}
		}
		out = e
	case "builtin":
		bd, ok := workloads.Builtin(d.Name)
		if !ok {
			b.fail(path+".name", "unknown built-in distribution %q", d.Name)
			return workloads.Constant{}
		}
		out = bd
	default:
		b.fail(path+".dist", "unknown distribution %q", d.Dist)
		return workloads.Constant{}
	}
	if d.Min != nil || d.Max != nil {
		c := workloads.Clamp{D: out, Min: 0, Max: math.Inf(1)}
		if d.Min != nil {
			c.Min = *d.Min
		}
		if d.Max != nil {
			c.Max = *d.Max
		}
		out = c
	}
	return out
}

// usersScale is a workload's usersScale, 1 when unset.
func usersScale(w *scenarios.Workload) float64 {
	if w.UsersScale > 0 {
		return w.UsersScale
	}
	return 1
}

func (b *builder) workloadIndex(name string) int {
	for i, w := range b.s.Spec.Workloads {
		if w.Name == name {
			return i
		}
	}
	return -1
}

func (b *builder) workloads() {
	for _, ws := range b.s.Spec.Workloads {
		path := fmt.Sprintf("spec.workloads[%s]", ws.Name)
		wl := fleet.Workload{Name: ws.Name, Agent: ws.Kind == "agent", MaxContext: scenarios.DefaultMaxContextTokens}
		switch ws.Connection {
		case "persistent":
			wl.Persistent = true
		case "perRequest":
		default:
			wl.Persistent = wl.Agent
		}
		if ws.Zone == "user" {
			wl.ZoneFromUser = true
		} else {
			wl.Zone = ws.Zone
		}
		if ws.Trace != nil {
			b.trace(&wl, ws.Trace, usersScale(&ws), path+".trace")
		}
		if ws.Chat != nil {
			wl.Prompt = b.dist(ws.Chat.PromptTokens, path+".chat.promptTokens")
			wl.Output = b.dist(ws.Chat.OutputTokens, path+".chat.outputTokens")
		}
		if a := ws.Agent; a != nil {
			wl.Steps = b.dist(a.Steps, path+".agent.steps")
			wl.InitialPrompt = b.dist(a.InitialPromptTokens, path+".agent.initialPromptTokens")
			wl.StepOutput = b.dist(a.OutputTokens, path+".agent.outputTokens")
			wl.ToolResult = b.dist(a.ToolResultTokens, path+".agent.toolResultTokens")
			for i, tc := range a.Tools {
				ti := -1
				for j, t := range b.s.Spec.Tools {
					if t.Name == tc.Tool {
						ti = j
					}
				}
				if ti < 0 {
					b.fail(fmt.Sprintf("%s.agent.tools[%d].tool", path, i), "unknown tool %q", tc.Tool)
					continue
				}
				p := 1.0
				if tc.Probability != nil {
					p = *tc.Probability
				}
				wl.Tools = append(wl.Tools, fleet.ToolCall{Tool: ti, Probability: p})
			}
			wl.Parallel = a.ToolCallMode == "parallel"
			if a.ThinkTimeMs != nil {
				wl.ThinkMs = b.dist(*a.ThinkTimeMs, path+".agent.thinkTimeMs")
			}
			switch a.Orchestrator {
			case "edge":
				wl.Orchestrator = fleet.AtEdge
			case "model":
				wl.Orchestrator = fleet.AtModel
			}
			if a.MaxContextTokens > 0 {
				wl.MaxContext = a.MaxContextTokens
			}
		}
		for _, slo := range ws.SLOs {
			wl.SLOs = append(wl.SLOs, fleet.SLO{Metric: slo.Metric, Percentile: slo.Percentile, MaxS: slo.Max.Seconds()})
		}
		wl.Retry = fleet.Retry{Attempts: scenarios.DefaultRetryAttempts, BackoffS: scenarios.DefaultRetryBackoff.Seconds()}
		if r := ws.Retry; r != nil {
			if r.Attempts > 0 {
				wl.Retry.Attempts = r.Attempts
			}
			if r.Backoff != nil {
				wl.Retry.BackoffS = r.Backoff.Seconds()
			}
			if r.Timeout != nil {
				wl.Retry.TimeoutS = r.Timeout.Seconds()
			}
		}
		b.w.Workloads = append(b.w.Workloads, wl)
	}
}

// utcOffsetHours is the offset of zone on the scenario's date.
func (b *builder) utcOffsetHours(zone, path string) float64 {
	if zone == "" {
		return 0
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		b.fail(path, "unknown time zone %q", zone)
		return 0
	}
	date := b.s.Spec.Run.Date
	if date == "" {
		date = scenarios.DefaultDate
	}
	d, err := time.Parse("2006-01-02", date)
	if err != nil {
		b.fail("spec.run.date", "%v", err)
		return 0
	}
	_, off := time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, loc).Zone()
	return float64(off) / 3600
}

func (b *builder) users() {
	warmupH := b.w.Run.Warmup.Seconds() / 3600
	for _, us := range b.s.Spec.Users {
		path := fmt.Sprintf("spec.users[%s]", us.Name)
		loc := b.locByName[strings.ToLower(us.Name)]
		if us.Place != "" {
			loc = b.locByName[strings.ToLower(us.Place)]
		}
		p := b.w.Locations[loc]
		u := fleet.UserGroup{Name: us.Name, Loc: loc, Zone: p.Zone, AccessRTTMs: scenarios.DefaultAccessRTTMs, EdgeLoc: -1}
		if us.Zone != "" {
			u.Zone = us.Zone
		}
		if us.AccessRTTMs != nil {
			u.AccessRTTMs = *us.AccessRTTMs
		}
		tz := p.TimeZone
		if us.TimeZone != "" {
			tz = us.TimeZone
		}
		off := b.utcOffsetHours(tz, path+".timeZone")
		// The nearest edge site hosts an edge orchestrator.
		best := math.Inf(1)
		for _, s := range b.w.Sites {
			if s.Kind == topology.Edge {
				if r := b.w.RTT.RTTMs(loc, s.Loc); r < best {
					best, u.EdgeLoc = r, s.Loc
				}
			}
		}
		curve := b.curve(us.Curve, path+".curve")
		startLocal := math.Mod(b.w.Run.StartHourUTC-warmupH+off+48, 24)
		for i, l := range us.Load {
			wi := b.workloadIndex(l.Workload)
			if wi < 0 {
				b.fail(fmt.Sprintf("%s.load[%d].workload", path, i), "unknown workload %q", l.Workload)
				continue
			}
			if b.w.Workloads[wi].Orchestrator == fleet.AtEdge && u.EdgeLoc < 0 {
				b.fail(fmt.Sprintf("spec.workloads[%s].agent.orchestrator", l.Workload), "orchestrator edge needs at least one region of kind edge")
			}
			if b.w.Workloads[wi].Replays() {
				if u.TraceShares == nil {
					u.TraceShares = make([]float64, len(b.w.Workloads))
				}
				u.TraceShares[wi] = l.ShareOrDefault()
				continue
			}
			rate := l.PeakRatePerS * usersScale(&b.s.Spec.Workloads[wi])
			u.Loads = append(u.Loads, fleet.Load{Workload: wi, PeakRatePerS: rate, Arrivals: workloads.Arrivals{
				PeakRatePerS: rate, Curve: curve, StartLocalHour: startLocal,
			}})
		}
		b.w.Users = append(b.w.Users, u)
	}
}

func (b *builder) curve(c scenarios.Curve, path string) workloads.Curve {
	if len(c.Hourly) > 0 {
		cv, err := workloads.NewHourlyCurve(c.Hourly)
		if err != nil {
			b.fail(path+".hourly", "%v", err)
		}
		return cv
	}
	peak, trough := scenarios.DefaultPeakHourLocal, scenarios.DefaultTroughRatio
	if c.PeakHourLocal != nil {
		peak = *c.PeakHourLocal
	}
	if c.TroughRatio != nil {
		trough = *c.TroughRatio
	}
	return workloads.PeakTrough(peak, trough)
}

func (b *builder) siteIndex(name string) int {
	for i, r := range b.s.Spec.Regions {
		if strings.EqualFold(r.Name, name) {
			return i
		}
	}
	return -1
}

func (b *builder) strategy(si int) {
	ss := &b.s.Spec.Strategies[si]
	path := fmt.Sprintf("spec.strategies[%s]", ss.Name)
	st := fleet.Strategy{
		Name: ss.Name, Kind: ss.Kind, Description: ss.Description,
		SpillWait:          sim.FromSeconds(scenarios.DefaultSpillOverWait.Seconds()),
		MaxQueuePerReplica: scenarios.DefaultMaxQueuePerReplica,
	}
	if ss.Routing.SpillOverWait != nil {
		st.SpillWait = sim.FromSeconds(ss.Routing.SpillOverWait.Seconds())
	}
	if ss.Routing.MaxQueuePerReplica > 0 {
		st.MaxQueuePerReplica = ss.Routing.MaxQueuePerReplica
	}
	used := map[siteGPU]int{} // GPUs of each type this strategy places at each site
	for di, ds := range ss.Deployments {
		dpath := fmt.Sprintf("%s.deployments[%d]", path, di)
		d, ok := b.deployment(ds, dpath)
		if !ok {
			continue
		}
		for _, pl := range d.Placements {
			used[siteGPU{pl.Site, d.GPU}] += pl.Replicas * d.TP
		}
		st.Deployments = append(st.Deployments, d)
	}
	// Each site must have the GPUs the strategy places there.
	keys := make([]siteGPU, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].site != keys[j].site {
			return keys[i].site < keys[j].site
		}
		return keys[i].gpu < keys[j].gpu
	})
	for _, k := range keys {
		have, _, _ := b.pools(k.site, k.gpu)
		if used[k] > have {
			b.fail(path+".deployments", "places %d %s GPUs at %s, whose clusters have %d", used[k], k.gpu, b.s.Spec.Regions[k.site].Name, have)
		}
	}
	b.w.Strategies = append(b.w.Strategies, st)
}

type siteGPU struct {
	site int
	gpu  string
}

// pools returns the GPUs of type gpu at site i and their GPU-weighted mean price.
func (b *builder) pools(i int, gpu string) (gpus int, price, energy float64) {
	var cost, ecost float64
	for _, c := range b.s.Spec.Regions[i].Clusters {
		for _, p := range c.GPUPools {
			g, ok := serving.LookupGPU(p.GPU)
			if !ok || g.ID != gpu {
				continue
			}
			per := p.GPUsPerNode
			if per == 0 {
				per = 8
			}
			n := per * p.Count
			gpus += n
			cost += float64(n) * p.PricePerGPUHourUSD
			e := scenarios.DefaultEnergyPricePerKWhUSD
			if p.EnergyPricePerKWhUSD != nil {
				e = *p.EnergyPricePerKWhUSD
			}
			ecost += float64(n) * e
		}
	}
	if gpus > 0 {
		price = cost / float64(gpus)
		energy = ecost / float64(gpus)
	}
	return gpus, price, energy
}

func (b *builder) deployment(ds scenarios.Deployment, path string) (fleet.Deployment, bool) {
	model, ok1 := serving.LookupModel(ds.Model)
	if !ok1 {
		b.fail(path+".model", "unknown model %q", ds.Model)
	}
	gpu, ok2 := serving.LookupGPU(ds.GPU)
	if !ok2 {
		b.fail(path+".gpu", "unknown GPU %q", ds.GPU)
	}
	if !ok1 || !ok2 {
		return fleet.Deployment{}, false
	}
	tp := ds.TensorParallel
	if tp == 0 {
		tp = 1
	}
	maxBatch := ds.MaxBatch
	if maxBatch == 0 {
		maxBatch = scenarios.DefaultMaxBatch
	}
	prec, err := serving.ParsePrecision(ds.Precision)
	if err != nil {
		b.fail(path+".precision", "%v", err)
		return fleet.Deployment{}, false
	}
	prof, err := b.profile(ds.Profile)
	if err != nil {
		b.fail(path+".profile", "%v", err)
		return fleet.Deployment{}, false
	}
	coef, _ := prof.Lookup(gpu.ID, model.ID, prec)
	est, err := serving.New(serving.ReplicaSpec{
		Model: model, GPU: gpu, TensorParallel: tp, Precision: prec,
		MaxBatch: maxBatch, MemoryFraction: serving.DefaultMemoryFraction,
	}, coef)
	if err != nil {
		b.fail(path, "%v", err)
		return fleet.Deployment{}, false
	}
	d := fleet.Deployment{
		Model: model.ID, GPU: gpu.ID, TP: tp, Estimator: est,
		Serves: make([]bool, len(b.w.Workloads)), MaxPromptTokens: ds.MaxPromptTokens,
		TokenBudget: ds.TokenBudget, BlockTokens: ds.BlockSize,
		PrefixCaching: ds.PrefixCaching == nil || *ds.PrefixCaching,
	}
	if a := ds.Autoscale; a != nil {
		d.Autoscale = b.autoscale(a, model.WeightBytes(prec), path+".autoscale")
	}
	if len(ds.Serves) == 0 {
		for i := range d.Serves {
			d.Serves[i] = true
		}
	}
	for i, name := range ds.Serves {
		wi := b.workloadIndex(name)
		if wi < 0 {
			b.fail(fmt.Sprintf("%s.serves[%d]", path, i), "unknown workload %q", name)
			continue
		}
		d.Serves[wi] = true
	}
	var sites []int
	for i, name := range ds.Sites {
		si := b.siteIndex(name)
		if si < 0 {
			b.fail(fmt.Sprintf("%s.sites[%d]", path, i), "unknown region %q", name)
			continue
		}
		sites = append(sites, si)
	}
	if len(sites) == 0 {
		b.fail(path+".sites", "no sites")
		return fleet.Deployment{}, false
	}
	if ds.GPUs <= 0 || ds.GPUs%tp != 0 {
		b.fail(path+".gpus", "must be a positive multiple of tensorParallel (%d), got %d", tp, ds.GPUs)
		return fleet.Deployment{}, false
	}
	replicas := ds.GPUs / tp
	if replicas < len(sites) {
		b.fail(path+".gpus", "%d replicas cannot cover %d sites (one replica each at least)", replicas, len(sites))
		return fleet.Deployment{}, false
	}
	weights := make([]float64, len(sites))
	if ds.Split == "even" {
		for i := range weights {
			weights[i] = 1
		}
	} else {
		weights = b.demand(sites, d.Serves)
	}
	for i, n := range apportion(replicas, weights) {
		_, price, energy := b.pools(sites[i], gpu.ID)
		d.Placements = append(d.Placements, fleet.Placement{Site: sites[i], Replicas: n, PricePerGPUHourUSD: price, EnergyPricePerKWhUSD: energy})
	}
	return d, true
}

// demand weighs each site by the peak work of the loads nearest to it
// among the sites their workload may use: peak rate times the mean tokens
// one request or session puts through a replica.
func (b *builder) demand(sites []int, serves []bool) []float64 {
	wts := make([]float64, len(sites))
	for _, dl := range b.demandLoads() {
		u := &b.w.Users[dl.user]
		wl := &b.w.Workloads[dl.wl]
		if !serves[dl.wl] {
			continue
		}
		zone := wl.Zone
		if wl.ZoneFromUser {
			zone = u.Zone
		}
		best, bestRTT := -1, math.Inf(1)
		for i, s := range sites {
			site := b.w.Sites[s]
			if zone != "" && site.Zone != zone {
				continue
			}
			if r := b.w.RTT.RTTMs(u.Loc, site.Loc); r < bestRTT {
				best, bestRTT = i, r
			}
		}
		if best >= 0 {
			wts[best] += dl.work
		}
	}
	return wts
}

// demandLoad is one user group's peak work on one workload, in tokens per second.
type demandLoad struct {
	user, wl int
	work     float64
}

// demandLoads lists every group's peak work per workload: peak rate times
// mean tokens per arrival, and for a replayed trace its mean rate (times
// the rate scale) split by the groups' shares.
func (b *builder) demandLoads() []demandLoad {
	var out []demandLoad
	shareSum := make([]float64, len(b.w.Workloads))
	for _, u := range b.w.Users {
		for wi, sh := range u.TraceShares {
			shareSum[wi] += sh
		}
	}
	traceWork := make([]float64, len(b.w.Workloads))
	for wi := range b.w.Workloads {
		wl := &b.w.Workloads[wi]
		if t := wl.Trace; t != nil {
			sum := traces.Summarize(t)
			traceWork[wi] = sum.RatePerS * wl.TraceRateScale * (sum.Input.Mean + sum.Output.Mean)
		}
		if ss := wl.Sessions; ss != nil && ss.Len() > 0 {
			// Tokens of all steps over the span of session starts.
			var tok float64
			for i := 0; i < ss.Len(); i++ {
				for _, st := range ss.At(i).Steps {
					tok += float64(st.Input) + float64(st.Output)
				}
			}
			span := ss.At(ss.Len()-1).StartS - ss.At(0).StartS
			if span <= 0 {
				span = 1
			}
			traceWork[wi] = tok / span * wl.TraceRateScale
		}
	}
	for ui, u := range b.w.Users {
		for _, l := range u.Loads {
			out = append(out, demandLoad{user: ui, wl: l.Workload, work: l.PeakRatePerS * workTokens(&b.w.Workloads[l.Workload])})
		}
		for wi, sh := range u.TraceShares {
			if sh > 0 && shareSum[wi] > 0 {
				out = append(out, demandLoad{user: ui, wl: wi, work: traceWork[wi] * sh / shareSum[wi]})
			}
		}
	}
	return out
}

// workTokens is the mean number of tokens one request or session puts
// through a replica (every step's whole prompt is prefilled again).
func workTokens(w *fleet.Workload) float64 {
	if !w.Agent {
		return w.Prompt.Mean() + w.Output.Mean()
	}
	n := w.Steps.Mean()
	grow := w.StepOutput.Mean() + w.ToolResult.Mean()
	return n*(w.InitialPrompt.Mean()+w.StepOutput.Mean()) + grow*n*(n-1)/2
}

// apportion splits n into len(w) parts of at least 1 each, the rest in
// proportion to w by the largest-remainder method (ties to the lower index).
func apportion(n int, w []float64) []int {
	out := make([]int, len(w))
	for i := range out {
		out[i] = 1
	}
	rest := n - len(w)
	var sum float64
	for _, v := range w {
		sum += v
	}
	if rest <= 0 {
		return out
	}
	if sum <= 0 {
		w = make([]float64, len(w))
		for i := range w {
			w[i] = 1
		}
		sum = float64(len(w))
	}
	type rem struct {
		i int
		f float64
	}
	rems := make([]rem, len(w))
	given := 0
	for i, v := range w {
		exact := float64(rest) * v / sum
		fl := int(math.Floor(exact))
		out[i] += fl
		given += fl
		rems[i] = rem{i, exact - float64(fl)}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].f > rems[b].f })
	for k := 0; given < rest; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out
}
