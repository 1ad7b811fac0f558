package fleet

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/fleetsim/fleetsim/results"
	"github.com/fleetsim/fleetsim/serving"
	"github.com/fleetsim/fleetsim/sim"
	"github.com/fleetsim/fleetsim/traces"
)

// Event kinds.
const (
	evArrival      uint16 = iota + 1 // Ref: load stream
	evAtServer                       // Ref: call; the request reached its site
	evStep                           // Ref: replica, Gen: replica generation; an iteration ended
	evCallBack                       // Ref: call; an agent call's last token reached the orchestrator
	evNextStep                       // Ref: session; the orchestrator issues the session's next model call
	evTraceArrival                   // Ref: trace stream; its next recorded request arrives
	evFault                          // Ref: fault; Gen 0 starts it, 1 ends it
	evRetry                          // Ref: call; the caller sends it again
	evTimeout                        // Ref: call, Gen: attempt id; the attempt's timeout
	evToolRetry                      // Ref: session; the orchestrator calls its tools again
	evAutoscale                      // Ref: pool; its autoscaler evaluates
	evReplicaReady                   // Ref: replica, Gen: provisioning generation; a new replica can serve
)

// Priorities at equal times: iterations end before new work arrives, so a
// slot freed at t is visible to a request arriving at t.
const (
	prioStep  uint8 = 0
	prioOther uint8 = 1
)

// loadStream is one (user group, load) arrival process.
type loadStream struct {
	user, load int
	rng        *rand.Rand
	next       float64 // seconds, the pending arrival
	sessions   uint64  // sessions started, to seed each session's stream
	sessBase   uint64  // first seed word of this stream's sessions
}

// traceStream replays one workload's trace.
type traceStream struct {
	wl     int
	t      *traces.Trace    // a request trace, or
	ss     *traces.Sessions // a session trace
	seed   uint64           // first seed word of replayed sessions' streams
	i      int              // next request
	cycle  int              // completed replays (TraceLoop)
	period float64          // seconds of trace time per replay
	scale  float64
	loop   bool
	users  []int     // groups that send the trace
	cum    []float64 // their cumulative shares, normalised
	rng    *rand.Rand
}

// nextAt is the arrival time, in seconds, of the stream's next request,
// +Inf when the trace is done.
func (ts *traceStream) nextAt() float64 {
	n := ts.len()
	if ts.i >= n {
		if !ts.loop || n == 0 {
			return math.Inf(1)
		}
		ts.i, ts.cycle = 0, ts.cycle+1
	}
	return (ts.startS(ts.i) + float64(ts.cycle)*ts.period) / ts.scale
}

func (ts *traceStream) len() int {
	if ts.ss != nil {
		return ts.ss.Len()
	}
	return ts.t.Len()
}

// startS is when item i starts in trace time: a request's arrival, or a
// session's start, relative to the trace's first.
func (ts *traceStream) startS(i int) float64 {
	if ts.ss != nil {
		return ts.ss.At(i).StartS - ts.ss.At(0).StartS
	}
	return ts.t.At(i).ArrivalS
}

// call is one model call in flight.
type call struct {
	wl, user, sess int32 // sess < 0 for chat
	pool, rep      int32
	origin         int32 // location of the caller (user or orchestrator)
	client         bool  // the caller is the user (access RTT applies)
	measured       bool
	spilled        bool
	prompt, output int32
	remaining      int32
	pre            int32    // tokens to prefill: the prompt, plus generated tokens after a preemption
	done           int32    // of pre, tokens prefilled (or found in the prefix cache)
	chunk          int32    // prefill tokens scheduled in the current iteration
	ctx            int32    // tokens of KV cache the call holds
	blk            int32    // KV blocks the call holds
	hit            int32    // prompt tokens found in the prefix cache (the most over its admissions)
	prefShared     int32    // leading prompt tokens shared with the prefix named by prefKey
	preempts       int32    // times the call was preempted
	prefKey        uint64   // prefix identity (agent session); 0: none
	trace          int32    // 1 + the trace stream the call replays; 0: none
	traceIdx       int32    // the request's index in that trace
	first          sim.Time // when the first attempt was sent
	tries          uint8    // attempts before the current one
	att            uint32   // the current attempt's id (timers match it); 0 between attempts
	abandoned      bool     // an attempt given up on (timeout), freed where next met
	cold           bool     // reached a site whose replicas were still starting
	issued         sim.Time // left the caller
	atServer       sim.Time
	admitted       sim.Time
	firstTok       sim.Time
	downS          float64 // seconds from the replica back to the caller
}

