package fleet

import "math"

// poolOrder returns the pools by RTT from loc, nearest first (ties by index).
func (e *engine) poolOrder(loc int) []int32 {
	if o := e.order[loc]; o != nil {
		return o
	}
	o := make([]int32, len(e.pools))
	for i := range o {
		o[i] = int32(i)
	}
	rtt := func(p int32) float64 { return e.rttMs(loc, e.pools[p].loc) }
	// Insertion sort: stable, and pools are few.
	for i := 1; i < len(o); i++ {
		for j := i; j > 0 && rtt(o[j]) < rtt(o[j-1]); j-- {
			o[j], o[j-1] = o[j-1], o[j]
		}
	}
	e.order[loc] = o
	return o
}

// eligible says whether pool p may serve call cl: the deployment serves
// the workload and takes its prompt length, the call fits the replica's KV
// cache, and the site is in the workload's residency zone.
func (e *engine) eligible(p int, cl *call) bool {
	pl := &e.pools[p]
	d := &e.st.Deployments[pl.dep]
	if !d.Serves[cl.wl] {
		return false
	}
	if d.MaxPromptTokens > 0 && int(cl.prompt) > d.MaxPromptTokens {
		return false
	}
	if int(cl.prompt+cl.output) > pl.kvCap {
		return false
	}
	wl := &e.w.Workloads[cl.wl]
	switch {
	case wl.ZoneFromUser:
		if z := e.w.Users[cl.user].Zone; z != "" && pl.zone != z {
			return false
		}
	case wl.Zone != "":
		if pl.zone != wl.Zone {
			return false
		}
	}
	return true
}

// poolWait predicts how long a call with a `need`-token prompt would wait at
// pool p: zero when a replica can take it now, else its place in the site's
// queue times the mean residence of a call per active slot. full says the
// site's queue is at its limit.
func (e *engine) poolWait(p int, need int32) (wait float64, full bool) {
	pl := &e.pools[p]
	q := pl.queueLen()
	if q >= e.st.MaxQueuePerReplica*pl.n {
		return math.Inf(1), true
	}
	if pl.scale != nil {
		if ready, _ := e.counts(pl); ready == 0 {
			return e.coldWait(pl, e.k.Now()), false
		}
	}
	active := 0
	for i := pl.first; i < pl.first+pl.n; i++ {
		r := &e.reps[i]
		if q == 0 && r.canTake(need) {
			return 0, false
		}
		active += r.active()
	}
	res := pl.resEWMA
	if res == 0 {
		res = 1e-3 // no history yet: still prefer shorter queues
	}
	return float64(q+1) * res / float64(max(active, 1)), false
}

// Why route found no pool.
const (
	routeOK   = iota
	routeFull // every eligible, reachable site's queue is full (or none could ever serve the call)
	routeDown // the sites that could serve the call are down or unreachable
)

// route picks the pool for call cl: the nearest eligible pool that is up
// and reachable and whose predicted wait is within the spill-over
// threshold; when none is, the one with the least RTT plus predicted wait.
// It returns -1 when no pool can take the call, and why; and whether the
// call was spilled away from the nearest eligible pool.
func (e *engine) route(cl *call) (int, bool, int) {
	nearest, best, bestScore := -1, -1, math.Inf(1)
	need := cl.pre
	spill := e.st.SpillWait.Seconds()
	unavailable := false
	for _, p32 := range e.poolOrder(int(cl.origin)) {
		p := int(p32)
		if !e.eligible(p, cl) {
			continue
		}
		pl := &e.pools[p]
		rtt := e.rttMs(int(cl.origin), pl.loc)
		if pl.down > 0 || pl.live == 0 || math.IsInf(rtt, 1) {
			unavailable = true
			continue
		}
		if nearest < 0 {
			nearest = p
		}
		wait, full := e.poolWait(p, need)
		if full {
			continue
		}
		if spill <= 0 || wait <= spill {
			return p, p != nearest, routeOK
		}
		score := rtt/1000 + wait
		if score < bestScore {
			best, bestScore = p, score
		}
	}
	if best >= 0 {
		return best, best != nearest, routeOK
	}
	if unavailable && nearest < 0 {
		return -1, false, routeDown
	}
	return -1, false, routeFull
}
