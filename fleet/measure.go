package fleet

import (
	"math"

	"github.com/fleetsim/fleetsim/metrics"
	"github.com/fleetsim/fleetsim/results"
	"github.com/fleetsim/fleetsim/sim"
)

// wlMeter accumulates one workload's measurements. Latencies stream into
// bounded histograms; nothing grows with the number of requests.
type wlMeter struct {
	reqArrived, reqCompleted, reqDropped, spilled   int64
	reqFailed, reqTimedOut, retries, afterRetry     int64
	coldMisses                                      int64
	sesArrived, sesCompleted, sesDropped, sesFailed int64
	ttft, tpot, e2e, task                           *metrics.Histogram
	bd                                              [5]float64
	sloWithin                                       []int64
}

type poolMeter struct {
	queueByHour      []*metrics.Histogram
	requests, tokens int64
	prompt, hit      int64 // prompt tokens of completed calls, and those found in the prefix cache
	preemptions      int64
	queue            *metrics.Histogram
}

type meters struct {
	wl                     []wlMeter
	pool                   []poolMeter
	egressBytes, egressUSD float64
}

func newMeters(w *World, pools []pool) meters {
	m := meters{wl: make([]wlMeter, len(w.Workloads)), pool: make([]poolMeter, len(pools))}
	for i := range m.wl {
		m.wl[i] = wlMeter{
			ttft: metrics.NewHistogram(), tpot: metrics.NewHistogram(),
			e2e: metrics.NewHistogram(), task: metrics.NewHistogram(),
			sloWithin: make([]int64, len(w.Workloads[i].SLOs)),
		}
	}
	hours := max(int(math.Ceil(w.Run.Window.Seconds()/3600)), 1)
	for i := range m.pool {
		m.pool[i].queue = metrics.NewHistogram()
		m.pool[i].queueByHour = make([]*metrics.Histogram, hours)
	}
	return m
}

// recordCall measures a model call whose last token was produced at now.
func (m *meters) recordCall(e *engine, cl *call, now sim.Time) {
	wm := &m.wl[cl.wl]
	// From the first attempt: a retried call's latency includes its failed attempts.
	ttft := (cl.firstTok - cl.first).Seconds() + cl.downS
	e2e := (now - cl.first).Seconds() + cl.downS
	tpot := 0.0
	if cl.output > 1 {
		tpot = (now - cl.firstTok).Seconds() / float64(cl.output-1)
		wm.tpot.Add(tpot * 1000)
	}
	wm.ttft.Add(ttft * 1000)
	wm.e2e.Add(e2e * 1000)
	wm.reqCompleted++
	missed := false
	for i, slo := range e.w.Workloads[cl.wl].SLOs {
		v := math.Inf(1)
		switch slo.Metric {
		case MetricTTFT:
			v = ttft
		case MetricTPOT:
			v = tpot
		case MetricE2E:
			v = e2e
		}
		if v <= slo.MaxS {
			wm.sloWithin[i]++
		} else if slo.Metric != MetricTask {
			missed = true
		}
	}
	if missed && cl.cold {
		wm.coldMisses++
	}
	for fi := range e.faults {
		if e.inFault(fi, cl.first) {
			fm := &e.faults[fi].wl[cl.wl]
			fm.req.completed++
			fm.ttft.Add(ttft * 1000)
			fm.e2e.Add(e2e * 1000)
			for i, slo := range e.w.Workloads[cl.wl].SLOs {
				v := math.Inf(1)
				switch slo.Metric {
				case MetricTTFT:
					v = ttft
				case MetricTPOT:
					v = tpot
				case MetricE2E:
					v = e2e
				}
				if v <= slo.MaxS {
					fm.sloWithin[i]++
				}
			}
		}
	}
	pm := &m.pool[cl.pool]
	pm.requests++
	pm.tokens += int64(cl.prompt + cl.output)
	pm.prompt += int64(cl.prompt)
	pm.hit += int64(min(cl.hit, cl.prompt))
	q := (cl.admitted - cl.atServer).Seconds() * 1000
	pm.queue.Add(q)
	if h := int((cl.atServer - e.winStart).Seconds() / 3600); h >= 0 && h < len(pm.queueByHour) {
		if pm.queueByHour[h] == nil {
			pm.queueByHour[h] = metrics.NewHistogram()
		}
		pm.queueByHour[h].Add(q)
	}
}

