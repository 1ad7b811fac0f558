package calibrate

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/optimize"

	"github.com/fleetsim/fleetsim/measurements"
	"github.com/fleetsim/fleetsim/profiles"
	"github.com/fleetsim/fleetsim/serving"
)

// Split says whether a row belongs to the check part (held out of the fit).
type Split func(r measurements.Row) bool

// checkModels are the models held out of the fit for each built-in
// dataset: the fit sees some models, the check others, on the same GPUs.
var checkModels = map[string][]string{
	// Fit on Llama-2 7B/70B and Mistral-7B; check on Llama-3.x and Qwen2.
	"argonne": {"llama-3.1-8b", "llama-3.1-70b", "qwen2-7b", "qwen2-72b"},
	// Fit on Llama-3.1 8B and 405B; check on 70B.
	"trtllm": {"llama-3.1-70b"},
	// Fit on Llama-2-70B; check on Llama-3.1-8B.
	"mlperf": {"llama-3.1-8b"},
	// Fit on Llama-2 7B/70B; check on the rest.
	"vidur-linear": {"llama-3.1-8b", "llama-3.1-70b", "qwen2-7b", "qwen2-72b", "mistral-7b"},
}

// BuiltinSplit is the fit/check split of the built-in datasets, by model
// (see CheckModels). Rows of other datasets are all fit rows.
func BuiltinSplit(r measurements.Row) bool {
	return slices.Contains(checkModels[r.Dataset], r.Model)
}

// CheckModels returns the models BuiltinSplit holds out of dataset's fit.
func CheckModels(dataset string) []string { return slices.Clone(checkModels[dataset]) }

// ModelSplit holds out the named models.
func ModelSplit(models []string) Split {
	return func(r measurements.Row) bool { return slices.Contains(models, r.Model) }
}

// Options control a fit.
type Options struct {
	// Name of the profile written.
	Name string
	// Profile restricts the fit to one engine family (vllm, trtllm); empty
	// fits every family found, each into its own profile.
	Profile string
	// Check is the fit/check split; nil means every row is a fit row.
	Check Split
	// MaxEvaluations bounds the optimiser per group; 0 means 3000.
	MaxEvaluations int
	// ProfileOf names the profile a row calibrates; nil means ProfileFor.
	// Rows it names "" are skipped.
	ProfileOf func(measurements.Row) string
}

// Result is one measured point, predicted with the fitted profile.
type Result struct {
	Row     measurements.Row
	Profile string
	Check   bool
	Point
}

// groupKey is one fit: an engine family on one GPU.
type groupKey struct{ profile, gpu, prec string }

