package scenarios

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones must resolve on machines without a zoneinfo database

	"github.com/fleetsim/fleetsim/serving"
	"github.com/fleetsim/fleetsim/topology"
	"github.com/fleetsim/fleetsim/workloads"
)

// Limits that keep a scenario within what the simulator is built for; a
// file beyond them is almost surely a mistake (or an attack on the loader).
const (
	// MaxListLen is the most entries any list in a scenario may hold.
	MaxListLen = 10000
	// MaxDuration is the longest run.duration, warmup, drain or SLO max: "366d".
	MaxDuration = Duration(366 * 86400)
	// MaxPeakRatePerS is the largest users[].load[].peakRatePerS.
	MaxPeakRatePerS = 1e6
	// MaxGPUs is the largest deployments[].gpus and gpuPools[].count.
	MaxGPUs = 1_000_000
	// MaxGPUsPerNode is the largest gpuPools[].gpusPerNode; a GB200 NVL72
	// rack, the largest NVLink domain sold as one unit, has 72 GPUs.
	MaxGPUsPerNode = 1024
	// MaxBatchLimit is the largest deployments[].maxBatch and
	// routing.maxQueuePerReplica.
	MaxBatchLimit = 1_000_000
	// MaxTokenBudget is the largest deployments[].tokenBudget.
	MaxTokenBudget = 1 << 24
	// MaxContextLimit is the largest agent.maxContextTokens (10M tokens,
	// the longest context of any model announced by 2025, Llama 4 Scout).
	MaxContextLimit = 10_000_000
	// MaxSigma is the largest lognormal sigma: exp(10) is a spread of 22026
	// times per standard deviation, far beyond any measured token or time
	// distribution.
	MaxSigma = 10.0
	// MaxFiberKmPerMs is the speed of light in vacuum, 299,792.458 km/s
	// (SI definition of the metre); light in fiber is slower.
	MaxFiberKmPerMs = 299.792458
)

// Enumerated values of the scenario format.
var (
	workloadKinds   = []string{"chat", "agent"}
	traceFormats    = []string{"azure", "mooncake", "agent"}
	faultKinds      = []string{"nodeLoss", "siteDown", "linkDegraded", "linkCut", "toolOutage"}
	connections     = []string{"perRequest", "persistent"}
	toolCallModes   = []string{"sequential", "parallel"}
	orchestrators   = []string{"client", "edge", "model"}
	sloMetrics      = []string{"ttft", "tpot", "e2e", "task"}
	strategyKinds   = []string{"centralized", "regional", "edge", "hybrid"}
	precisions      = []string{"bf16", "fp8"}
	splits          = []string{"demand", "even"}
	routingPolicies = []string{"nearest"}
	regionKinds     = []string{string(topology.Core), string(topology.Edge)}
	distFamilies    = []string{"constant", "exponential", "lognormal", "uniform", "empirical", "builtin"}
	tensorParallels = []int{1, 2, 4, 8}
)

// Validate checks the scenario and returns every problem it finds as
// Problems, each named by its field path (and by file and line when the
// scenario was loaded from a file), or nil when there is none. Call
// SetDefaults first: Validate checks the values as they are, and a field
// whose default has not been applied may read as invalid.
func (s *Scenario) Validate() error {
	c := &checker{s: s, o: s.origin}
	if c.generic(reflect.ValueOf(&s.Spec).Elem(), "spec"); c.tooBig {
		// Lists beyond MaxListLen: stop before the checks that walk them.
		return c.ps.asError()
	}
	c.header()
	c.run()
	c.indexNames()
	c.network()
	c.checkRegions()
	c.checkTools()
	c.checkWorkloads()
	c.checkUsers()
	c.checkStrategies()
	c.checkFaults()
	if pl := c.s.Spec.Planning; pl != nil {
		if pl.Headroom < 0 || pl.Headroom > 10 || math.IsNaN(pl.Headroom) {
			c.add("spec.planning.headroom", "must be in [0, 10], got %v", pl.Headroom)
		}
		if pl.Survive != "" && pl.Survive != "none" && pl.Survive != "oneSiteDown" {
			c.add("spec.planning.survive", "unknown value %q, want none or oneSiteDown", pl.Survive)
		}
		if f := pl.DegradedSLOFactor; f != 0 && (f < 1 || f > 100 || math.IsNaN(f)) {
			c.add("spec.planning.degradedSLOFactor", "must be in [1, 100], got %v", f)
		}
	}
	return c.ps.asError()
}

// checker collects problems while validating one scenario.
type checker struct {
	s      *Scenario
	o      *origin
	ps     Problems
	tooBig bool

	regions   map[string]*Region   // by name, first of each name
	workloads map[string]*Workload // by name, first of each name
	tools     map[string]bool
	users     map[string]bool
}

// addOcc records a problem at the n-th occurrence of path.
func (c *checker) addOcc(path string, n int, format string, a ...any) {
	p := Problem{Path: path, Msg: fmt.Sprintf(format, a...)}
	if c.o != nil {
		p.File = c.o.name
		p.Line = c.o.line(path, n)
	}
	c.ps = append(c.ps, p)
}

// add records a problem at path.
func (c *checker) add(path, format string, a ...any) { c.addOcc(path, 0, format, a...) }

// generic checks, by reflection, what holds for every field: lists are at
// most MaxListLen long and numbers are finite.
func (c *checker) generic(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			c.generic(v.Elem(), path)
		}
	case reflect.Struct:
		t := v.Type()
		for _, f := range yamlFields(t) {
			c.generic(v.FieldByIndex(f.field.Index), joinPath(path, f.name))
		}
	case reflect.Slice:
		if v.Len() > MaxListLen {
			c.add(path, "has %d entries, more than the limit of %d", v.Len(), MaxListLen)
			c.tooBig = true
			return
		}
		for i := range v.Len() {
			c.generic(v.Index(i), elemPath(path, elemName(v.Index(i)), i))
		}
	case reflect.Float64, reflect.Float32:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			c.add(path, "must be a finite number, got %v", f)
		}
	}
}

// elemName returns the value of the field with YAML name "name" of a
// struct, or "" (the rule elemPath and the line index share).
func elemName(v reflect.Value) string {
	if v.Kind() != reflect.Struct {
		return ""
	}
	for _, f := range yamlFields(v.Type()) {
		if f.name == "name" && f.field.Type.Kind() == reflect.String {
			return v.FieldByIndex(f.field.Index).String()
		}
	}
	return ""
}