// recordTask measures an agent session that ended at end.
func (m *meters) recordTask(e *engine, s *session, end sim.Time) {
	wm := &m.wl[s.wl]
	d := (end - s.start).Seconds()
	wm.task.Add(d)
	wm.sesCompleted++
	for fi := range e.faults {
		if e.inFault(fi, s.start) {
			fm := &e.faults[fi].wl[s.wl]
			fm.ses.completed++
			fm.task.Add(d)
			for i, slo := range e.w.Workloads[s.wl].SLOs {
				if slo.Metric == MetricTask && d <= slo.MaxS {
					fm.sloWithin[i]++
				}
			}
		}
	}
	for i := range s.bd {
		wm.bd[i] += s.bd[i]
	}
	for i, slo := range e.w.Workloads[s.wl].SLOs {
		if slo.Metric == MetricTask && d <= slo.MaxS {
			wm.sloWithin[i]++
		}
	}
}

// round6 keeps six significant digits, so results do not depend on the last
// bits of floating-point arithmetic and read well.
func round6(v float64) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	p := math.Pow(10, 5-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}

func summary(h *metrics.Histogram) results.Summary {
	if h.Count() == 0 {
		return results.Summary{}
	}
	return results.Summary{
		Count: int64(h.Count()), Mean: round6(h.Mean()),
		P50: round6(h.Quantile(0.50)), P95: round6(h.Quantile(0.95)), P99: round6(h.Quantile(0.99)),
		Max: round6(h.Max()),
	}
}

// sloValue is the metric's value at percentile pct over all arrived items,
// counting the ones that never completed as infinitely slow; nil when the
// percentile falls among those.
func sloValue(h *metrics.Histogram, arrived int64, pct float64) *float64 {
	if arrived == 0 || h.Count() == 0 {
		return nil
	}
	q := pct / 100 * float64(arrived) / float64(h.Count())
	if q > 1 {
		return nil
	}
	v := round6(h.Quantile(q))
	return &v
}

