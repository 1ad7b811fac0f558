package fleet

import (
	"math"
	"math/rand/v2"

	"github.com/fleetsim/fleetsim/sim"
)

// scaler is a pool's autoscaler state.
type scaler struct {
	as   *Autoscale
	rng  *rand.Rand
	hist []scaleRec // recent recommendations, oldest first
}

type scaleRec struct {
	at      sim.Time
	desired int
}

// Replica states under an autoscaler (fields of replica): off (released,
// not billed), prov (requested: billed, not serving yet), draining
// (scaled down: finishing its calls, taking no new ones).

// initAutoscale sets up pool p's autoscaler: every replica starts ready
// and billed, and the first evaluation is one interval in.
func (e *engine) initAutoscale(pi int, as *Autoscale) {
	p := &e.pools[pi]
	p.scale = &scaler{as: as, rng: sim.Stream(e.w.Run.Seed, "autoscale/"+e.st.Name+"/"+e.w.Sites[p.site].Name+"/"+itoa(pi))}
	e.k.Schedule(as.Interval, prioOther, evAutoscale, int32(pi), 0)
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{digits[i%10]}, b...)
	}
	return string(b)
}

// counts returns pool p's replicas that serve (ready), that are being
// provisioned, and that are billed and not draining.
func (e *engine) counts(p *pool) (ready, prov int) {
	for ri := p.first; ri < p.first+p.n; ri++ {
		r := &e.reps[ri]
		switch {
		case r.off, r.draining, r.down > 0:
		case r.prov:
			prov++
		default:
			ready++
		}
	}
	return ready, prov
}

// onAutoscale evaluates pool pi's autoscaler at now, then schedules the next evaluation.
func (e *engine) onAutoscale(pi int, now sim.Time) {
	p := &e.pools[pi]
	sc := p.scale
	as := sc.as
	ready, prov := e.counts(p)
	m := float64(p.queueLen())
	if !as.Queue {
		for ri := p.first; ri < p.first+p.n; ri++ {
			if r := &e.reps[ri]; !r.off && !r.prov {
				m += float64(len(r.seqs) + len(r.next) + len(r.preempted))
			}
		}
	}
	desired := int(math.Ceil(m/as.Target - 1e-9))
	sc.hist = append(sc.hist, scaleRec{at: now, desired: desired})
	keep := max(as.UpWindow, as.DownWindow)
	k := 0
	for k < len(sc.hist)-1 && sc.hist[k].at < now-keep {
		k++
	}
	sc.hist = sc.hist[k:]
	up, down := desired, desired
	for _, h := range sc.hist {
		if h.at >= now-as.UpWindow {
			up = min(up, h.desired)
		}
		if h.at >= now-as.DownWindow {
			down = max(down, h.desired)
		}
	}
	current := ready + prov
	target := current
	switch {
	case up > current:
		target = up
	case down < current:
		target = down
	}
	target = min(max(target, as.MinReplicas), p.n)
	e.scaleTo(pi, target, now)
	if next := now + as.Interval; next <= e.stopAt {
		e.k.Schedule(next, prioOther, evAutoscale, int32(pi), 0)
	}
}

// scaleTo brings pool pi's billed, non-draining replicas to target:
// scaling up re-enables draining replicas first, then requests released
// ones (lowest index first); scaling down cancels pending requests first,
// then drains ready replicas (highest index first).
func (e *engine) scaleTo(pi, target int, now sim.Time) {
	p := &e.pools[pi]
	ready, prov := e.counts(p)
	current := ready + prov
	for ri := p.first; ri < p.first+p.n && current < target; ri++ {
		if r := &e.reps[ri]; r.draining {
			r.draining = false
			current++
			if !r.busy {
				e.startIteration(ri, now)
			}
		}
	}
	for ri := p.first; ri < p.first+p.n && current < target; ri++ {
		r := &e.reps[ri]
		if !r.off || r.down > 0 {
			continue
		}
		as := p.scale.as
		cold := as.LoadS + as.WarmupS
		if as.ProvisioningS != nil {
			cold += max(as.ProvisioningS.Sample(p.scale.rng), 0)
		}
		r.off, r.prov = false, true
		r.billedFrom = now
		r.provGen++
		r.readyAt = now + sim.FromSeconds(cold)
		e.k.Schedule(r.readyAt, prioOther, evReplicaReady, int32(ri), r.provGen)
		current++
	}
	for ri := p.first + p.n - 1; ri >= p.first && current > target; ri-- {
		if r := &e.reps[ri]; r.prov {
			r.prov, r.off = false, true
			r.provGen++
			e.bill(ri, now)
			current--
		}
	}
	for ri := p.first + p.n - 1; ri >= p.first && current > target; ri-- {
		r := &e.reps[ri]
		if r.off || r.draining || r.prov {
			continue
		}
		r.draining = true
		current--
		if r.active() == 0 && !r.busy {
			e.release(ri, now)
		}
	}
}

// onReplicaReady makes a provisioned replica serve.
func (e *engine) onReplicaReady(ri int, gen uint32, now sim.Time) {
	r := &e.reps[ri]
	if !r.prov || r.provGen != gen {
		return
	}
	r.prov = false
	if !r.busy {
		e.startIteration(ri, now)
	}
}

// release frees a drained replica: it stops being billed.
func (e *engine) release(ri int, now sim.Time) {
	r := &e.reps[ri]
	r.draining, r.off = false, true
	e.bill(ri, now)
}

// bill adds replica ri's billed time since billedFrom up to now (clipped to
// the window) to its pool, by hour of the window, and stops billing it.
func (e *engine) bill(ri int, now sim.Time) {
	r := &e.reps[ri]
	if r.billedFrom < 0 {
		return
	}
	p := &e.pools[r.pool]
	from, to := max(r.billedFrom, e.winStart), min(now, e.winEnd)
	r.billedFrom = -1
	if to <= from {
		return
	}
	p.billed += to - from
	r.billedWin += to - from
	if p.byHour == nil {
		return
	}
	hour := sim.FromSeconds(3600)
	for t := from; t < to; {
		h := int((t - e.winStart) / hour)
		end := min(to, e.winStart+sim.Time(h+1)*hour)
		if h < len(p.byHour) {
			p.byHour[h] += (end - t).Seconds()
		}
		t = end
	}
}

// coldWait is how long a call arriving at a pool without a ready replica
// waits for one: the soonest pending replica's remaining time, or a whole
// cold start when none is pending (scale from zero starts one at once).
func (e *engine) coldWait(p *pool, now sim.Time) float64 {
	best := math.Inf(1)
	for ri := p.first; ri < p.first+p.n; ri++ {
		if r := &e.reps[ri]; r.prov {
			best = min(best, (r.readyAt - now).Seconds())
		}
	}
	if !math.IsInf(best, 1) {
		return max(best, 0)
	}
	as := p.scale.as
	cold := as.LoadS + as.WarmupS
	if as.ProvisioningS != nil {
		cold += as.ProvisioningS.Mean()
	}
	return cold
}