func (c *checker) header() {
	if c.s.APIVersion != APIVersion {
		c.add("apiVersion", "unsupported %q, want %q", c.s.APIVersion, APIVersion)
	}
	if c.s.Kind != KindScenario {
		c.add("kind", "unsupported %q, want %q", c.s.Kind, KindScenario)
	}
	if strings.TrimSpace(c.s.Metadata.Name) == "" {
		c.add("metadata.name", "must not be empty")
	}
}

// duration checks a duration field against [0, MaxDuration], or
// (0, MaxDuration] when positive is set.
func (c *checker) duration(path string, d Duration, positive bool) {
	switch {
	case positive && d <= 0:
		c.add(path, "must be > 0, got %s", d)
	case d < 0:
		c.add(path, "must be >= 0, got %s", d)
	case d > MaxDuration:
		c.add(path, "must be at most %s, got %s", MaxDuration, d)
	}
}

func (c *checker) run() {
	r := c.s.Spec.Run
	c.duration("spec.run.duration", r.Duration, true)
	c.duration("spec.run.warmup", r.Warmup, false)
	c.duration("spec.run.drain", r.Drain, false)
	if h := r.StartHourUTC; h < 0 || h >= 24 {
		c.add("spec.run.startHourUTC", "must be in [0, 24), got %v", h)
	}
	if _, err := time.Parse(time.DateOnly, r.Date); err != nil {
		c.add("spec.run.date", "must be a date written YYYY-MM-DD, got %q", r.Date)
	}
}

// indexNames checks that the names of regions, tools, users, workloads and
// strategies are set and unique, and indexes them for the reference checks.
func (c *checker) indexNames() {
	sp := &c.s.Spec
	c.regions = map[string]*Region{}
	for i, first := range c.uniqueNames("spec.regions", "region", len(sp.Regions), func(j int) string { return sp.Regions[j].Name }) {
		if first {
			c.regions[sp.Regions[i].Name] = &sp.Regions[i]
		}
	}
	c.tools = map[string]bool{}
	for i, first := range c.uniqueNames("spec.tools", "tool", len(sp.Tools), func(j int) string { return sp.Tools[j].Name }) {
		if first {
			c.tools[sp.Tools[i].Name] = true
		}
	}
	c.users = map[string]bool{}
	for i, first := range c.uniqueNames("spec.users", "user group", len(sp.Users), func(j int) string { return sp.Users[j].Name }) {
		if first {
			c.users[sp.Users[i].Name] = true
		}
	}
	c.workloads = map[string]*Workload{}
	for i, first := range c.uniqueNames("spec.workloads", "workload", len(sp.Workloads), func(j int) string { return sp.Workloads[j].Name }) {
		if first {
			c.workloads[sp.Workloads[i].Name] = &sp.Workloads[i]
		}
	}
	c.uniqueNames("spec.strategies", "strategy", len(sp.Strategies), func(j int) string { return sp.Strategies[j].Name })
}

// uniqueNames checks that each of the n elements of a list has a name
// that no other element has; it returns, for each element, whether it is
// the first of its name.
func (c *checker) uniqueNames(listPath, what string, n int, name func(int) string) []bool {
	first := make([]bool, n)
	count := map[string]int{}
	for i := range n {
		nm := name(i)
		p := joinPath(elemPath(listPath, nm, i), "name")
		if strings.TrimSpace(nm) == "" {
			c.add(p, "must not be empty")
			continue
		}
		k := count[nm]
		count[nm]++
		if k == 0 {
			first[i] = true
			continue
		}
		msg := fmt.Sprintf("duplicate %s name %q: names must be unique", what, nm)
		if c.o != nil {
			if l := c.o.line(p, 0); l > 0 {
				msg += fmt.Sprintf(" (first at line %d)", l)
			}
		}
		c.addOcc(p, k, "%s", msg)
	}
	return first
}

// placeKnown reports whether name is a region of the scenario or a place
// of the built-in catalog.
func (c *checker) placeKnown(name string) bool {
	if _, ok := c.regions[name]; ok {
		return true
	}
	_, ok := topology.Lookup(name)
	return ok
}

func (c *checker) network() {
	n := c.s.Spec.Network
	const p = "spec.network"
	for _, f := range []struct {
		name string
		v    *float64
	}{{"egressPerGBUSD", n.EgressPerGBUSD}, {"internetEgressPerGBUSD", n.InternetEgressPerGBUSD}} {
		if f.v != nil && (*f.v < 0 || *f.v > 100 || math.IsNaN(*f.v)) {
			c.add(p+"."+f.name, "must be in [0, 100] USD per GB, got %v", *f.v)
		}
	}
	if sec := n.Security; sec != nil {
		for _, f := range []struct {
			name string
			v    float64
			max  float64
		}{{"mtlsHandshakeMs", sec.MTLSHandshakeMs, 1e5}, {"gatewayMs", sec.GatewayMs, 1e5}, {"telemetryBytesPerCall", sec.TelemetryBytesPerCall, 1e9}} {
			if f.v < 0 || f.v > f.max || math.IsNaN(f.v) {
				c.add(p+".security."+f.name, "must be in [0, %g], got %v", f.max, f.v)
			}
		}
		switch {
		case sec.TelemetryBytesPerCall > 0 && sec.TelemetryPlace == "":
			c.add(p+".security.telemetryPlace", "required with telemetryBytesPerCall: where telemetry is collected")
		case sec.TelemetryPlace != "" && !c.placeKnown(sec.TelemetryPlace):
			c.add(p+".security.telemetryPlace", "unknown place %q: not a region nor a catalog place", sec.TelemetryPlace)
		}
	}
	if n.BaseRTTMs != nil && *n.BaseRTTMs < 0 {
		c.add(p+".baseRttMs", "must be >= 0, got %v", *n.BaseRTTMs)
	}
	if n.PathInflation != nil && *n.PathInflation < 1 {
		c.add(p+".pathInflation", "must be >= 1 (a route is never shorter than the great circle), got %v", *n.PathInflation)
	}
	if n.FiberKmPerMs != nil && (*n.FiberKmPerMs <= 0 || *n.FiberKmPerMs > MaxFiberKmPerMs) {
		c.add(p+".fiberKmPerMs", "must be > 0 and at most %v (the speed of light in vacuum), got %v", MaxFiberKmPerMs, *n.FiberKmPerMs)
	}
	if n.SameSiteRTTMs != nil && *n.SameSiteRTTMs < 0 {
		c.add(p+".sameSiteRttMs", "must be >= 0, got %v", *n.SameSiteRTTMs)
	}
	if n.JitterMs != nil {
		c.dist(p+".jitterMs", n.JitterMs)
	}
	if n.HandshakeRTTs != nil && (*n.HandshakeRTTs < 0 || *n.HandshakeRTTs > 100) {
		c.add(p+".handshakeRtts", "must be in [0, 100], got %d", *n.HandshakeRTTs)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"bandwidthMbps", n.BandwidthMbps}, {"accessBandwidthMbps", n.AccessBandwidthMbps}, {"bytesPerToken", n.BytesPerToken}} {
		if f.v <= 0 {
			c.add(p+"."+f.name, "must be > 0, got %v", f.v)
		}
	}
	for i, m := range n.Measured {
		mp := elemPath(p+".measured", "", i)
		for _, end := range []struct{ key, v string }{{"from", m.From}, {"to", m.To}} {
			switch {
			case strings.TrimSpace(end.v) == "":
				c.add(mp+"."+end.key, "must not be empty")
			case !c.placeKnown(end.v) && !c.users[end.v]:
				c.add(mp+"."+end.key, "unknown place %q: want a region of spec.regions, a user group or a place of the built-in catalog", end.v)
			}
		}
		if m.RTTMs <= 0 {
			c.add(mp+".rttMs", "must be > 0, got %v", m.RTTMs)
		}
	}
	if n.MeasuredCSV != "" {
		src := c.s.SourcePath()
		if src != "" && !strings.HasPrefix(src, "builtin:") {
			f := n.MeasuredCSV
			if !filepath.IsAbs(f) {
				f = filepath.Join(filepath.Dir(src), f)
			}
			if st, err := os.Stat(f); err != nil || st.IsDir() {
				c.add(p+".measuredCsv", "no such file %q (a path relative to the scenario file)", f)
			}
		}
	}
}