// outcome turns the meters into the strategy's result.
func (e *engine) outcome() results.Strategy {
	st := e.st
	// Replicas still billed are billed to the end (bill is idempotent).
	end := min(max(e.k.Now(), e.winEnd), e.stopAt)
	for i := range e.reps {
		e.bill(i, end)
	}
	out := results.Strategy{Name: st.Name, Kind: st.Kind, Description: st.Description, Events: e.k.Processed()}
	// In flight: counted from the live slabs, not by subtraction, so the
	// conservation identity is a real check.
	reqLive := make([]int64, len(e.w.Workloads))
	sesLive := make([]int64, len(e.w.Workloads))
	for i := range e.calls {
		if c := &e.calls[i]; c.wl >= 0 && c.measured && !c.abandoned {
			reqLive[c.wl]++
		}
	}
	for i := range e.sess {
		if s := &e.sess[i]; s.wl >= 0 && s.measured {
			sesLive[s.wl]++
		}
	}
	windowH := e.w.Run.Window.Seconds() / 3600
	var busy, capacity float64
	var prompt, hit int64
	for pi, p := range e.pools {
		d := &st.Deployments[p.dep]
		site := e.w.Sites[p.site]
		var pb sim.Time
		joules := 0.0
		for r := p.first; r < p.first+p.n; r++ {
			rp := &e.reps[r]
			pb += rp.busyWin
			// Idle power only while the replica exists (is billed).
			joules += rp.joulesWin + rp.est.IdleWatts()*max(rp.billedWin-rp.busyWin, 0).Seconds()
		}
		kwh := joules / 3.6e6
		co2 := 0.0
		if site.HasCarbon {
			co2 = kwh * site.CarbonGPerKWh / 1000
			out.CarbonKg += co2
		}
		// Utilization is over the replica time billed: all of it for a fixed
		// fleet, the requested time under an autoscaler.
		util := 0.0
		if p.billed > 0 {
			util = pb.Seconds() / p.billed.Seconds()
		}
		busy += pb.Seconds() * float64(d.TP)
		capacity += p.billed.Seconds() * float64(d.TP)
		pm := &e.m.pool[pi]
		fixed := float64(p.gpus) * p.pricePerGPU
		cost := fixed
		if w := e.w.Run.Window.Seconds(); w > 0 {
			cost = p.billed.Seconds() / w * float64(d.TP) * p.pricePerGPU
		}
		rs := results.Site{
			Site: site.Name, Kind: string(site.Kind), Zone: site.Zone, Model: d.Model, GPU: d.GPU,
			Replicas: p.n, GPUs: p.gpus, CostPerHourUSD: round6(cost), Utilization: round6(util),
			Requests: pm.requests, Tokens: pm.tokens, QueueP95Ms: round6(pm.queue.Quantile(0.95)),
			EnergyKWh: round6(kwh), Preemptions: pm.preemptions, FixedCostPerHourUSD: round6(fixed),
			CarbonKg: round6(co2),
		}
		for _, sec := range p.byHour {
			rs.ReplicasByHour = append(rs.ReplicasByHour, round6(sec/3600))
		}
		loc := e.w.Locations[site.Loc]
		rs.Lat, rs.Lon = loc.Lat, loc.Lon
		win := e.w.Run.Window.Seconds()
		for h, busySec := range p.busyHr {
			span := math.Min(3600, win-float64(h)*3600)
			capSec := float64(p.n) * span
			if p.byHour != nil {
				capSec = p.byHour[h]
			}
			u := 0.0
			if capSec > 0 {
				u = busySec / capSec
			}
			rs.UtilizationByHour = append(rs.UtilizationByHour, round6(u))
			qp := 0.0
			if hh := pm.queueByHour[h]; hh != nil && hh.Count() > 0 {
				qp = round6(hh.Quantile(0.95))
			}
			rs.QueueP95MsByHour = append(rs.QueueP95MsByHour, qp)
		}
		out.CostSavedPerHourUSD += fixed - cost
		if windowH > 0 {
			rs.MeanPowerKW = round6(kwh / windowH)
			rs.EnergyCostPerHourUSD = round6(kwh * p.energyPrice / windowH)
			out.EnergyCostPerHourUSD += kwh * p.energyPrice / windowH
		}
		if pm.prompt > 0 {
			rs.PrefixHitRate = round6(float64(pm.hit) / float64(pm.prompt))
		}
		prompt += pm.prompt
		hit += pm.hit
		out.Preemptions += pm.preemptions
		out.EnergyKWh += kwh
		out.Sites = append(out.Sites, rs)
		out.GPUs += p.gpus
		out.CostPerHourUSD += cost
		out.Tokens += pm.tokens
	}
	if capacity > 0 {
		out.Utilization = round6(busy / capacity)
	}
	if windowH > 0 {
		out.MeanPowerKW = round6(out.EnergyKWh / windowH)
	}
	out.EnergyKWh = round6(out.EnergyKWh)
	out.EnergyCostPerHourUSD = round6(out.EnergyCostPerHourUSD)
	if prompt > 0 {
		out.PrefixHitRate = round6(float64(hit) / float64(prompt))
	}
	if out.Tokens > 0 {
		out.CostPerMillionTokensUSD = round6(out.CostPerHourUSD * windowH / float64(out.Tokens) * 1e6)
	}
	out.EgressGB = round6(e.m.egressBytes / 1e9)
	if windowH > 0 {
		out.EgressCostPerHourUSD = e.m.egressUSD / windowH
	}
	out.TotalCostPerHourUSD = round6(out.CostPerHourUSD + out.EnergyCostPerHourUSD + out.EgressCostPerHourUSD)
	out.EgressCostPerHourUSD = round6(out.EgressCostPerHourUSD)
	out.CarbonKg = round6(out.CarbonKg)
	out.CostPerHourUSD = round6(out.CostPerHourUSD)
	out.CostSavedPerHourUSD = round6(out.CostSavedPerHourUSD)
	for wi := range e.w.Workloads {
		wl := &e.w.Workloads[wi]
		wm := &e.m.wl[wi]
		r := results.Workload{
			Name: wl.Name, Kind: "chat",
			Requests: results.Counts{Arrived: wm.reqArrived, Completed: wm.reqCompleted, Dropped: wm.reqDropped,
				Failed: wm.reqFailed, TimedOut: wm.reqTimedOut, InFlight: reqLive[wi], Retries: wm.retries, CompletedAfterRetry: wm.afterRetry},
			Spilled: wm.spilled,
			TTFTMs:  summary(wm.ttft), TPOTMs: summary(wm.tpot), E2EMs: summary(wm.e2e),
			ColdStartMisses: wm.coldMisses,
			TTFTCDFMs:       cdf(wm.ttft, 1), E2ECDFMs: cdf(wm.e2e, 1),
		}
		if wl.Agent {
			r.Kind = "agent"
			r.Sessions = &results.Counts{Arrived: wm.sesArrived, Completed: wm.sesCompleted, Dropped: wm.sesDropped, Failed: wm.sesFailed, InFlight: sesLive[wi]}
			ts := summary(wm.task)
			r.TaskS = &ts
			r.TaskCDFS = cdf(wm.task, 1)
			bd := results.Breakdown{}
			if n := float64(wm.sesCompleted); n > 0 {
				bd = results.Breakdown{
					Network: round6(wm.bd[bdNetwork] / n), Queueing: round6(wm.bd[bdQueue] / n),
					Compute: round6(wm.bd[bdCompute] / n), Tool: round6(wm.bd[bdTool] / n), Think: round6(wm.bd[bdThink] / n),
				}
			}
			r.TaskBreakdownS = &bd
		}
		r.SLOs = []results.SLO{}
		for i, slo := range wl.SLOs {
			arrived, h, scale := wm.reqArrived, wm.e2e, 1.0
			switch slo.Metric {
			case MetricTTFT:
				h = wm.ttft
			case MetricTPOT:
				h = wm.tpot
			case MetricTask:
				arrived, h, scale = wm.sesArrived, wm.task, 1000
			}
			res := results.SLO{Metric: slo.Metric, Percentile: slo.Percentile, MaxMs: round6(slo.MaxS * 1000)}
			if v := sloValue(h, arrived, slo.Percentile); v != nil {
				ms := round6(*v * scale)
				res.ValueMs = &ms
			}
			if arrived > 0 {
				res.Attainment = round6(float64(wm.sloWithin[i]) / float64(arrived))
				res.Met = float64(wm.sloWithin[i]) >= slo.Percentile/100*float64(arrived)
			} else {
				res.Met = true
			}
			if res.Met {
				out.SLOsMet++
			}
			out.SLOs++
			r.SLOs = append(r.SLOs, res)
		}
		out.Workloads = append(out.Workloads, r)
	}
	out.Faults = e.faultResults()
	return out
}