// Fit fits one profile per engine family found in rows (or only
// opt.Profile), with one entry per GPU, and returns the profiles (sorted
// by name), every row's predictions with the fitted coefficients, and the
// rows that could not be used with the reason. Rows whose GPU has no fit
// rows get no entry of their own; their predictions use the profile's
// fallback entry ("*"), the coefficients fitted on the GPU with the most
// fit rows.
func Fit(rows []measurements.Row, opt Options) ([]*profiles.Profile, []Result, map[string]int, error) {
	if opt.MaxEvaluations <= 0 {
		opt.MaxEvaluations = 3000
	}
	if opt.ProfileOf == nil {
		opt.ProfileOf = ProfileFor
	}
	skipped := map[string]int{}
	groups := map[groupKey][]measurements.Row{}
	for _, r := range rows {
		if r.Mode == measurements.Linear {
			skipped["linear rows are kernel timings, see FitLinear"]++
			continue
		}
		pn := opt.ProfileOf(r)
		if pn == "" {
			skipped["framework "+r.Framework+" has no profile"]++
			continue
		}
		if opt.Profile != "" && pn != opt.Profile {
			continue
		}
		k := groupKey{pn, r.GPU, string(r.Precision)}
		groups[k] = append(groups[k], r)
	}
	keys := make([]groupKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		return strings.Compare(a.profile+"/"+a.gpu+"/"+a.prec, b.profile+"/"+b.gpu+"/"+b.prec)
	})
	isCheck := func(r measurements.Row) bool { return opt.Check != nil && opt.Check(r) }

	byName := map[string]*profiles.Profile{}
	var results []Result
	for _, k := range keys {
		var fitRows []measurements.Row
		for _, r := range groups[k] {
			if !isCheck(r) {
				fitRows = append(fitRows, r)
			}
		}
		p := byName[k.profile]
		if p == nil {
			name := k.profile
			if opt.Name != "" && opt.Profile != "" {
				name = opt.Name
			}
			p = &profiles.Profile{Kind: profiles.Kind, Name: name,
				Description: "Fitted by fleetsim calibrate on " + k.profile + " measurements."}
			byName[k.profile] = p
		}
		if len(fitRows) == 0 {
			continue
		}
		c, fitErr := fitGroup(fitRows, opt.MaxEvaluations)
		e := profiles.Entry{GPU: k.gpu, Precision: k.prec, Coefficients: c}
		fitPts, checkPts := 0, 0
		var fitAPE, checkAPE []float64
		datasets := map[string]bool{}
		for _, r := range groups[k] {
			pts, err := predictRow(r, c)
			if err != nil {
				skipped[err.Error()]++
				continue
			}
			datasets[r.Dataset] = true
			for _, pt := range pts {
				results = append(results, Result{Row: r, Profile: p.Name, Check: isCheck(r), Point: pt})
				if isCheck(r) {
					checkPts++
					checkAPE = append(checkAPE, pt.APE())
				} else {
					fitPts++
					fitAPE = append(fitAPE, pt.APE())
				}
			}
		}
		ds := make([]string, 0, len(datasets))
		for d := range datasets {
			ds = append(ds, d)
		}
		slices.Sort(ds)
		e.Fit = &profiles.Fit{Datasets: ds, Rows: fitPts, CheckRows: checkPts,
			FitMedianAPE: round4(Quantile(fitAPE, 0.5)), CheckMedianAPE: round4(Quantile(checkAPE, 0.5))}
		_ = fitErr
		p.Entries = append(p.Entries, e)
	}
	// The fallback entry of each profile, for GPUs and precisions without
	// an entry of their own: one set of coefficients fitted on every NVIDIA
	// fit row of the profile (AMD's ROCm stacks behave too differently to
	// share coefficients; their rows fit only their own entries).
	for _, name := range sortedKeys(byName) {
		var all []measurements.Row
		for _, k := range keys {
			if k.profile != name || strings.HasPrefix(k.gpu, "mi") {
				continue
			}
			for _, r := range groups[k] {
				if !isCheck(r) {
					all = append(all, r)
				}
			}
		}
		if len(all) == 0 {
			continue
		}
		c, _ := fitGroup(all, opt.MaxEvaluations)
		p := byName[name]
		p.Entries = append(p.Entries, profiles.Entry{GPU: "*", Coefficients: c})
	}
	var out []*profiles.Profile
	for _, n := range sortedKeys(byName) {
		if len(byName[n].Entries) > 0 {
			out = append(out, byName[n])
		}
	}
	if len(out) == 0 {
		return nil, nil, skipped, fmt.Errorf("no usable fit rows (skipped: %v)", skipped)
	}
	// Rows of a family's GPUs that had only check rows: predicted with the fallback.
	for _, k := range keys {
		p := byName[k.profile]
		has := slices.ContainsFunc(p.Entries, func(e profiles.Entry) bool { return e.GPU == k.gpu && e.Precision == k.prec })
		if has {
			continue
		}
		c, _ := p.Lookup(k.gpu, "", serving.Precision(k.prec))
		for _, r := range groups[k] {
			pts, err := predictRow(r, c)
			if err != nil {
				skipped[err.Error()]++
				continue
			}
			for _, pt := range pts {
				results = append(results, Result{Row: r, Profile: p.Name, Check: true, Point: pt})
			}
		}
	}
	return out, results, skipped, nil
}

// round4 rounds to 4 decimals; NaN (no rows) becomes 0.
func round4(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return math.Round(v*1e4) / 1e4
}

func predictRow(r measurements.Row, c serving.Coefficients) ([]Point, error) {
	sm, eng, err := Model(r, c)
	if err != nil {
		return nil, fmt.Errorf("%s %s on %d×%s: %v", r.Dataset, r.Model, r.TP, r.GPU, errFirstLine(err))
	}
	pts, err := Predict(sm, eng, r)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", r.Dataset, err)
	}
	return pts, nil
}

func errFirstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	// Keep the reason, not the numbers, so skipped rows group.
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// params maps the optimiser's unconstrained vector to coefficients:
// fractions through a logistic onto (lo, 1), overheads through exp. The
// attention MFU is not fitted: in the public data (input length equal to
// output length, or short prompts) prefill attention is a few percent of
// the time, so the fits could not identify it and drove it to its bound;
// it keeps the literature value of DefaultCoefficients.
func params(x []float64) serving.Coefficients {
	c := serving.DefaultCoefficients()
	frac := func(v, lo float64) float64 { return lo + (1-lo)/(1+math.Exp(-v)) }
	c.LinearMFU = frac(x[0], 0.05)
	c.MBU = frac(x[1], 0.1)
	c.StepOverheadS = math.Exp(x[2])
	c.SeqOverheadS = math.Exp(x[3])
	c.KVMBU = frac(x[4], 0.1)
	return c
}