// latLon checks optional coordinates.
func (c *checker) latLon(path string, lat, lon *float64) {
	if lat != nil && (*lat < -90 || *lat > 90) {
		c.add(path+".lat", "must be in [-90, 90], got %v", *lat)
	}
	if lon != nil && (*lon < -180 || *lon > 180) {
		c.add(path+".lon", "must be in [-180, 180], got %v", *lon)
	}
}

// timeZone checks an optional IANA time zone name.
func (c *checker) timeZone(path, tz string) {
	if tz == "" {
		return
	}
	if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		c.add(path, "unknown time zone %q: want an IANA name such as \"Europe/Amsterdam\"", tz)
	}
}

// regionKind is the kind of a region, defaulted as SetDefaults does.
func regionKind(r *Region) string {
	if r.Kind != "" {
		return r.Kind
	}
	if p, ok := topology.Lookup(r.Name); ok {
		return string(p.Kind)
	}
	return string(topology.Core)
}

// gpuKey returns the canonical id of a GPU (the catalog's, else the id in
// lower case), so that "H100" and "h100" are one type.
func gpuKey(id string) string {
	if g, ok := serving.LookupGPU(id); ok && g.ID != "" {
		return g.ID
	}
	return strings.ToLower(id)
}

func (c *checker) checkRegions() {
	sp := &c.s.Spec
	if len(sp.Regions) == 0 {
		c.add("spec.regions", "at least one region is required")
	}
	for i := range sp.Regions {
		r := &sp.Regions[i]
		p := elemPath("spec.regions", r.Name, i)
		if g := r.CarbonGPerKWh; g != nil && (*g < 0 || *g > 5000 || math.IsNaN(*g)) {
			c.add(p+".carbonGPerKWh", "must be in [0, 5000] g CO2e per kWh, got %v", *g)
		}
		_, inCatalog := topology.Lookup(r.Name)
		switch {
		case !inCatalog && r.Name != "" && (r.Lat == nil || r.Lon == nil):
			c.add(p, "%q is not in the built-in place catalog, so lat and lon are required", r.Name)
		case (r.Lat == nil) != (r.Lon == nil):
			c.add(p, "give both lat and lon, or neither")
		}
		c.latLon(p, r.Lat, r.Lon)
		if r.Kind != "" && !slices.Contains(regionKinds, r.Kind) {
			c.add(p+".kind", "unknown kind %q, want %s", r.Kind, oneOf(regionKinds))
		}
		c.timeZone(p+".timeZone", r.TimeZone)
		c.uniqueNames(p+".clusters", "cluster", len(r.Clusters), func(j int) string { return r.Clusters[j].Name })
		for j := range r.Clusters {
			cl := &r.Clusters[j]
			cp := elemPath(p+".clusters", cl.Name, j)
			for k, pool := range cl.GPUPools {
				pp := elemPath(cp+".gpuPools", "", k)
				switch _, ok := serving.LookupGPU(pool.GPU); {
				case pool.GPU == "":
					c.add(pp+".gpu", "must not be empty")
				case !ok:
					c.add(pp+".gpu", "unknown GPU %q: not in the GPU catalog", pool.GPU)
				}
				switch {
				case pool.Count < 0:
					c.add(pp+".count", "must be >= 0, got %d", pool.Count)
				case pool.Count > MaxGPUs:
					c.add(pp+".count", "must be at most %d, got %d", MaxGPUs, pool.Count)
				}
				if pool.GPUsPerNode < 1 || pool.GPUsPerNode > MaxGPUsPerNode {
					c.add(pp+".gpusPerNode", "must be in [1, %d], got %d", MaxGPUsPerNode, pool.GPUsPerNode)
				}
				if pool.PricePerGPUHourUSD < 0 {
					c.add(pp+".pricePerGPUHourUSD", "must be >= 0, got %v", pool.PricePerGPUHourUSD)
				}
				if e := pool.EnergyPricePerKWhUSD; e != nil && (*e < 0 || *e > 100 || math.IsNaN(*e)) {
					c.add(pp+".energyPricePerKWhUSD", "must be in [0, 100], got %v", *e)
				}
			}
		}
	}
}

func (c *checker) checkTools() {
	for i := range c.s.Spec.Tools {
		t := &c.s.Spec.Tools[i]
		p := elemPath("spec.tools", t.Name, i)
		switch {
		case t.Place == "":
			c.add(p+".place", "must not be empty")
		case !c.placeKnown(t.Place):
			c.add(p+".place", "unknown place %q: want a region of spec.regions or a place of the built-in catalog", t.Place)
		}
		c.dist(p+".serviceTimeMs", &t.ServiceTimeMs)
		if t.ResponseBytes != nil {
			c.dist(p+".responseBytes", t.ResponseBytes)
		}
	}
}