// session is one agent session in flight.
type session struct {
	wl, user  int32
	rng       *rand.Rand
	steps     int
	step      int
	ctx       int
	start     sim.Time
	ordinal   uint64 // the session's sequence number in its load stream
	orchLoc   int32
	client    bool // the orchestrator is the user's client
	measured  bool
	connected []int32 // locations with an open connection (persistent only)
	key       uint64  // prefix-cache key of the session's context
	lastRep   int32   // replica of the previous call, for affinity; -1 none
	shared    int32   // tokens of the next prompt that the previous call's context covers
	replay    int32   // 1 + the trace stream of a replayed session; 0: drawn
	toolTries int     // failed tool phases since the last step
	replayIdx int32   // the session's index in that trace
	bd        [5]float64
}

// Breakdown slots of session.bd.
const (
	bdNetwork = iota
	bdQueue
	bdCompute
	bdTool
	bdThink
)

// pool is a deployment's replicas at one site.
type pool struct {
	dep, site   int
	blocks      int32 // KV blocks per replica
	bt          int32 // tokens per block
	loc         int
	zone        string
	first, n    int // replica range
	kvCap       int
	gpus        int
	pricePerGPU float64
	energyPrice float64 // USD per kWh

	scale   *scaler   // nil: a fixed fleet
	billed  sim.Time  // replica time billed in the window
	byHour  []float64 // replica-seconds billed per hour of the window (autoscaled pools)
	busyHr  []float64 // replica-seconds running iterations per hour of the window
	down    int       // faults holding the whole site down
	live    int       // replicas not down
	queue   []int32   // FIFO of calls waiting for a replica; head at qHead
	qHead   int
	resEWMA float64 // seconds from admission to finish, smoothed
}

func (p *pool) queueLen() int { return len(p.queue) - p.qHead }

func (p *pool) pop() int32 {
	c := p.queue[p.qHead]
	p.qHead++
	if p.qHead == len(p.queue) {
		p.queue, p.qHead = p.queue[:0], 0
	} else if p.qHead >= 1024 && p.qHead*2 >= len(p.queue) {
		n := copy(p.queue, p.queue[p.qHead:])
		p.queue, p.qHead = p.queue[:n], 0
	}
	return c
}

func (p *pool) observeResidence(s float64) {
	if p.resEWMA == 0 {
		p.resEWMA = s
		return
	}
	p.resEWMA += 0.05 * (s - p.resEWMA)
}

type engine struct {
	w  *World
	st *Strategy
	k  *sim.Kernel

	netRng *rand.Rand
	chat   []*rand.Rand // per workload
	loads  []loadStream

	pools  []pool
	reps   []replica
	traces []traceStream

	calls     []call
	freeCalls []int32
	sess      []session
	freeSess  []int32

	// order[loc] lists pool indexes by RTT from loc, nearest first.
	order [][]int32

	winStart, winEnd, stopAt sim.Time

	m        meters
	opts     Options
	prefKeys uint64 // prefix-cache keys handed out

	faults   []faultState
	links    []activeLink // link faults in force
	toolDown []int        // per tool, faults holding it down
	attSeq   uint32       // attempt ids handed out
}

// Simulate runs strategy index si of w and measures it. It is a pure
// function of w, si and w.Run.Seed.
func Simulate(w *World, si int) (results.Strategy, error) {
	return SimulateWith(w, si, Options{})
}

// SimulateWith is Simulate with reporting options.
func SimulateWith(w *World, si int, opts Options) (results.Strategy, error) {
	if si < 0 || si >= len(w.Strategies) {
		return results.Strategy{}, fmt.Errorf("strategy index %d out of range", si)
	}
	e, err := newEngine(w, si)
	if err != nil {
		return results.Strategy{}, err
	}
	e.opts = opts
	e.run()
	return e.outcome(), nil
}

