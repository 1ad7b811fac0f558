package calibrate

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/fleetsim/fleetsim/profiles"
)

// Summary is the error of one group of results.
type Summary struct {
	Dataset, Profile, GPU, Precision, Model string
	Metric                                  Metric
	Check                                   bool
	N                                       int
	MedianAPE, P90APE                       float64
}

// Summarize groups results by the key fields kept (the others are blanked)
// and returns each group's median and p90 APE, sorted by key.
func Summarize(results []Result, by func(Result) Summary) []Summary {
	groups := map[string][]float64{}
	keys := map[string]Summary{}
	for _, r := range results {
		s := by(r)
		k := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%v", s.Dataset, s.Profile, s.GPU, s.Precision, s.Model, s.Metric, s.Check)
		groups[k] = append(groups[k], r.APE())
		keys[k] = s
	}
	out := make([]Summary, 0, len(groups))
	for _, k := range sortedKeys(groups) {
		s := keys[k]
		v := groups[k]
		s.N, s.MedianAPE, s.P90APE = len(v), Quantile(v, 0.5), Quantile(v, 0.9)
		out = append(out, s)
	}
	return out
}

// ByDatasetMetric keeps dataset, profile, metric and part.
func ByDatasetMetric(r Result) Summary {
	return Summary{Dataset: r.Row.Dataset, Profile: r.Profile, Metric: r.Metric, Check: r.Check}
}

// ByGPUModel keeps everything: dataset, profile, GPU, precision, model, metric and part.
func ByGPUModel(r Result) Summary {
	return Summary{Dataset: r.Row.Dataset, Profile: r.Profile, GPU: r.Row.GPU, Precision: string(r.Row.Precision),
		Model: r.Row.Model, Metric: r.Metric, Check: r.Check}
}

func part(check bool) string {
	if check {
		return "check"
	}
	return "fit"
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

// WriteTable writes summaries as a Markdown table with the given columns
// (dataset, profile, gpu, precision, model, metric, part, n, median, p90).
func WriteTable(w io.Writer, sums []Summary, cols ...string) {
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
	for _, s := range sums {
		cells := make([]string, len(cols))
		for i, c := range cols {
			switch c {
			case "dataset":
				cells[i] = s.Dataset
			case "profile":
				cells[i] = s.Profile
			case "gpu":
				cells[i] = s.GPU
			case "precision":
				cells[i] = s.Precision
			case "model":
				cells[i] = s.Model
			case "metric":
				cells[i] = string(s.Metric)
			case "part":
				cells[i] = part(s.Check)
			case "n":
				cells[i] = fmt.Sprint(s.N)
			case "median":
				cells[i] = pct(s.MedianAPE)
			case "p90":
				cells[i] = pct(s.P90APE)
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}

// WriteCoefficients writes the profiles' entries as a Markdown table.
func WriteCoefficients(w io.Writer, ps []*profiles.Profile) {
	fmt.Fprintln(w, "| profile | gpu | precision | linear MFU | attention MFU | MBU | KV MBU | step overhead ms | per-seq overhead µs | fit points | fit median | check points | check median |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, p := range ps {
		es := slices.Clone(p.Entries)
		for _, e := range es {
			c := e.Coefficients
			fitN, fitM, chkN, chkM := "", "", "", ""
			if e.Fit != nil {
				fitN, fitM = fmt.Sprint(e.Fit.Rows), pct(e.Fit.FitMedianAPE)
				chkN, chkM = fmt.Sprint(e.Fit.CheckRows), pct(e.Fit.CheckMedianAPE)
			}
			prec := e.Precision
			if prec == "" {
				prec = "any"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.1f | %s | %s | %s | %s |\n",
				p.Name, e.GPU, prec, c.LinearMFU, c.AttentionMFU, c.MBU, c.KVMBU, c.StepOverheadS*1e3, c.SeqOverheadS*1e6,
				fitN, fitM, chkN, chkM)
		}
	}
}
