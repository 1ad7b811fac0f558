package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/fleetsim/fleetsim/results"
)

// Plot is one figure of a report, rendered as a standalone SVG document.
type Plot struct {
	// Name is the figure's file name without extension: unique within a
	// report, made of [a-z0-9-] only, so it is safe as a file name
	// (for example "cdf-1-chat-ttft").
	Name string
	// Title says what the figure shows. It contains user-provided names:
	// escape it where it is written into markup.
	Title string
	// SVG is the figure. Text drawn in it is XML-escaped by the renderer.
	SVG []byte
}

// Figure sizes. A US-letter or A4 text column is about 16 cm wide.
var (
	plotWidth  = 16 * vg.Centimeter
	plotHeight = 10 * vg.Centimeter
	mapWidth   = 18 * vg.Centimeter
	mapHeight  = 10 * vg.Centimeter
	siteHeight = 15 * vg.Centimeter
)

// palette is the Okabe-Ito colour-blind-safe palette (Okabe and Ito,
// "Color Universal Design", 2008; https://jfly.uni-koeln.de/color/),
// without its black, which the axes use.
var palette = []color.RGBA{
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0xF0, 0xE4, 0x42, 0xFF}, // yellow
}

func paletteColor(i int) color.Color { return palette[i%len(palette)] }

// dashes tells lines apart where colour does not (print, colour blindness).
var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(2)},
	{vg.Points(2), vg.Points(2)},
	{vg.Points(6), vg.Points(2), vg.Points(2), vg.Points(2)},
}

// Plots renders every figure r has data for, in a fixed order: latency
// CDFs per workload (TTFT, then e2e for chat or task time for agents);
// agent-task breakdowns per agent workload; cost versus p95 per workload;
// site utilization and queue p95 by hour per strategy; site and user maps
// per strategy. The output depends only on r: the same result gives the
// same bytes.
func Plots(r results.Result) ([]Plot, error) {
	var out []Plot
	for _, f := range figures(r) {
		b, err := f.render()
		if err != nil {
			return nil, fmt.Errorf("plot %s: %w", f.name, err)
		}
		out = append(out, Plot{Name: f.name, Title: f.title, SVG: b})
	}
	return out, nil
}

// figure is a plot to be rendered.
type figure struct {
	name, title string
	render      func() ([]byte, error)
}

// figures lists the figures r has data for, in the order of Plots.
func figures(r results.Result) []figure {
	if len(r.Strategies) == 0 {
		return nil
	}
	var out []figure
	wls := r.Strategies[0].Workloads
	for wi, wl := range wls {
		id := fmt.Sprintf("%d-%s", wi+1, slug(wl.Name))
		out = appendIf(out, hasCDF(r, wi, cdfTTFT), figure{"cdf-" + id + "-ttft", wl.Name + ": TTFT CDF", func() ([]byte, error) {
			return cdfPlot(r, wi, cdfTTFT)
		}})
		second := cdfE2E
		if wl.Kind == "agent" {
			second = cdfTask
		}
		out = appendIf(out, hasCDF(r, wi, second), figure{"cdf-" + id + "-" + second.name, wl.Name + ": " + second.title + " CDF", func() ([]byte, error) {
			return cdfPlot(r, wi, second)
		}})
	}
	for wi, wl := range wls {
		has := wl.Kind == "agent" && anyStrategy(r.Strategies, func(s *results.Strategy) bool {
			return wi < len(s.Workloads) && s.Workloads[wi].TaskBreakdownS != nil
		})
		out = appendIf(out, has, figure{fmt.Sprintf("breakdown-%d-%s", wi+1, slug(wl.Name)), wl.Name + ": mean agent-task time by component", func() ([]byte, error) {
			return breakdownPlot(r, wi)
		}})
	}
	for wi, wl := range wls {
		has := anyStrategy(r.Strategies, func(s *results.Strategy) bool { _, ok := headlineP95(s, wi); return ok })
		out = appendIf(out, has, figure{fmt.Sprintf("cost-%d-%s", wi+1, slug(wl.Name)), wl.Name + ": total cost versus " + headlineName(wl) + " p95", func() ([]byte, error) {
			return costPlot(r, wi)
		}})
	}
	for si, s := range r.Strategies {
		has := false
		for _, site := range s.Sites {
			has = has || len(site.UtilizationByHour) > 0 || len(site.QueueP95MsByHour) > 0
		}
		out = appendIf(out, has, figure{fmt.Sprintf("sites-%d-%s", si+1, slug(s.Name)), s.Name + ": GPU utilization and queue p95 per site by hour", func() ([]byte, error) {
			return sitesPlot(r, si)
		}})
	}
	for si, s := range r.Strategies {
		out = appendIf(out, len(s.Sites) > 0 || len(r.Users) > 0, figure{fmt.Sprintf("map-%d-%s", si+1, slug(s.Name)), s.Name + ": sites and user groups", func() ([]byte, error) {
			return mapPlot(r, si)
		}})
	}
	return out
}