func newEngine(w *World, si int) (*engine, error) {
	st := &w.Strategies[si]
	e := &engine{
		w:        w,
		st:       st,
		k:        sim.NewKernel(),
		netRng:   sim.Stream(w.Run.Seed, "network/"+st.Name),
		winStart: w.Run.Warmup,
		winEnd:   w.Run.Warmup + w.Run.Window,
	}
	e.stopAt = e.winEnd + w.Run.Drain
	for i := range w.Workloads {
		e.chat = append(e.chat, sim.Stream(w.Run.Seed, "workload/"+w.Workloads[i].Name))
	}
	for di := range st.Deployments {
		d := &st.Deployments[di]
		for _, pl := range d.Placements {
			if pl.Replicas <= 0 {
				continue
			}
			site := w.Sites[pl.Site]
			bt := int32(d.BlockTokens)
			if bt <= 0 {
				bt = DefaultBlockTokens
			}
			budget := d.TokenBudget
			if budget <= 0 {
				budget = serving.DefaultTokenBudget
			}
			blocks := int32(min(d.Estimator.KVCapacityTokens()/int(bt), 1<<30))
			p := pool{
				dep: di, site: pl.Site, loc: site.Loc, zone: site.Zone,
				first: len(e.reps), n: pl.Replicas, live: pl.Replicas,
				blocks: blocks, bt: bt, kvCap: int(blocks) * int(bt),
				gpus: pl.Replicas * d.TP, pricePerGPU: pl.PricePerGPUHourUSD,
				energyPrice: pl.EnergyPricePerKWhUSD,
			}
			for r := 0; r < pl.Replicas; r++ {
				e.reps = append(e.reps, replica{
					pool:     int32(len(e.pools)),
					est:      d.Estimator,
					maxBatch: d.Estimator.MaxBatch(),
					budget:   budget,
					bt:       bt,
					caching:  d.PrefixCaching,
					blocks:   blocks,
				})
			}
			p.busyHr = make([]float64, max(int(math.Ceil(w.Run.Window.Seconds()/3600)), 1))
			e.pools = append(e.pools, p)
			if d.Autoscale != nil {
				pi := len(e.pools) - 1
				e.pools[pi].byHour = make([]float64, int(math.Ceil(w.Run.Window.Seconds()/3600)))
				e.initAutoscale(pi, d.Autoscale)
			}
		}
	}
	if len(e.pools) == 0 {
		return nil, fmt.Errorf("strategy %s: no replicas", st.Name)
	}
	e.order = make([][]int32, len(w.Locations))
	e.m = newMeters(w, e.pools)
	// One arrival stream per (user group, load), named so that adding a
	// workload or a group leaves the others' arrivals unchanged, and the
	// same in every strategy (common random numbers).
	for ui, u := range w.Users {
		for li := range u.Loads {
			ls := loadStream{user: ui, load: li,
				rng: sim.Stream(w.Run.Seed, "arrivals/"+u.Name+"/"+w.Workloads[u.Loads[li].Workload].Name)}
			ls.sessBase = sim.Stream(w.Run.Seed, "sessions/"+u.Name+"/"+w.Workloads[u.Loads[li].Workload].Name).Uint64()
			ls.next = u.Loads[li].Arrivals.Next(0, ls.rng)
			e.loads = append(e.loads, ls)
		}
	}
	for i := range e.loads {
		e.scheduleArrival(i)
	}
	e.scheduleFaults()
	for wi := range w.Workloads {
		wl := &w.Workloads[wi]
		if !wl.Replays() {
			continue
		}
		ts := traceStream{wl: wi, t: wl.Trace, ss: wl.Sessions, scale: wl.TraceRateScale, loop: wl.TraceLoop,
			rng:  sim.Stream(w.Run.Seed, "trace/"+wl.Name),
			seed: sim.Stream(w.Run.Seed, "trace-sessions/"+wl.Name).Uint64()}
		if ts.scale <= 0 {
			ts.scale = 1
		}
		// One replay lasts the trace's span plus one mean gap, so a loop
		// keeps the trace's rate across the seam.
		if n := ts.len(); n > 1 {
			ts.period = ts.startS(n-1) * float64(n) / float64(n-1)
		}
		if ts.period <= 0 {
			ts.period = 1
		}
		sum := 0.0
		for ui := range w.Users {
			if sh := w.Users[ui].TraceShares; sh != nil && sh[wi] > 0 {
				sum += sh[wi]
				ts.users = append(ts.users, ui)
				ts.cum = append(ts.cum, sum)
			}
		}
		if sum <= 0 {
			continue
		}
		for i := range ts.cum {
			ts.cum[i] /= sum
		}
		e.traces = append(e.traces, ts)
		e.scheduleTrace(len(e.traces) - 1)
	}
	return e, nil
}