func unparams(c serving.Coefficients) []float64 {
	logit := func(v, lo float64) float64 { f := (v - lo) / (1 - lo); return math.Log(f / (1 - f)) }
	return []float64{logit(c.LinearMFU, 0.05), logit(c.MBU, 0.1),
		math.Log(c.StepOverheadS), math.Log(c.SeqOverheadS), logit(c.KVMBU, 0.1)}
}

// fitGroup minimises the mean squared log error of the rows' predictions
// over the five fitted coefficients (linear MFU, MBU, KV MBU, step and
// per-sequence overhead), starting from DefaultCoefficients.
func fitGroup(rows []measurements.Row, maxEval int) (serving.Coefficients, error) {
	loss := func(x []float64) float64 {
		c := params(x)
		sum, n := 0.0, 0
		for _, r := range rows {
			pts, err := predictRow(r, c)
			if err != nil {
				continue
			}
			for _, pt := range pts {
				if pt.Predicted > 0 {
					d := math.Log(pt.Predicted / pt.Measured)
					sum += d * d
					n++
				}
			}
		}
		if n == 0 {
			return math.Inf(1)
		}
		// Overheads far outside plausibility are penalised softly: a step
		// overhead beyond 20 ms or a per-sequence one beyond 1 ms.
		pen := 0.0
		if c.StepOverheadS > 0.02 {
			pen += math.Log(c.StepOverheadS / 0.02)
		}
		if c.SeqOverheadS > 1e-3 {
			pen += math.Log(c.SeqOverheadS / 1e-3)
		}
		return sum/float64(n) + pen*pen
	}
	x0 := unparams(serving.DefaultCoefficients())
	res, err := optimize.Minimize(optimize.Problem{Func: loss}, x0,
		&optimize.Settings{FuncEvaluations: maxEval, Converger: &optimize.FunctionConverge{Absolute: 1e-9, Iterations: 200}},
		&optimize.NelderMead{})
	if res == nil {
		return serving.DefaultCoefficients(), err
	}
	return params(res.X), nil
}

// Quantile returns the q-quantile of v (nearest rank on the sorted
// values); NaN for an empty slice. v is not modified.
func Quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// LinearFit is the kernel-level fit of one GPU: the linear-layer MFU and
// weight-streaming MBU that explain its per-layer GEMM timings, plus a
// per-layer launch overhead.
type LinearFit struct {
	GPU       string
	LinearMFU float64
	MBU       float64
	LaunchS   float64
	Results   []Result
}

// FitLinear fits linear-mode rows (Vidur's per-layer operator timings) per
// GPU and returns each GPU's fit and every row's prediction. These fits
// check the step model's linear-layer roofline at kernel level; they do
// not enter the profiles, which are fitted on end-to-end measurements.
func FitLinear(rows []measurements.Row, check Split, maxEval int) []LinearFit {
	if maxEval <= 0 {
		maxEval = 3000
	}
	byGPU := map[string][]measurements.Row{}
	for _, r := range rows {
		if r.Mode == measurements.Linear {
			byGPU[r.GPU] = append(byGPU[r.GPU], r)
		}
	}
	isCheck := func(r measurements.Row) bool { return check != nil && check(r) }
	var out []LinearFit
	for _, gpu := range sortedKeys(byGPU) {
		coef := func(x []float64) (serving.Coefficients, float64) {
			c := serving.DefaultCoefficients()
			c.LinearMFU = 0.05 + 0.95/(1+math.Exp(-x[0]))
			c.MBU = 0.1 + 0.9/(1+math.Exp(-x[1]))
			return c, math.Exp(x[2])
		}
		loss := func(x []float64) float64 {
			c, l := coef(x)
			sum, n := 0.0, 0
			for _, r := range byGPU[gpu] {
				if isCheck(r) {
					continue
				}
				pt, err := PredictLinear(r, c, l)
				if err != nil || !(pt.Measured > 0) {
					continue
				}
				d := math.Log(pt.Predicted / pt.Measured)
				sum += d * d
				n++
			}
			if n == 0 {
				return math.Inf(1)
			}
			return sum / float64(n)
		}
		x0 := []float64{0.5, 0.5, math.Log(20e-6)}
		res, _ := optimize.Minimize(optimize.Problem{Func: loss}, x0,
			&optimize.Settings{FuncEvaluations: maxEval, Converger: &optimize.FunctionConverge{Absolute: 1e-10, Iterations: 200}},
			&optimize.NelderMead{})
		if res == nil {
			continue
		}
		c, l := coef(res.X)
		lf := LinearFit{GPU: gpu, LinearMFU: c.LinearMFU, MBU: c.MBU, LaunchS: l}
		for _, r := range byGPU[gpu] {
			pt, err := PredictLinear(r, c, l)
			if err != nil || !(pt.Measured > 0) {
				continue
			}
			lf.Results = append(lf.Results, Result{Row: r, Profile: "kernels", Check: isCheck(r), Point: pt})
		}
		out = append(out, lf)
	}
	return out
}