func (c *checker) checkUsers() {
	sp := &c.s.Spec
	if len(sp.Users) == 0 {
		c.add("spec.users", "at least one user group is required")
	}
	for i := range sp.Users {
		u := &sp.Users[i]
		p := elemPath("spec.users", u.Name, i)
		hasLL := u.Lat != nil || u.Lon != nil
		switch {
		case u.Place != "" && hasLL:
			c.add(p, "give either place or lat and lon, not both")
		case u.Place == "" && (u.Lat == nil || u.Lon == nil):
			c.add(p, "needs a place, or lat and lon")
		case u.Place != "" && !c.placeKnown(u.Place):
			c.add(p+".place", "unknown place %q: want a region of spec.regions or a place of the built-in catalog", u.Place)
		}
		c.latLon(p, u.Lat, u.Lon)
		c.timeZone(p+".timeZone", u.TimeZone)
		if u.AccessRTTMs != nil && *u.AccessRTTMs < 0 {
			c.add(p+".accessRttMs", "must be >= 0, got %v", *u.AccessRTTMs)
		}
		c.curve(p+".curve", &u.Curve)
		if len(u.Load) == 0 {
			c.add(p+".load", "must list at least one workload")
		}
		seen := map[string]bool{}
		for j, l := range u.Load {
			lp := elemPath(p+".load", "", j)
			switch {
			case l.Workload == "":
				c.add(lp+".workload", "must not be empty")
			case c.workloads[l.Workload] == nil:
				c.add(lp+".workload", "unknown workload %q: not in spec.workloads", l.Workload)
			case seen[l.Workload]:
				c.add(lp+".workload", "workload %q is listed twice in this group's load", l.Workload)
			}
			seen[l.Workload] = true
			if l.PeakRatePerS < 0 || l.PeakRatePerS > MaxPeakRatePerS {
				c.add(lp+".peakRatePerS", "must be in [0, %g], got %v", MaxPeakRatePerS, l.PeakRatePerS)
			}
			if w := c.workloads[l.Workload]; w != nil && w.Trace != nil {
				if l.PeakRatePerS != 0 {
					c.add(lp+".peakRatePerS", "workload %q replays a trace, which sets its rate: leave peakRatePerS out (use share)", l.Workload)
				}
			} else if l.Share != nil {
				c.add(lp+".share", "share is for workloads that replay a trace; %q does not", l.Workload)
			}
			if l.Share != nil && (*l.Share < 0 || *l.Share > 1e9 || math.IsNaN(*l.Share)) {
				c.add(lp+".share", "must be in [0, 1e9], got %v", *l.Share)
			}
		}
	}
	// Every workload has some load.
	rate := map[string]float64{}
	for _, u := range sp.Users {
		for _, l := range u.Load {
			if l.PeakRatePerS > 0 {
				rate[l.Workload] += l.PeakRatePerS
			}
			if w := c.workloads[l.Workload]; w != nil && w.Trace != nil && l.ShareOrDefault() > 0 {
				rate[l.Workload]++
			}
		}
	}
	for i, w := range sp.Workloads {
		if w.Name != "" && rate[w.Name] <= 0 {
			c.add(elemPath("spec.workloads", w.Name, i), "no user group sends this workload: give it a load with peakRatePerS > 0 (or, for a trace, a share > 0) in spec.users")
		}
	}
}

func (c *checker) curve(p string, cv *Curve) {
	if len(cv.Hourly) > 0 {
		if cv.PeakHourLocal != nil || cv.TroughRatio != nil {
			c.add(p, "give either hourly or peakHourLocal and troughRatio, not both")
		}
		if len(cv.Hourly) != 24 {
			c.add(p+".hourly", "must have 24 values, one per local hour, got %d", len(cv.Hourly))
		}
		top := 0.0
		for i, h := range cv.Hourly {
			if h < 0 {
				c.add(elemPath(p+".hourly", "", i), "must be >= 0, got %v", h)
			}
			top = max(top, h)
		}
		if top <= 0 {
			c.add(p+".hourly", "must have a value > 0")
		}
		return
	}
	if h := cv.PeakHourLocal; h != nil && (*h < 0 || *h >= 24) {
		c.add(p+".peakHourLocal", "must be in [0, 24), got %v", *h)
	}
	if r := cv.TroughRatio; r != nil && (*r < 0 || *r > 1) {
		c.add(p+".troughRatio", "must be in [0, 1], got %v", *r)
	}
}