func (e *engine) scheduleTrace(i int) {
	t := e.traces[i].nextAt()
	if math.IsInf(t, 1) || t >= e.winEnd.Seconds() {
		return
	}
	e.k.Schedule(sim.FromSeconds(t), prioOther, evTraceArrival, int32(i), 0)
}

// onTraceArrival issues stream i's next recorded request, or starts its
// next recorded session, from a user group drawn by the groups' shares.
func (e *engine) onTraceArrival(i int, now sim.Time) {
	ts := &e.traces[i]
	x := ts.rng.Float64()
	ui := ts.users[len(ts.users)-1]
	for k, c := range ts.cum {
		if x < c {
			ui = ts.users[k]
			break
		}
	}
	if ts.ss != nil {
		ri := ts.i
		ts.i++
		e.startReplayed(i, ri, ui, now)
		e.scheduleTrace(i)
		return
	}
	req := ts.t.At(ts.i)
	u := &e.w.Users[ui]
	c := e.newCall()
	cl := &e.calls[c]
	*cl = call{
		wl: int32(ts.wl), user: int32(ui), sess: -1,
		pool: -1, rep: -1, origin: int32(u.Loc), client: true, measured: e.inWindow(now),
		prompt: max(req.Input, 1), output: max(req.Output, 1),
		trace: int32(i + 1), traceIdx: int32(ts.i),
	}
	cl.pre = cl.prompt
	ts.i++
	e.issue(c, now, nil)
	e.scheduleTrace(i)
}

func (e *engine) scheduleArrival(i int) {
	t := e.loads[i].next
	if math.IsInf(t, 1) || t >= e.winEnd.Seconds() {
		return
	}
	e.k.Schedule(sim.FromSeconds(t), prioOther, evArrival, int32(i), 0)
}

func (e *engine) run() {
	for n := uint64(1); ; n++ {
		ev, ok := e.k.Next()
		if !ok || ev.At > e.stopAt {
			break
		}
		e.dispatch(ev)
		if n&(1<<16-1) == 0 && e.opts.OnProgress != nil {
			e.opts.OnProgress(e.st.Name, float64(ev.At)/float64(e.stopAt), n)
		}
	}
	if e.opts.OnProgress != nil {
		e.opts.OnProgress(e.st.Name, 1, e.k.Processed())
	}
	end := e.k.Now()
	if end > e.stopAt {
		end = e.stopAt
	}
	for i := range e.reps {
		r := &e.reps[i]
		if r.busy {
			in := clip(r.iterStart, end, e.winStart, e.winEnd)
			r.busyWin += in
			e.busyByHour(r, max(r.iterStart, e.winStart), in)
			// The unfinished iteration's energy, in proportion to its part in the window.
			if in > 0 {
				if span := r.iterEnd - r.iterStart; span > 0 {
					r.joulesWin += r.runJ * float64(in) / float64(span)
				}
			}
		}
	}
}