func appendIf(out []figure, ok bool, f figure) []figure {
	if ok {
		return append(out, f)
	}
	return out
}

// slug turns a user-provided name into [a-z0-9-], at most 40 bytes.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if out == "" {
		return "x"
	}
	return out
}

// cdfMetric picks one of a workload's CDFs.
type cdfMetric struct {
	name, title, unit string
	get               func(w *results.Workload) []float64
}

var (
	cdfTTFT = cdfMetric{"ttft", "TTFT", "ms", func(w *results.Workload) []float64 { return w.TTFTCDFMs }}
	cdfE2E  = cdfMetric{"e2e", "request end-to-end time", "ms", func(w *results.Workload) []float64 { return w.E2ECDFMs }}
	cdfTask = cdfMetric{"task", "agent-task time", "s", func(w *results.Workload) []float64 { return w.TaskCDFS }}
)

func hasCDF(r results.Result, wi int, m cdfMetric) bool {
	return anyStrategy(r.Strategies, func(s *results.Strategy) bool {
		return wi < len(s.Workloads) && len(m.get(&s.Workloads[wi])) == len(results.CDFQuantiles)
	})
}

// cdfPlot draws one line per strategy through the points (latency at
// results.CDFQuantiles[i], CDFQuantiles[i]), on a log latency axis when
// every latency is positive.
func cdfPlot(r results.Result, wi int, m cdfMetric) ([]byte, error) {
	p := plot.New()
	wl := r.Strategies[0].Workloads[wi]
	p.Title.Text = wl.Name + ": " + m.title + " CDF"
	p.X.Label.Text = m.title + " (" + m.unit + ")"
	p.Y.Label.Text = "fraction completed within"
	p.Y.Min, p.Y.Max = 0, 1
	p.Add(plotter.NewGrid())
	logX := true
	for i := range r.Strategies {
		if wi >= len(r.Strategies[i].Workloads) {
			continue
		}
		for _, v := range m.get(&r.Strategies[i].Workloads[wi]) {
			logX = logX && v > 0
		}
	}
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	for si := range r.Strategies {
		s := &r.Strategies[si]
		if wi >= len(s.Workloads) {
			continue
		}
		vs := m.get(&s.Workloads[wi])
		if len(vs) != len(results.CDFQuantiles) {
			continue
		}
		xys := make(plotter.XYs, len(vs))
		for i, v := range vs {
			xys[i] = plotter.XY{X: v, Y: results.CDFQuantiles[i]}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.Color = paletteColor(si)
		l.Width = vg.Points(1.5)
		l.Dashes = dashes[si%len(dashes)]
		p.Add(l)
		p.Legend.Add(s.Name, l)
	}
	p.Legend.Left = false
	p.Legend.Top = false
	p.Legend.XOffs = -vg.Millimeter
	p.Legend.YOffs = 2 * vg.Millimeter
	return render(p, plotWidth, plotHeight)
}

// breakdownPart is one component of the agent-task time breakdown.
var breakdownParts = []struct {
	name string
	get  func(b *results.Breakdown) float64
}{
	{"network", func(b *results.Breakdown) float64 { return b.Network }},
	{"queueing", func(b *results.Breakdown) float64 { return b.Queueing }},
	{"compute", func(b *results.Breakdown) float64 { return b.Compute }},
	{"tool", func(b *results.Breakdown) float64 { return b.Tool }},
	{"think", func(b *results.Breakdown) float64 { return b.Think }},
}

// breakdownPlot stacks the mean task time's components, one bar per strategy.
func breakdownPlot(r results.Result, wi int) ([]byte, error) {
	p := plot.New()
	wl := r.Strategies[0].Workloads[wi]
	p.Title.Text = wl.Name + ": mean agent-task time by component"
	p.Y.Label.Text = "mean task time (s)"
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	n := len(r.Strategies)
	width := vg.Length(float64(plotWidth) * 0.5 / float64(n+1))
	var below *plotter.BarChart
	for ci, part := range breakdownParts {
		vs := make(plotter.Values, n)
		for si := range r.Strategies {
			s := &r.Strategies[si]
			if wi < len(s.Workloads) && s.Workloads[wi].TaskBreakdownS != nil {
				vs[si] = part.get(s.Workloads[wi].TaskBreakdownS)
			}
		}
		b, err := plotter.NewBarChart(vs, width)
		if err != nil {
			return nil, err
		}
		b.Color = paletteColor(ci)
		b.LineStyle.Width = 0
		if below != nil {
			b.StackOn(below)
		}
		below = b
		p.Add(b)
		p.Legend.Add(part.name, b)
	}
	names := make([]string, n)
	top := 0.0
	for si, s := range r.Strategies {
		names[si] = s.Name
		if wi < len(s.Workloads) && s.Workloads[wi].TaskBreakdownS != nil {
			sum := 0.0
			for _, part := range breakdownParts {
				sum += part.get(s.Workloads[wi].TaskBreakdownS)
			}
			top = math.Max(top, sum)
		}
	}
	p.NominalX(names...)
	// Headroom above the tallest bar for the legend.
	p.Y.Max = math.Max(p.Y.Max, 1.4*top)
	p.Legend.Top = true
	return render(p, plotWidth, plotHeight)
}

// headlineP95 is the p95 that decides a workload, in seconds: task time
// for agents, request end-to-end time for chat.
func headlineP95(s *results.Strategy, wi int) (float64, bool) { return headlineQ(s, wi, 95) }

// headlineQ is the headline latency's p95 or p99 (q) in seconds: agent
// task time or request end-to-end.
func headlineQ(s *results.Strategy, wi int, q int) (float64, bool) {
	if wi >= len(s.Workloads) {
		return 0, false
	}
	w := &s.Workloads[wi]
	pick := func(p95, p99 float64) float64 {
		if q == 99 {
			return p99
		}
		return p95
	}
	if w.Kind == "agent" {
		if w.TaskS == nil || w.TaskS.Count == 0 {
			return 0, false
		}
		return pick(w.TaskS.P95, w.TaskS.P99), true
	}
	if w.E2EMs.Count == 0 {
		return 0, false
	}
	return pick(w.E2EMs.P95, w.E2EMs.P99) / 1000, true
}

func headlineName(w results.Workload) string {
	if w.Kind == "agent" {
		return "task time"
	}
	return "request e2e"
}

// costPlot places each strategy at (total cost per hour, p95) as a filled
// dot and at (cost, p99) as a ring joined to it, labelled, and draws the
// cost-p95 Pareto frontier: the strategies no other strategy beats on both
// cost and p95.
func costPlot(r results.Result, wi int) ([]byte, error) {
	p := plot.New()
	wl := r.Strategies[0].Workloads[wi]
	p.Title.Text = wl.Name + ": total cost versus " + headlineName(wl) + " p95 and p99"
	p.X.Label.Text = "total cost ($/hour: GPU + energy + egress)"
	p.Y.Label.Text = headlineName(wl) + " p95 (dot), p99 (ring) (s)"
	p.Add(plotter.NewGrid())
	var xys, tails plotter.XYs
	var labels []string
	var colors []color.Color
	for si := range r.Strategies {
		s := &r.Strategies[si]
		v, ok := headlineQ(s, wi, 95)
		if !ok {
			continue
		}
		xys = append(xys, plotter.XY{X: s.TotalCostPerHourUSD, Y: v})
		v99, _ := headlineQ(s, wi, 99)
		tails = append(tails, plotter.XY{X: s.TotalCostPerHourUSD, Y: v99})
		labels = append(labels, s.Name)
		colors = append(colors, paletteColor(si))
	}
	if fr := paretoFrontier(xys); len(fr) > 1 {
		var pts plotter.XYs
		for k, i := range fr {
			if k > 0 { // a step: the next cheaper-but-slower point's cost, then down
				pts = append(pts, plotter.XY{X: xys[i].X, Y: xys[fr[k-1]].Y})
			}
			pts = append(pts, xys[i])
		}
		ln, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		ln.Color = color.Gray{Y: 120}
		ln.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(ln)
		p.Legend.Add("cost-p95 frontier", ln)
		p.Legend.Top = true
	}
	for i := range xys {
		seg, err := plotter.NewLine(plotter.XYs{xys[i], tails[i]})
		if err != nil {
			return nil, err
		}
		seg.Color = colors[i]
		p.Add(seg)
	}
	ring, err := plotter.NewScatter(tails)
	if err != nil {
		return nil, err
	}
	ring.GlyphStyleFunc = func(i int) draw.GlyphStyle {
		return draw.GlyphStyle{Color: colors[i], Radius: vg.Points(4), Shape: draw.RingGlyph{}}
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, err
	}
	sc.GlyphStyleFunc = func(i int) draw.GlyphStyle {
		return draw.GlyphStyle{Color: colors[i], Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	lb.Offset = vg.Point{X: vg.Points(6), Y: vg.Points(-3)}
	p.Add(ring, sc, lb)
	// Room for the labels: pad both axes and start them at zero, so that
	// distances from the origin read as ratios.
	p.X.Min, p.Y.Min = 0, 0
	p.X.Max = padMax(xys, func(xy plotter.XY) float64 { return xy.X }, 1.35)
	p.Y.Max = padMax(append(append(plotter.XYs(nil), xys...), tails...), func(xy plotter.XY) float64 { return xy.Y }, 1.15)
	return render(p, plotWidth, plotHeight)
}

// paretoFrontier returns the indices of the points that no other point
// beats on both coordinates (lower X and lower Y are better; a point
// equal to another on both counts once, the first), in increasing X.
func paretoFrontier(xys plotter.XYs) []int {
	idx := make([]int, len(xys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		if xys[idx[a]].X != xys[idx[b]].X {
			return xys[idx[a]].X < xys[idx[b]].X
		}
		return xys[idx[a]].Y < xys[idx[b]].Y
	})
	var out []int
	best := math.Inf(1)
	for _, i := range idx {
		if xys[i].Y < best {
			out = append(out, i)
			best = xys[i].Y
		}
	}
	return out
}

func padMax(xys plotter.XYs, f func(plotter.XY) float64, k float64) float64 {
	m := 0.0
	for _, xy := range xys {
		m = math.Max(m, f(xy))
	}
	if m <= 0 {
		return 1
	}
	return m * k
}

// siteLabels names each site entry of s, adding the model where a site has
// more than one deployment.
func siteLabels(s *results.Strategy) []string {
	n := map[string]int{}
	for _, site := range s.Sites {
		n[site.Site]++
	}
	out := make([]string, len(s.Sites))
	for i, site := range s.Sites {
		out[i] = site.Site
		if n[site.Site] > 1 {
			out[i] += " " + site.Model
		}
	}
	return out
}

// sitesPlot draws, one above the other, each site's GPU utilization and
// queue-wait p95 in each hour of the window.
func sitesPlot(r results.Result, si int) ([]byte, error) {
	s := &r.Strategies[si]
	labels := siteLabels(s)
	xlabel := fmt.Sprintf("hour of the window (from %02.0f:00 UTC)", r.Run.StartHourUTC)
	util := plot.New()
	util.Title.Text = s.Name + ": GPU utilization and queue p95 per site by hour"
	util.Y.Label.Text = "GPU utilization"
	util.X.Label.Text = xlabel
	util.Y.Min, util.Y.Max = 0, 1
	queue := plot.New()
	queue.Y.Label.Text = "queue wait p95 (ms)"
	queue.X.Label.Text = xlabel
	queue.Y.Min = 0
	for _, p := range []*plot.Plot{util, queue} {
		p.Add(plotter.NewGrid())
		p.X.Min = 0
		p.Legend.Top = true
		p.Legend.Left = false
	}
	hoursMax := 1.0
	for i, site := range s.Sites {
		for _, panel := range []struct {
			p  *plot.Plot
			vs []float64
		}{{util, site.UtilizationByHour}, {queue, site.QueueP95MsByHour}} {
			if len(panel.vs) == 0 {
				continue
			}
			xys := make(plotter.XYs, len(panel.vs))
			for h, v := range panel.vs {
				// Hour h covers [h, h+1): plot it at its middle.
				xys[h] = plotter.XY{X: float64(h) + 0.5, Y: v}
			}
			hoursMax = math.Max(hoursMax, float64(len(panel.vs)))
			l, pts, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, err
			}
			l.Color = paletteColor(i)
			l.Dashes = dashes[i%len(dashes)]
			pts.Color = paletteColor(i)
			pts.Shape = draw.CircleGlyph{}
			panel.p.Add(l, pts)
			panel.p.Legend.Add(labels[i], l, pts)
		}
	}
	// The legend sits right of the last hour, in room added for it.
	var ticks plot.ConstantTicks
	step := math.Max(1, math.Ceil(hoursMax/8))
	for h := 0.0; h <= hoursMax; h += step {
		ticks = append(ticks, plot.Tick{Value: h, Label: fmt.Sprint(h)})
	}
	for _, p := range []*plot.Plot{util, queue} {
		p.X.Max = hoursMax * 1.3
		p.X.Tick.Marker = ticks
	}
	c, err := draw.NewFormattedCanvas(plotWidth, siteHeight, "svg")
	if err != nil {
		return nil, err
	}
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: 4 * vg.Millimeter, PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 2 * vg.Millimeter}
	plots := [][]*plot.Plot{{util}, {queue}}
	canvases := plot.Align(plots, tiles, draw.New(c))
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// mapPlot places the strategy's sites (filled triangles sized by replicas) and
// the user groups (circles sized by peak calls per second) on
// equirectangular longitude/latitude axes. Sizes scale with the square
// root of the value, so a marker's area is proportional to it, relative to
// the largest over every strategy, so that maps of strategies compare.
func mapPlot(r results.Result, si int) ([]byte, error) {
	s := &r.Strategies[si]
	p := plot.New()
	p.Title.Text = s.Name + ": sites and user groups"
	p.X.Label.Text = "longitude (°)"
	p.Y.Label.Text = "latitude (°)"
	p.X.Min, p.X.Max = -180, 180
	p.Y.Min, p.Y.Max = -90, 90
	p.X.Tick.Marker = degreeTicks(-180, 180, 60)
	p.Y.Tick.Marker = degreeTicks(-90, 90, 30)
	p.Add(plotter.NewGrid())
	const minR, maxR = 3, 12 // marker radius range, points
	radius := func(v, max float64) vg.Length {
		if max <= 0 || v <= 0 {
			return vg.Points(minR)
		}
		return vg.Points(minR + (maxR-minR)*math.Sqrt(v/max))
	}
	if len(r.Users) > 0 {
		maxCalls := 0.0
		xys := make(plotter.XYs, len(r.Users))
		names := make([]string, len(r.Users))
		for i, u := range r.Users {
			maxCalls = math.Max(maxCalls, u.PeakCallsPerS)
			xys[i] = plotter.XY{X: u.Lon, Y: u.Lat}
			names[i] = u.Name
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		grey := color.NRGBA{0x55, 0x55, 0x55, 0x90} // translucent: sites show through
		sc.GlyphStyleFunc = func(i int) draw.GlyphStyle {
			return draw.GlyphStyle{Color: grey, Radius: radius(r.Users[i].PeakCallsPerS, maxCalls), Shape: draw.CircleGlyph{}}
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: grey, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: names})
		if err != nil {
			return nil, err
		}
		lb.Offset = vg.Point{X: vg.Points(8), Y: vg.Points(-10)}
		for i := range lb.TextStyle {
			lb.TextStyle[i].Font.Size = vg.Points(7)
			lb.TextStyle[i].Color = color.Gray{0x55}
		}
		p.Add(sc, lb)
		p.Legend.Add("user group (area: peak calls/s)", sc)
	}
	// Sites: one marker per site, its deployments' replicas summed.
	maxReplicas := 0.0
	for _, st := range r.Strategies {
		for _, n := range siteReplicas(&st) {
			maxReplicas = math.Max(maxReplicas, float64(n.replicas))
		}
	}
	sites := siteReplicas(s)
	if len(sites) > 0 {
		xys := make(plotter.XYs, len(sites))
		names := make([]string, len(sites))
		for i, n := range sites {
			xys[i] = plotter.XY{X: n.lon, Y: n.lat}
			names[i] = fmt.Sprintf("%s (%d)", n.name, n.replicas)
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		c := paletteColor(si)
		sc.GlyphStyleFunc = func(i int) draw.GlyphStyle {
			return draw.GlyphStyle{Color: c, Radius: radius(float64(sites[i].replicas), maxReplicas), Shape: draw.PyramidGlyph{}}
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(4), Shape: draw.PyramidGlyph{}}
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: names})
		if err != nil {
			return nil, err
		}
		lb.Offset = vg.Point{X: vg.Points(8), Y: vg.Points(2)}
		for i := range lb.TextStyle {
			lb.TextStyle[i].Font.Size = vg.Points(7)
		}
		p.Add(sc, lb)
		p.Legend.Add("site (area: replicas)", sc)
	}
	p.Legend.Top = false
	p.Legend.Left = true
	return render(p, mapWidth, mapHeight)
}

type siteMarker struct {
	name     string
	lat, lon float64
	replicas int
}

// siteReplicas sums replicas per site, in the order sites first appear.
func siteReplicas(s *results.Strategy) []siteMarker {
	var out []siteMarker
	at := map[string]int{}
	for _, site := range s.Sites {
		i, ok := at[site.Site]
		if !ok {
			i = len(out)
			at[site.Site] = i
			out = append(out, siteMarker{name: site.Site, lat: site.Lat, lon: site.Lon})
		}
		out[i].replicas += site.Replicas
	}
	return out
}

func degreeTicks(lo, hi, step int) plot.ConstantTicks {
	var t plot.ConstantTicks
	for v := lo; v <= hi; v += step {
		t = append(t, plot.Tick{Value: float64(v), Label: fmt.Sprint(v)})
	}
	return t
}

// render writes p as SVG.
func render(p *plot.Plot, w, h vg.Length) ([]byte, error) {
	wt, err := p.WriterTo(w, h, "svg")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