func (c *checker) checkWorkloads() {
	sp := &c.s.Spec
	if len(sp.Workloads) == 0 {
		c.add("spec.workloads", "at least one workload is required")
	}
	zones := map[string]bool{}
	hasEdge := false
	for i := range sp.Regions {
		zones[sp.Regions[i].Zone] = true
		hasEdge = hasEdge || regionKind(&sp.Regions[i]) == string(topology.Edge)
	}
	for i := range sp.Workloads {
		w := &sp.Workloads[i]
		p := elemPath("spec.workloads", w.Name, i)
		if !slices.Contains(workloadKinds, w.Kind) {
			c.add(p+".kind", "unknown kind %q, want %s", w.Kind, oneOf(workloadKinds))
		}
		switch w.Kind {
		case "chat":
			if w.Chat == nil && w.Trace == nil {
				c.add(p+".chat", "required when kind is chat (or give a trace)")
			}
			if w.Chat != nil && w.Trace != nil {
				c.add(p+".trace", "give either chat distributions or a trace, not both")
			}
			if w.Agent != nil {
				c.add(p+".agent", "not allowed when kind is chat")
			}
		case "agent":
			if w.Agent == nil && w.Trace == nil {
				c.add(p+".agent", "required when kind is agent (or give a trace)")
			}
			if w.Agent != nil && w.Trace != nil {
				c.add(p+".trace", "give either agent distributions or a trace, not both")
			}
			if w.Chat != nil {
				c.add(p+".chat", "not allowed when kind is agent")
			}
		}
		if w.UsersScale < 0 || w.UsersScale > 1e6 || math.IsNaN(w.UsersScale) {
			c.add(p+".usersScale", "must be in (0, 1e6], got %v", w.UsersScale)
		}
		if w.Connection != "" && !slices.Contains(connections, w.Connection) {
			c.add(p+".connection", "unknown connection %q, want %s", w.Connection, oneOf(connections))
		}
		if w.Zone != "" && w.Zone != "user" && !zones[w.Zone] {
			c.add(p+".zone", "no region is in zone %q", w.Zone)
		}
		if w.Zone == "user" {
			for j := range sp.Users {
				if u := &sp.Users[j]; u.Zone == "" && sendsWorkload(u, w.Name) {
					c.add(elemPath("spec.users", u.Name, j)+".zone", "required: workload %q is confined to the user's zone", w.Name)
				}
			}
		}
		if tr := w.Trace; tr != nil {
			tp := p + ".trace"
			if strings.TrimSpace(tr.File) == "" {
				c.add(tp+".file", "must name the trace file")
			}
			switch {
			case !slices.Contains(traceFormats, tr.Format):
				c.add(tp+".format", "unknown format %q, want %s", tr.Format, oneOf(traceFormats))
			case w.Kind == "agent" && tr.Format != "agent":
				c.add(tp+".format", "an agent workload replays agent session traces (format agent), got %q", tr.Format)
			case w.Kind == "chat" && tr.Format == "agent":
				c.add(tp+".format", "a chat workload replays request traces (azure or mooncake), got %q", tr.Format)
			}
			if tr.Orchestrator != "" {
				if tr.Format != "agent" {
					c.add(tp+".orchestrator", "only agent traces have an orchestrator")
				} else if !slices.Contains(orchestrators, tr.Orchestrator) {
					c.add(tp+".orchestrator", "unknown orchestrator %q, want %s", tr.Orchestrator, oneOf(orchestrators))
				} else if tr.Orchestrator == "edge" && !hasEdge {
					c.add(tp+".orchestrator", "edge needs at least one region of kind edge")
				}
			}
			if tr.RateScale < 0 || tr.RateScale > 1e6 || math.IsNaN(tr.RateScale) {
				c.add(tp+".rateScale", "must be in (0, 1e6], got %v", tr.RateScale)
			}
			if tr.OnError != "" && tr.OnError != "stop" && tr.OnError != "skip" {
				c.add(tp+".onError", "unknown value %q, want stop or skip", tr.OnError)
			}
		}
		if ch := w.Chat; ch != nil {
			c.dist(p+".chat.promptTokens", &ch.PromptTokens)
			c.dist(p+".chat.outputTokens", &ch.OutputTokens)
		}
		if a := w.Agent; a != nil {
			ap := p + ".agent"
			c.dist(ap+".steps", &a.Steps)
			c.dist(ap+".initialPromptTokens", &a.InitialPromptTokens)
			c.dist(ap+".outputTokens", &a.OutputTokens)
			c.dist(ap+".toolResultTokens", &a.ToolResultTokens)
			if a.ThinkTimeMs != nil {
				c.dist(ap+".thinkTimeMs", a.ThinkTimeMs)
			}
			for j, tc := range a.Tools {
				tp := elemPath(ap+".tools", "", j)
				switch {
				case tc.Tool == "":
					c.add(tp+".tool", "must not be empty")
				case !c.tools[tc.Tool]:
					c.add(tp+".tool", "unknown tool %q: not in spec.tools", tc.Tool)
				}
				if pr := tc.Probability; pr != nil && (*pr < 0 || *pr > 1) {
					c.add(tp+".probability", "must be in [0, 1], got %v", *pr)
				}
			}
			if a.ToolCallMode != "" && !slices.Contains(toolCallModes, a.ToolCallMode) {
				c.add(ap+".toolCallMode", "unknown mode %q, want %s", a.ToolCallMode, oneOf(toolCallModes))
			}
			switch {
			case a.Orchestrator != "" && !slices.Contains(orchestrators, a.Orchestrator):
				c.add(ap+".orchestrator", "unknown orchestrator %q, want %s", a.Orchestrator, oneOf(orchestrators))
			case a.Orchestrator == "edge" && !hasEdge:
				c.add(ap+".orchestrator", "edge needs at least one region of kind edge")
			}
			if a.MaxContextTokens < 1 || a.MaxContextTokens > MaxContextLimit {
				c.add(ap+".maxContextTokens", "must be in [1, %d], got %d", MaxContextLimit, a.MaxContextTokens)
			}
		}
		for j, slo := range w.SLOs {
			sp := elemPath(p+".slos", "", j)
			switch {
			case !slices.Contains(sloMetrics, slo.Metric):
				c.add(sp+".metric", "unknown metric %q, want %s", slo.Metric, oneOf(sloMetrics))
			case slo.Metric == "task" && w.Kind != "agent":
				c.add(sp+".metric", "task applies to agent workloads only")
			}
			if slo.Percentile <= 0 || slo.Percentile >= 100 {
				c.add(sp+".percentile", "impossible SLO percentile %v: must be strictly between 0 and 100 (for example 95 or 99.9)", slo.Percentile)
			}
			c.duration(sp+".max", slo.Max, true)
		}
	}
}

// dist checks a distribution: a known family with its fields in range and
// no field of another family.
func (c *checker) dist(p string, d *Dist) {
	uses := map[string][]string{
		"constant":    {"value"},
		"exponential": {"mean"},
		"lognormal":   {"median", "sigma"},
		"uniform":     {"min", "max"},
		"empirical":   {"quantiles"},
		"builtin":     {"name"},
	}
	if d.Dist == "" {
		c.add(p+".dist", "missing: want %s", oneOf(distFamilies))
		return
	}
	fields, ok := uses[d.Dist]
	if !ok {
		c.add(p+".dist", "unknown distribution %q, want %s", d.Dist, oneOf(distFamilies))
		return
	}
	set := map[string]bool{
		"value": d.Value != nil, "mean": d.Mean != nil, "median": d.Median != nil,
		"sigma": d.Sigma != nil, "min": d.Min != nil, "max": d.Max != nil,
		"quantiles": len(d.Quantiles) > 0, "name": d.Name != "",
	}
	for _, f := range fields {
		if !set[f] {
			c.add(p+"."+f, "required by %s distribution", article(d.Dist))
		}
	}
	for _, f := range []string{"value", "mean", "median", "sigma", "quantiles", "name"} {
		if set[f] && !slices.Contains(fields, f) {
			c.add(p+"."+f, "not used by %s distribution (it uses %s)", article(d.Dist), strings.Join(fields, " and "))
		}
	}
	if d.Value != nil && *d.Value < 0 {
		c.add(p+".value", "must be >= 0, got %v", *d.Value)
	}
	if d.Mean != nil && *d.Mean <= 0 {
		c.add(p+".mean", "must be > 0, got %v", *d.Mean)
	}
	if d.Median != nil && *d.Median <= 0 {
		c.add(p+".median", "must be > 0, got %v", *d.Median)
	}
	if d.Sigma != nil && (*d.Sigma < 0 || *d.Sigma > MaxSigma) {
		c.add(p+".sigma", "must be in [0, %v], got %v", MaxSigma, *d.Sigma)
	}
	if d.Min != nil && *d.Min < 0 {
		c.add(p+".min", "must be >= 0, got %v", *d.Min)
	}
	if d.Max != nil && *d.Max < 0 {
		c.add(p+".max", "must be >= 0, got %v", *d.Max)
	}
	if d.Min != nil && d.Max != nil && *d.Min > *d.Max {
		c.add(p+".min", "must be <= max (%v), got %v", *d.Max, *d.Min)
	}
	if d.Dist == "empirical" && set["quantiles"] {
		if len(d.Quantiles) < 2 {
			c.add(p+".quantiles", "must have at least 2 values, got %d", len(d.Quantiles))
		}
		for i, q := range d.Quantiles {
			qp := elemPath(p+".quantiles", "", i)
			if q < 0 {
				c.add(qp, "must be >= 0, got %v", q)
			}
			if i > 0 && q < d.Quantiles[i-1] {
				c.add(qp, "quantiles must be non-decreasing, got %v after %v", q, d.Quantiles[i-1])
			}
		}
	}
	if d.Dist == "builtin" && d.Name != "" {
		if _, ok := workloads.Builtin(d.Name); !ok {
			c.add(p+".name", "unknown built-in distribution %q", d.Name)
		}
	}
}