// dispatch handles one event.
func (e *engine) dispatch(ev sim.Event) {
	switch ev.Kind {
	case evArrival:
		e.onArrival(int(ev.Ref), ev.At)
	case evAtServer:
		e.onAtServer(ev.Ref, ev.Gen, ev.At)
	case evStep:
		if ev.Gen == e.reps[ev.Ref].gen {
			e.onStep(ev.Ref, ev.At)
		}
	case evCallBack:
		e.onCallBack(ev.Ref, ev.At)
	case evNextStep:
		e.issueStep(ev.Ref, ev.At)
	case evTraceArrival:
		e.onTraceArrival(int(ev.Ref), ev.At)
	case evFault:
		e.onFault(int(ev.Ref), ev.Gen == 1, ev.At)
	case evRetry:
		e.retry(ev.Ref, ev.At)
	case evTimeout:
		e.onTimeout(ev.Ref, ev.Gen, ev.At)
	case evToolRetry:
		e.toolPhase(ev.Ref, ev.At)
	case evAutoscale:
		e.onAutoscale(int(ev.Ref), ev.At)
	case evReplicaReady:
		e.onReplicaReady(int(ev.Ref), ev.Gen, ev.At)
	}
}

// clip returns the length of [a, b] inside [lo, hi].
func clip(a, b, lo, hi sim.Time) sim.Time {
	if a < lo {
		a = lo
	}
	if b > hi {
		b = hi
	}
	if b > a {
		return b - a
	}
	return 0
}

func (e *engine) inWindow(t sim.Time) bool { return t >= e.winStart && t < e.winEnd }

func (e *engine) onArrival(li int, now sim.Time) {
	ls := &e.loads[li]
	u := &e.w.Users[ls.user]
	load := &u.Loads[ls.load]
	wl := &e.w.Workloads[load.Workload]
	if wl.Agent {
		e.startSession(li, now)
	} else {
		r := e.chat[load.Workload]
		c := e.newCall()
		cl := &e.calls[c]
		*cl = call{
			wl: int32(load.Workload), user: int32(ls.user), sess: -1,
			pool: -1, rep: -1, origin: int32(u.Loc), client: true, measured: e.inWindow(now),
			prompt: tokens(wl.Prompt.Sample(r)), output: tokens(wl.Output.Sample(r)),
		}
		cl.pre = cl.prompt
		e.issue(c, now, nil)
	}
	ls.next = load.Arrivals.Next(ls.next, ls.rng)
	e.scheduleArrival(li)
}

// tokens turns a drawn value into a token count of at least 1.
func tokens(v float64) int32 {
	if !(v >= 1) { // also catches NaN
		return 1
	}
	if v > math.MaxInt32/4 {
		return math.MaxInt32 / 4
	}
	return int32(math.Round(v))
}

func (e *engine) newCall() int32 {
	if n := len(e.freeCalls); n > 0 {
		c := e.freeCalls[n-1]
		e.freeCalls = e.freeCalls[:n-1]
		return c
	}
	e.calls = append(e.calls, call{})
	return int32(len(e.calls) - 1)
}

func (e *engine) freeCall(c int32) {
	e.calls[c].wl = -1
	e.freeCalls = append(e.freeCalls, c)
}

// rttMs is the round trip between two locations in ms, with the link
// faults in force (+Inf across a cut link).
func (e *engine) rttMs(a, b int) float64 {
	ms := e.w.RTT.RTTMs(a, b)
	if len(e.links) > 0 {
		ms = e.linkRTT(a, b, ms)
	}
	return ms
}

// rttS is the round trip between two locations in seconds, plus the
// user's access RTT when one end is the user's client.
func (e *engine) rttS(a, b int, user int32, client bool) float64 {
	ms := e.rttMs(a, b)
	if client {
		ms += e.w.Users[user].AccessRTTMs
	}
	return ms / 1000
}

func (e *engine) jitterS() float64 {
	if e.w.Net.JitterMs == nil {
		return 0
	}
	v := e.w.Net.JitterMs.Sample(e.netRng)
	if !(v > 0) {
		return 0
	}
	return v / 1000
}

