package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// progress reports simulation progress on stderr: a redrawn bar when
// stderr is a terminal (mode "bar"), a line every few seconds (mode
// "plain", for CI logs), or nothing ("none"). It aggregates strategies
// simulated at once. It never writes to stdout, so results stay
// byte-identical.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	mode     string
	start    time.Time
	last     time.Time
	done     map[string]float64
	events   map[string]uint64
	total    int
	interval time.Duration
	drawn    bool
}

// progressMode resolves --progress: auto is bar on a terminal and none
// otherwise; quiet is none.
func progressMode(flag string, quiet bool, w io.Writer) (string, error) {
	if quiet {
		return "none", nil
	}
	switch flag {
	case "", "auto":
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				return "bar", nil
			}
		}
		return "none", nil
	case "bar", "plain", "none":
		return flag, nil
	}
	return "", fmt.Errorf("--progress: want auto, bar, plain or none, got %q", flag)
}

func newProgress(w io.Writer, mode string, strategies int) *progress {
	iv := 200 * time.Millisecond
	if mode == "plain" {
		iv = 5 * time.Second
	}
	now := time.Now()
	return &progress{w: w, mode: mode, start: now, last: now, done: map[string]float64{}, events: map[string]uint64{},
		total: max(strategies, 1), interval: iv}
}

// update records a strategy's progress and redraws when due.
func (p *progress) update(strategy string, done float64, events uint64) {
	if p == nil || p.mode == "none" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[strategy], p.events[strategy] = done, events
	now := time.Now()
	if now.Sub(p.last) < p.interval && done < 1 {
		return
	}
	p.last = now
	p.draw(now)
}

func (p *progress) draw(now time.Time) {
	frac, ev := 0.0, uint64(0)
	names := make([]string, 0, len(p.done))
	for k := range p.done {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		frac += p.done[k]
		ev += p.events[k]
	}
	frac /= float64(p.total)
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(ev) / el
	}
	eta := "?"
	if frac > 0.01 {
		eta = (time.Duration(el*(1-frac)/frac) * time.Second).Round(time.Second).String()
	}
	msg := fmt.Sprintf("%3.0f%% of simulated time · %.2g events/s · ETA %s", 100*frac, rate, eta)
	if p.mode == "plain" {
		fmt.Fprintln(p.w, "progress:", msg)
		return
	}
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %s", strings.Repeat("#", n), strings.Repeat(".", width-n), msg)
	p.drawn = true
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