// siteGPUs is GPUs per (site, canonical GPU id).
type siteGPUs map[string]map[string]int

func (m siteGPUs) get(site, gpu string) int { return m[site][gpu] }

func (m siteGPUs) add(site, gpu string, n int) {
	if m[site] == nil {
		m[site] = map[string]int{}
	}
	m[site][gpu] += n
}

// EvenSplit returns the number of replicas that split "even" places at each
// of d.Sites, in order: GPUs/TensorParallel replicas dealt out so that the
// first (replicas mod sites) sites get one more than the others. It
// returns nil when d has no sites or TensorParallel < 1.
func (d Deployment) EvenSplit() []int {
	n, tp := len(d.Sites), d.TensorParallel
	if n == 0 || tp < 1 {
		return nil
	}
	r := d.GPUs / tp
	out := make([]int, n)
	for i := range out {
		out[i] = r / n
		if i < r%n {
			out[i]++
		}
	}
	return out
}

func (c *checker) checkStrategies() {
	sp := &c.s.Spec
	if len(sp.Strategies) == 0 {
		c.add("spec.strategies", "at least one strategy is required")
	}
	// Capacity: GPUs per site and GPU type, over all clusters and pools.
	capacity := siteGPUs{}
	for _, r := range sp.Regions {
		for _, cl := range r.Clusters {
			for _, pool := range cl.GPUPools {
				if pool.Count > 0 && pool.GPUsPerNode > 0 && pool.Count <= MaxGPUs && pool.GPUsPerNode <= MaxGPUsPerNode {
					capacity.add(r.Name, gpuKey(pool.GPU), pool.Count*pool.GPUsPerNode)
				}
			}
		}
	}
	for i := range sp.Strategies {
		c.strategy(elemPath("spec.strategies", sp.Strategies[i].Name, i), &sp.Strategies[i], capacity)
	}
}