// handshakeS is the connection setup a caller pays to reach loc: every
// time for per-request connections, once per session and destination for
// persistent agent connections, never for persistent chat clients.
func (e *engine) handshakeS(wl *Workload, s *session, loc int, rtt float64) float64 {
	if e.w.Net.HandshakeRTTs == 0 && e.w.Net.MTLSS == 0 {
		return 0
	}
	if wl.Persistent {
		if s == nil {
			return 0
		}
		for _, l := range s.connected {
			if int(l) == loc {
				return 0
			}
		}
		s.connected = append(s.connected, int32(loc))
	}
	return float64(e.w.Net.HandshakeRTTs)*rtt + e.w.Net.MTLSS
}

// egress charges bytes sent from location from to location to: free
// within a location, the internet price toward users (toUser), the
// inter-region price otherwise. Only work measured in the window counts.
func (e *engine) egress(bytes float64, from, to int, toUser, measured bool) {
	if !measured || bytes <= 0 || (from == to && !toUser) {
		return
	}
	price := e.w.Net.EgressPerGB
	if toUser {
		price = e.w.Net.InternetEgressPerGB
	}
	e.m.egressBytes += bytes
	e.m.egressUSD += bytes / 1e9 * price
}

func (e *engine) bandwidth(client bool) float64 {
	if client {
		return e.w.Net.AccessBytesPerS
	}
	return e.w.Net.SiteBytesPerS
}

// issue routes call c, sent at now, and schedules its arrival at the site.
func (e *engine) issue(c int32, now sim.Time, s *session) {
	cl := &e.calls[c]
	wl := &e.w.Workloads[cl.wl]
	m := &e.m.wl[cl.wl]
	cl.issued = now
	if cl.tries == 0 {
		cl.first = now
		if cl.measured {
			m.reqArrived++
		}
		e.faultCount(cl, func(fc *faultCounts) { fc.arrived++ })
	}
	e.attSeq++
	if e.attSeq == 0 {
		e.attSeq = 1
	}
	cl.att = e.attSeq
	p, spilled, why := e.route(cl)
	if p < 0 {
		if why == routeFull {
			e.dropCall(c, now)
		} else {
			e.failAttempt(c, now, failNoRoute, -1)
		}
		return
	}
	cl.pool = int32(p)
	cl.spilled = spilled
	if spilled && cl.measured {
		m.spilled++
	}
	loc := e.pools[p].loc
	rtt := e.rttS(int(cl.origin), loc, cl.user, cl.client)
	up := e.handshakeS(wl, s, loc, rtt) + rtt/2 + e.jitterS() +
		float64(cl.prompt)*e.w.Net.BytesPerToken/e.bandwidth(cl.client) + e.w.Net.GatewayS
	if !cl.client {
		// An orchestrator at a site sends the prompt across regions.
		e.egress(float64(cl.prompt)*e.w.Net.BytesPerToken, int(cl.origin), loc, false, cl.measured)
	}
	cl.downS = rtt / 2
	if len(e.links) > 0 {
		up += e.lossDelay(int(cl.origin), loc, rtt)
		cl.downS += e.lossDelay(int(cl.origin), loc, rtt)
	}
	at := now + sim.FromSeconds(up)
	cl.atServer = at
	e.k.Schedule(at, prioOther, evAtServer, c, cl.att)
	if wl.Retry.TimeoutS > 0 {
		e.k.Schedule(now+sim.FromSeconds(wl.Retry.TimeoutS), prioOther, evTimeout, c, cl.att)
	}
}