// faultResults reports each fault: its window, the replicas it took down
// and the work it threw away, and per workload how the calls and sessions
// that started in its window fared.
func (e *engine) faultResults() []results.Fault {
	var out []results.Fault
	for fi := range e.faults {
		f := &e.w.Faults[fi]
		fs := &e.faults[fi]
		end := min(f.End, e.stopAt)
		rf := results.Fault{Name: f.Name, Kind: f.Kind.String(),
			StartS: round6((f.Start - e.winStart).Seconds()), EndS: round6((end - e.winStart).Seconds()),
			ReplicasDown: fs.maxDown, LostTokens: fs.lostTokens}
		for wi := range e.w.Workloads {
			wl := &e.w.Workloads[wi]
			fm := &fs.wl[wi]
			c := fm.req
			fw := results.FaultWorkload{Name: wl.Name,
				Requests: results.Counts{Arrived: c.arrived, Completed: c.completed, Failed: c.failed, TimedOut: c.timedOut,
					Dropped: c.dropped, Retries: c.retries, CompletedAfterRetry: c.afterRetry},
				TTFTMs: summary(fm.ttft), E2EMs: summary(fm.e2e), SLOs: []results.SLO{}}
			fw.Requests.InFlight = max(c.arrived-c.completed-c.failed-c.timedOut-c.dropped, 0)
			arrived := c.arrived
			if wl.Agent {
				sc := fm.ses
				fw.Sessions = &results.Counts{Arrived: sc.arrived, Completed: sc.completed, Failed: sc.failed, Dropped: sc.dropped,
					InFlight: max(sc.arrived-sc.completed-sc.failed-sc.dropped, 0)}
				ts := summary(fm.task)
				fw.TaskS = &ts
			}
			for i, slo := range wl.SLOs {
				n := arrived
				if slo.Metric == MetricTask {
					n = fm.ses.arrived
				}
				rs := results.SLO{Metric: slo.Metric, Percentile: slo.Percentile, MaxMs: round6(slo.MaxS * 1000)}
				h, scale := fm.e2e, 1.0
				switch slo.Metric {
				case MetricTTFT:
					h = fm.ttft
				case MetricTask:
					h, scale = fm.task, 1000
				}
				if slo.Metric != MetricTPOT {
					if v := sloValue(h, n, slo.Percentile); v != nil {
						ms := round6(*v * scale)
						rs.ValueMs = &ms
					}
				}
				if n > 0 {
					rs.Attainment = round6(float64(fm.sloWithin[i]) / float64(n))
					rs.Met = float64(fm.sloWithin[i]) >= slo.Percentile/100*float64(n)
				} else {
					rs.Met = true
				}
				fw.SLOs = append(fw.SLOs, rs)
			}
			rf.Workloads = append(rf.Workloads, fw)
		}
		out = append(out, rf)
	}
	return out
}

// cdf is the histogram's values at results.CDFQuantiles, times scale; nil
// when it is empty.
func cdf(h *metrics.Histogram, scale float64) []float64 {
	if h.Count() == 0 {
		return nil
	}
	out := make([]float64, len(results.CDFQuantiles))
	for i, q := range results.CDFQuantiles {
		out[i] = round6(h.Quantile(q) * scale)
	}
	return out
}