func (c *checker) strategy(p string, st *Strategy, capacity siteGPUs) {
	sp := &c.s.Spec
	if !slices.Contains(strategyKinds, st.Kind) {
		c.add(p+".kind", "unknown kind %q, want %s", st.Kind, oneOf(strategyKinds))
	}
	if len(st.Deployments) == 0 {
		c.add(p+".deployments", "at least one deployment is required")
	}
	evenNeed := siteGPUs{}
	allSites := map[string]bool{}
	var siteOrder []string
	served := map[string][]string{} // workload -> sites that serve it
	// placeable[i]: deployment i is well formed, so its GPUs can be
	// checked against the sites' capacity.
	placeable := make([]bool, len(st.Deployments))
	for i := range st.Deployments {
		d := &st.Deployments[i]
		dp := elemPath(p+".deployments", "", i)
		if _, ok := serving.LookupModel(d.Model); !ok {
			c.add(dp+".model", "unknown model %q: not in the model catalog", d.Model)
		}
		_, gpuOK := serving.LookupGPU(d.GPU)
		if !gpuOK {
			c.add(dp+".gpu", "unknown GPU %q: not in the GPU catalog", d.GPU)
		}
		if d.Precision != "" && !slices.Contains(precisions, d.Precision) {
			c.add(dp+".precision", "unknown precision %q, want %s", d.Precision, oneOf(precisions))
		}
		tpOK := slices.Contains(tensorParallels, d.TensorParallel)
		if !tpOK {
			c.add(dp+".tensorParallel", "must be 1, 2, 4 or 8, got %d", d.TensorParallel)
		}
		if d.MaxBatch < 1 || d.MaxBatch > MaxBatchLimit {
			c.add(dp+".maxBatch", "must be in [1, %d], got %d", MaxBatchLimit, d.MaxBatch)
		}
		if d.MaxPromptTokens < 0 {
			c.add(dp+".maxPromptTokens", "must be >= 0, got %d", d.MaxPromptTokens)
		}
		if d.TokenBudget < 0 || d.TokenBudget > MaxTokenBudget {
			c.add(dp+".tokenBudget", "must be in [1, %d] (0 or absent: the default), got %d", MaxTokenBudget, d.TokenBudget)
		} else if d.TokenBudget > 0 && d.TokenBudget < d.MaxBatch {
			c.add(dp+".tokenBudget", "must be at least maxBatch (%d) so every running sequence gets its token, got %d", d.MaxBatch, d.TokenBudget)
		}
		if a := d.Autoscale; a != nil {
			c.autoscale(dp+".autoscale", a, d)
		}
		switch d.BlockSize {
		case 0, 1, 8, 16, 32, 64, 128:
		default:
			c.add(dp+".blockSize", "must be 1, 8, 16, 32, 64 or 128 (0 or absent: the default 16), got %d", d.BlockSize)
		}
		if d.Split != "" && !slices.Contains(splits, d.Split) {
			c.add(dp+".split", "unknown split %q, want %s", d.Split, oneOf(splits))
		}
		gpusOK := true
		switch {
		case d.GPUs <= 0 || d.GPUs > MaxGPUs:
			c.add(dp+".gpus", "must be in [1, %d], got %d", MaxGPUs, d.GPUs)
			gpusOK = false
		case tpOK && d.GPUs%d.TensorParallel != 0:
			c.add(dp+".gpus", "must be a multiple of tensorParallel (%d), got %d", d.TensorParallel, d.GPUs)
			gpusOK = false
		case tpOK && d.GPUs/d.TensorParallel < len(d.Sites):
			c.add(dp+".gpus", "%d GPUs at tensorParallel %d give %d replica(s), fewer than the %d sites: every site needs at least one replica", d.GPUs, d.TensorParallel, d.GPUs/d.TensorParallel, len(d.Sites))
			gpusOK = false
		}
		if len(d.Sites) == 0 {
			c.add(dp+".sites", "at least one site is required")
		}
		sitesOK := len(d.Sites) > 0
		seen := map[string]bool{}
		for j, site := range d.Sites {
			sp := elemPath(dp+".sites", "", j)
			r := c.regions[site]
			switch {
			case r == nil:
				c.add(sp, "unknown site %q: not in spec.regions", site)
				sitesOK = false
				continue
			case seen[site]:
				c.add(sp, "site %q is listed twice", site)
				sitesOK = false
				continue
			}
			seen[site] = true
			if !allSites[site] {
				allSites[site] = true
				siteOrder = append(siteOrder, site)
			}
			switch kind := regionKind(r); {
			case st.Kind == "edge" && kind != string(topology.Edge):
				c.add(sp, "an edge strategy places replicas at edge sites only, but %q is a %s site", site, kind)
			case st.Kind == "regional" && kind != string(topology.Core):
				c.add(sp, "a regional strategy places replicas at core sites only, but %q is an %s site", site, kind)
			}
			if gpuOK && tpOK && capacity.get(site, gpuKey(d.GPU)) < d.TensorParallel {
				c.add(sp, "site %q has %d %s GPUs, fewer than one replica needs (%d): add a gpuPool of %s there", site, capacity.get(site, gpuKey(d.GPU)), d.GPU, d.TensorParallel, d.GPU)
				sitesOK = false
			}
		}
		serves := d.Serves
		if len(serves) == 0 {
			for _, w := range sp.Workloads {
				serves = append(serves, w.Name)
			}
		}
		for j, w := range d.Serves {
			if c.workloads[w] == nil {
				c.add(elemPath(dp+".serves", "", j), "unknown workload %q: not in spec.workloads", w)
			}
		}
		for _, w := range serves {
			served[w] = append(served[w], d.Sites...)
		}
		placeable[i] = gpuOK && tpOK && gpusOK && sitesOK
		if placeable[i] && d.Split == "even" {
			for j, n := range d.EvenSplit() {
				evenNeed.add(d.Sites[j], gpuKey(d.GPU), n*d.TensorParallel)
			}
		}
	}

	// Capacity: exact per site for even splits; for demand splits, the
	// deployment's GPUs against what its sites have left.
	for _, site := range siteOrder {
		for _, g := range sortedKeys(evenNeed[site]) {
			if need, have := evenNeed.get(site, g), capacity.get(site, g); need > have {
				c.add(p+".deployments", "site %q needs %d %s GPUs for this strategy's even splits, but has %d", site, need, g, have)
			}
		}
	}
	demandTotal := map[string]int{}
	demandCount := map[string]int{}
	demandFailed := map[string]bool{}
	demandSites := map[string]map[string]bool{}
	for i := range st.Deployments {
		d := &st.Deployments[i]
		if !placeable[i] || d.Split == "even" {
			continue
		}
		g := gpuKey(d.GPU)
		left := 0
		for _, site := range d.Sites {
			left += max(0, capacity.get(site, g)-evenNeed.get(site, g))
		}
		if d.GPUs > left {
			c.add(elemPath(p+".deployments", "", i)+".gpus", "needs %d %s GPUs at sites %s, which have %d", d.GPUs, d.GPU, strings.Join(d.Sites, ", "), left)
			demandFailed[g] = true
		}
		demandTotal[g] += d.GPUs
		demandCount[g]++
		if demandSites[g] == nil {
			demandSites[g] = map[string]bool{}
		}
		for _, site := range d.Sites {
			demandSites[g][site] = true
		}
	}
	// Deployments that fit one by one may still not fit together.
	for _, g := range sortedKeys(demandTotal) {
		if demandCount[g] < 2 || demandFailed[g] {
			continue
		}
		left := 0
		for _, site := range sortedKeys(demandSites[g]) {
			left += max(0, capacity.get(site, g)-evenNeed.get(site, g))
		}
		if demandTotal[g] > left {
			c.add(p+".deployments", "the deployments on %s need %d GPUs in all, but their sites have %d", g, demandTotal[g], left)
		}
	}

	if st.Kind == "centralized" && len(siteOrder) > 1 {
		c.add(p+".kind", "a centralized strategy places every deployment on one and the same site, got %d sites: %s", len(siteOrder), strings.Join(siteOrder, ", "))
	}

	// Every workload can be served. Zones are not checked here: a strategy
	// that breaks a workload's residency is a fair thing to compare.
	for _, w := range sp.Workloads {
		if w.Name != "" && len(served[w.Name]) == 0 {
			c.add(p+".deployments", "no deployment serves workload %q", w.Name)
		}
	}

	rt := st.Routing
	if rt.Policy != "" && !slices.Contains(routingPolicies, rt.Policy) {
		c.add(p+".routing.policy", "unknown policy %q, want %s", rt.Policy, oneOf(routingPolicies))
	}
	if rt.SpillOverWait != nil {
		c.duration(p+".routing.spillOverWait", *rt.SpillOverWait, false)
	}
	if rt.MaxQueuePerReplica < 1 || rt.MaxQueuePerReplica > MaxBatchLimit {
		c.add(p+".routing.maxQueuePerReplica", "must be in [1, %d], got %d", MaxBatchLimit, rt.MaxQueuePerReplica)
	}
}

// sendsWorkload reports whether u sends workload w at a positive rate.
func sendsWorkload(u *UserGroup, w string) bool {
	for _, l := range u.Load {
		if l.Workload == w && (l.PeakRatePerS > 0 || (l.Share != nil && *l.Share > 0)) {
			return true
		}
	}
	return false
}

// article puts "a" or "an" before the name of a distribution family.
func article(family string) string {
	switch family {
	case "exponential", "empirical":
		return "an " + family
	}
	return "a " + family
}