// onAtServer hands call c, arrived at its site, to a replica that can
// take it: the replica that served the call's session before (its context
// is likely in that replica's prefix cache), or for a trace request one
// whose cache holds the prompt's first block, else the one with the fewest
// calls. When none can, the call waits in the site's queue (FIFO) until
// one can; a site whose queue is full drops it.
func (e *engine) onAtServer(c int32, att uint32, now sim.Time) {
	cl := &e.calls[c]
	if cl.abandoned {
		e.freeCall(c)
		return
	}
	if cl.att != att {
		return
	}
	p := &e.pools[cl.pool]
	if p.down > 0 || p.live == 0 {
		// The site went down while the request was on its way.
		e.failAttempt(c, now, failDown, -1)
		return
	}
	if p.scale != nil {
		if ready, prov := e.counts(p); ready == 0 || (prov > 0 && p.queueLen() > 0) {
			cl.cold = true // waits for a replica that is not up yet
			if ready+prov == 0 {
				e.scaleTo(int(cl.pool), 1, now) // scale from zero at once
			}
		}
	}
	best := -1
	if p.queueLen() == 0 {
		if cl.sess >= 0 {
			if lr := e.sess[cl.sess].lastRep; lr >= int32(p.first) && lr < int32(p.first+p.n) && e.reps[lr].canTake(cl.pre) {
				best = int(lr)
			}
		}
		if cl.trace > 0 && best < 0 {
			// Prefix-aware: a replica that caches the prompt's first block.
			if hs := e.traces[cl.trace-1].t.At(int(cl.traceIdx)).Hash; len(hs) > 0 {
				for i := p.first; i < p.first+p.n; i++ {
					if r := &e.reps[i]; r.caching && r.cache.has(hs[0]|traceKeyBit) && r.canTake(cl.pre) &&
						(best < 0 || r.active() < e.reps[best].active()) {
						best = i
					}
				}
			}
		}
		if best < 0 {
			for i := p.first; i < p.first+p.n; i++ {
				if r := &e.reps[i]; r.canTake(cl.pre) && (best < 0 || r.active() < e.reps[best].active()) {
					best = i
				}
			}
		}
	}
	if best >= 0 {
		e.assign(best, c, now)
		return
	}
	if p.queueLen() >= e.st.MaxQueuePerReplica*p.n {
		e.dropCall(c, now)
		return
	}
	p.queue = append(p.queue, c)
}

func (e *engine) dropCall(c int32, now sim.Time) {
	cl := &e.calls[c]
	e.trace(cl, now, true)
	if cl.measured {
		e.m.wl[cl.wl].reqDropped++
	}
	e.faultCount(cl, func(fc *faultCounts) { fc.dropped++ })
	if cl.sess >= 0 {
		e.dropSession(cl.sess)
	}
	e.freeCall(c)
}

// finish is called when call c produced its last token at now.
func (e *engine) finish(c int32, now sim.Time) {
	cl := &e.calls[c]
	cl.att = 0
	if cl.tries > 0 {
		if cl.measured {
			e.m.wl[cl.wl].afterRetry++
		}
		e.faultCount(cl, func(fc *faultCounts) { fc.afterRetry++ })
	}
	e.pools[cl.pool].observeResidence((now - cl.admitted).Seconds())
	if cl.measured {
		e.m.recordCall(e, cl, now)
		loc := e.pools[cl.pool].loc
		e.egress(float64(cl.output)*e.w.Net.BytesPerToken, loc, int(cl.origin), cl.client, true)
		if tl := e.w.Net.TelemetryLoc; tl >= 0 {
			e.egress(e.w.Net.TelemetryBytes, loc, tl, false, true)
		}
	}
	e.trace(cl, now, false)
	if cl.sess >= 0 {
		s := &e.sess[cl.sess]
		s.lastRep = cl.rep
		s.shared = cl.prompt + cl.output
		s.bd[bdNetwork] += (cl.atServer - cl.issued).Seconds() + cl.downS
		s.bd[bdQueue] += (cl.admitted - cl.atServer).Seconds()
		s.bd[bdCompute] += (now - cl.admitted).Seconds()
		e.k.Schedule(now+sim.FromSeconds(cl.downS), prioOther, evCallBack, c, 0)
		return
	}
	e.freeCall(c)
}

// busyByHour adds in of busy time starting at from (both within the
// window) to the replica's pool, split over the hours of the window.
func (e *engine) busyByHour(r *replica, from sim.Time, in sim.Time) {
	p := &e.pools[r.pool]
	hour := sim.FromSeconds(3600)
	for t, left := from, in; left > 0; {
		h := int((t - e.winStart) / hour)
		end := min(t+left, e.winStart+sim.Time(h+1)*hour)
		if h >= 0 && h < len(p.busyHr) {
			p.busyHr[h] += (end - t).Seconds()
		}
		left -= end - t
		t = end
	}
}