// oneOf writes a list of allowed values for a message: "a, b or c".
func oneOf(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// checkFaults checks the scheduled faults: a known kind, the fields that
// kind needs and no others, references to regions, places and tools that
// exist, and times within bounds.
func (c *checker) checkFaults() {
	sp := &c.s.Spec
	seen := map[string]bool{}
	for i := range sp.Faults {
		f := &sp.Faults[i]
		p := elemPath("spec.faults", f.Name, i)
		switch {
		case f.Name == "":
			c.add(p+".name", "must not be empty")
		case seen[f.Name]:
			c.add(p+".name", "duplicate fault name %q", f.Name)
		}
		seen[f.Name] = true
		if !slices.Contains(faultKinds, f.Kind) {
			c.add(p+".kind", "unknown kind %q, want %s", f.Kind, oneOf(faultKinds))
			continue
		}
		c.duration(p+".start", f.Start, false)
		if d := c.s.Spec.Run.Duration; d > 0 && f.Start >= d {
			c.add(p+".start", "must be within the run's duration (%s), got %s", d, f.Start)
		}
		if f.Duration != nil {
			c.duration(p+".duration", *f.Duration, true)
		}
		needSite := f.Kind == "nodeLoss" || f.Kind == "siteDown"
		needLink := f.Kind == "linkDegraded" || f.Kind == "linkCut"
		if needSite {
			if f.Site == "" {
				c.add(p+".site", "required for a %s fault", f.Kind)
			} else if c.regions[f.Site] == nil {
				c.add(p+".site", "unknown region %q: not in spec.regions", f.Site)
			}
		} else if f.Site != "" {
			c.add(p+".site", "only nodeLoss and siteDown faults name a site")
		}
		if f.Kind == "nodeLoss" {
			switch {
			case f.Fraction == 0 && f.Count == 0:
				c.add(p+".fraction", "a nodeLoss needs fraction or count")
			case f.Fraction != 0 && f.Count != 0:
				c.add(p+".count", "give fraction or count, not both")
			case f.Fraction < 0 || f.Fraction > 1 || math.IsNaN(f.Fraction):
				c.add(p+".fraction", "must be in (0, 1], got %v", f.Fraction)
			case f.Count < 0 || f.Count > MaxGPUs:
				c.add(p+".count", "must be in [1, %d], got %d", MaxGPUs, f.Count)
			}
		} else if f.Fraction != 0 || f.Count != 0 {
			c.add(p+".fraction", "only nodeLoss faults take fraction or count")
		}
		if needLink {
			for _, e := range []struct{ field, v string }{{"from", f.From}, {"to", f.To}} {
				switch {
				case e.v == "":
					c.add(p+"."+e.field, "required for a %s fault", f.Kind)
				case !c.placeKnown(e.v) && !c.users[e.v] && !c.toolPlace(e.v):
					c.add(p+"."+e.field, "unknown place %q: not a region, user group, tool or catalog place", e.v)
				}
			}
			if f.From != "" && f.From == f.To {
				c.add(p+".to", "a link joins two different places, got %q twice", f.To)
			}
		} else if f.From != "" || f.To != "" {
			c.add(p+".from", "only link faults name from and to")
		}
		if f.Kind == "linkDegraded" {
			if f.AddRTTMs < 0 || f.AddRTTMs > 1e6 || math.IsNaN(f.AddRTTMs) {
				c.add(p+".addRttMs", "must be in [0, 1e6] ms, got %v", f.AddRTTMs)
			}
			if f.Loss < 0 || f.Loss >= 1 || math.IsNaN(f.Loss) {
				c.add(p+".loss", "must be in [0, 1), got %v", f.Loss)
			}
			if f.AddRTTMs == 0 && f.Loss == 0 {
				c.add(p+".addRttMs", "a linkDegraded needs addRttMs or loss")
			}
		} else if f.AddRTTMs != 0 || f.Loss != 0 {
			c.add(p+".addRttMs", "only linkDegraded faults take addRttMs and loss")
		}
		if f.Kind == "toolOutage" {
			if f.Tool == "" {
				c.add(p+".tool", "required for a toolOutage fault")
			} else if !c.tools[f.Tool] {
				c.add(p+".tool", "unknown tool %q: not in spec.tools", f.Tool)
			}
		} else if f.Tool != "" {
			c.add(p+".tool", "only toolOutage faults name a tool")
		}
	}
	for i := range sp.Workloads {
		w := &sp.Workloads[i]
		r := w.Retry
		if r == nil {
			continue
		}
		p := elemPath("spec.workloads", w.Name, i) + ".retry"
		if r.Attempts < 0 || r.Attempts > 100 {
			c.add(p+".attempts", "must be in [1, 100] (0 or absent: the default 3), got %d", r.Attempts)
		}
		if r.Backoff != nil {
			c.duration(p+".backoff", *r.Backoff, false)
		}
		if r.Timeout != nil {
			c.duration(p+".timeout", *r.Timeout, true)
		}
	}
}

// toolPlace says whether name is a tool's name (a tool's place can be a link end).
func (c *checker) toolPlace(name string) bool { return c.tools[name] }

// autoscale checks a deployment's autoscaler.
func (c *checker) autoscale(p string, a *Autoscale, d *Deployment) {
	if a.Metric != "" && a.Metric != "concurrency" && a.Metric != "queue" {
		c.add(p+".metric", "unknown metric %q, want concurrency or queue", a.Metric)
	}
	if a.Target < 0 || a.Target > 1e6 || math.IsNaN(a.Target) {
		c.add(p+".target", "must be in (0, 1e6] (0 or absent: the default), got %v", a.Target)
	}
	if a.Interval != nil {
		c.duration(p+".interval", *a.Interval, true)
	}
	if a.ScaleUpStabilization != nil {
		c.duration(p+".scaleUpStabilization", *a.ScaleUpStabilization, false)
	}
	if a.ScaleDownStabilization != nil {
		c.duration(p+".scaleDownStabilization", *a.ScaleDownStabilization, false)
	}
	if a.Warmup != nil {
		c.duration(p+".warmup", *a.Warmup, false)
	}
	if a.ProvisioningS != nil {
		c.dist(p+".provisioningS", a.ProvisioningS)
	}
	if a.WeightSource != "" && a.WeightSource != "local" && a.WeightSource != "regional" && a.WeightSource != "remote" {
		c.add(p+".weightSource", "unknown source %q, want local, regional or remote", a.WeightSource)
	}
	if a.LoadGBps < 0 || a.LoadGBps > 1e4 || math.IsNaN(a.LoadGBps) {
		c.add(p+".loadGBps", "must be in (0, 10000] GB/s (0 or absent: the source's default), got %v", a.LoadGBps)
	}
	if m := a.MinReplicas; m != nil {
		switch {
		case *m < 0 || *m > MaxGPUs:
			c.add(p+".minReplicas", "must be in [0, %d], got %d", MaxGPUs, *m)
		case *m == 0:
			for _, s := range d.Sites {
				if r := c.regions[s]; r != nil && regionKind(r) != string(topology.Edge) {
					c.add(p+".minReplicas", "0 (scale to zero) is allowed only at edge sites; %q is a core region", s)
					break
				}
			}
		}
	}
}
