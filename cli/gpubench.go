package cli

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/gpu"
	"github.com/fleetsim/fleetsim/loadgen"
	"github.com/fleetsim/fleetsim/measurements"
	"github.com/fleetsim/fleetsim/reports"
	"github.com/fleetsim/fleetsim/serving"
)

// gpuBenchFlags are the flags of fleetsim gpu bench.
type gpuBenchFlags struct {
	url, gpu, model, servedModel string
	tp                           int
	precision, framework, api    string
	dataset                      string
	isl, osl                     int
	concurrency                  []int
	rates                        []float64
	requests                     int
	duration, timeout            time.Duration
	seed                         uint64
	out, requestsOut             string
	nvml, nvmlOut                string
	nvmlInterval                 time.Duration
}

// newGPUBenchCommand is fleetsim gpu bench.
func newGPUBenchCommand(streams Streams) *cobra.Command {
	var f gpuBenchFlags
	cmd := &cobra.Command{
		Use:   "bench --url URL --gpu GPU --model MODEL (--concurrency N,... | --rate R,...) [flags]",
		Short: "Measure an OpenAI-compatible server under load",
		Long: `Send streaming requests of --isl prompt words and --osl output tokens to an
OpenAI-compatible server (vLLM, SGLang, trtllm-serve, fleetsim emulate) at each
--concurrency (closed loop) or each Poisson --rate in requests/s (open loop, seeded
by --seed), and measure every request from its event stream: TTFT, TPOT, E2E and
output tokens. Failed requests are counted by kind (connect, http-status,
stream-error, closed-early, stall, malformed-chunk) and kept out of the latencies.

A table per load point goes to stdout. --out writes one measurement row per point
(mode server, docs/measurements.md) that 'fleetsim calibrate FILE' fits; --gpu,
--model, --tp, --precision and --framework say what the server runs. The
--requests-out CSV holds every request. See docs/bench.md.

Exit status 1 when every request failed, 2 for bad flags or unknown ids.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGPUBench(cmd, streams, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "server base URL, e.g. http://127.0.0.1:8000 (required)")
	fl.StringVar(&f.gpu, "gpu", "", "GPU catalog id of the server (required)")
	fl.StringVar(&f.model, "model", "", "model catalog id of the server (required)")
	fl.StringVar(&f.servedModel, "served-model", "", "model name sent in requests (default: --model as given)")
	fl.IntVar(&f.tp, "tp", 1, "GPUs of the replica (tensor parallelism)")
	fl.StringVar(&f.precision, "precision", "bf16", "weight precision: bf16 or fp8")
	fl.StringVar(&f.framework, "framework", "vLLM", "serving stack, for the measurement rows (vLLM, TensorRT-LLM, SGLang, ...)")
	fl.StringVar(&f.api, "api", "completions", "endpoint: completions or chat")
	fl.StringVar(&f.dataset, "dataset", "bench", "dataset name of the measurement rows")
	fl.IntVar(&f.isl, "isl", 512, "prompt length in words (about one token each)")
	fl.IntVar(&f.osl, "osl", 128, "output tokens per request (max_tokens = min_tokens, ignore_eos)")
	fl.IntSliceVar(&f.concurrency, "concurrency", nil, "requests in flight, one load point each (closed loop)")
	fl.Float64SliceVar(&f.rates, "rate", nil, "Poisson request rates in requests/s, one load point each (open loop)")
	fl.IntVar(&f.requests, "requests", 50, "requests per load point")
	fl.DurationVar(&f.duration, "duration", 0, "send for this long per load point instead of --requests")
	fl.DurationVar(&f.timeout, "timeout", loadgen.DefaultTimeout, "stall timeout: fail a request that gets no data for this long")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the Poisson arrival times")
	fl.StringVarP(&f.out, "out", "o", "", "write the measurement CSV (one server row per point) here")
	fl.StringVar(&f.requestsOut, "requests-out", "", "write every request as CSV here")
	fl.StringVar(&f.nvml, "nvml", "auto", "sample the GPUs with NVML during the run: auto (when --url is on this machine and NVML is there), on (required) or off")
	fl.DurationVar(&f.nvmlInterval, "nvml-interval", 100*time.Millisecond, "NVML sampling interval")
	fl.StringVar(&f.nvmlOut, "nvml-out", "", "write the NVML time series here (.csv, or .json with the summary)")
	return cmd
}

// benchConfig checks the flags and turns them into a load generator
// configuration and the measurement rows' metadata.
func benchConfig(cmd *cobra.Command, f gpuBenchFlags) (loadgen.Config, loadgen.RowMeta, error) {
	use := func(format string, args ...any) error {
		return usageError{err: fmt.Errorf(format, args...), use: cmd.UseLine()}
	}
	var cfg loadgen.Config
	var meta loadgen.RowMeta
	switch {
	case f.url == "" || f.gpu == "" || f.model == "":
		return cfg, meta, use("gpu bench needs --url, --gpu and --model")
	case (len(f.concurrency) == 0) == (len(f.rates) == 0):
		return cfg, meta, use("give one of --concurrency and --rate")
	case cmd.Flags().Changed("requests") && cmd.Flags().Changed("duration"):
		return cfg, meta, use("give one of --requests and --duration")
	case f.precision != string(serving.BF16) && f.precision != string(serving.FP8):
		return cfg, meta, use("--precision must be bf16 or fp8, got %q", f.precision)
	case f.api != string(loadgen.Completions) && f.api != string(loadgen.Chat):
		return cfg, meta, use("--api must be completions or chat, got %q", f.api)
	case f.tp < 1 || f.isl < 1 || f.osl < 1:
		return cfg, meta, use("--tp, --isl and --osl must be >= 1")
	case f.timeout <= 0:
		return cfg, meta, use("--timeout must be > 0")
	case f.dataset == "":
		return cfg, meta, use("--dataset must not be empty")
	}
	for _, c := range f.concurrency {
		if c < 1 {
			return cfg, meta, use("--concurrency values must be >= 1, got %d", c)
		}
	}
	for _, r := range f.rates {
		if !(r > 0) || math.IsInf(r, 0) {
			return cfg, meta, use("--rate values must be finite and > 0, got %g", r)
		}
	}
	g, ok := serving.LookupGPU(f.gpu)
	if !ok {
		return cfg, meta, invalid(fmt.Errorf("--gpu %q is not in the GPU catalog (%s)", f.gpu, catalogIDs(true)))
	}
	m, ok := serving.LookupModel(f.model)
	if !ok {
		return cfg, meta, invalid(fmt.Errorf("--model %q is not in the model catalog (%s)", f.model, catalogIDs(false)))
	}
	served := f.servedModel
	if served == "" {
		served = f.model
	}
	cfg = loadgen.Config{URL: f.url, API: loadgen.API(f.api), Model: served, ISL: f.isl, OSL: f.osl,
		Timeout: f.timeout, Rand: rand.New(rand.NewPCG(f.seed, 0x6c6f616467656e))} // "loadgen": the stream's name
	if f.duration > 0 {
		cfg.Duration = f.duration
	} else {
		cfg.Requests = f.requests
	}
	// Validate with a placeholder load: Sweep sets each point's.
	probe := cfg
	probe.Concurrency = 1
	if err := probe.Validate(); err != nil {
		return cfg, meta, usageError{err: err, use: cmd.UseLine()}
	}
	meta = loadgen.RowMeta{Dataset: f.dataset, GPU: g.ID, Model: m.ID, TP: f.tp, Precision: serving.Precision(f.precision),
		Framework: f.framework, Source: "bench"}
	return cfg, meta, nil
}

func runGPUBench(cmd *cobra.Command, streams Streams, f gpuBenchFlags) error {
	cfg, meta, err := benchConfig(cmd, f)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	samp, err := benchSampling(f, streams)
	if err != nil {
		return err
	}
	fmt.Fprintf(streams.Err, "benchmarking %s (%s, isl %d, osl %d)\n", cfg.Endpoint(), cfg.Model, cfg.ISL, cfg.OSL)
	// One point at a time, so each one's GPU samples can be told apart.
	var results []*loadgen.Result
	var windows [][2]float64
	var sweepErr error
	points := len(f.concurrency) + len(f.rates)
	for i := 0; i < points && sweepErr == nil; i++ {
		var conc []int
		var rates []float64
		if i < len(f.concurrency) {
			conc = f.concurrency[i : i+1]
		} else {
			rates = f.rates[i-len(f.concurrency) : i-len(f.concurrency)+1]
		}
		t0 := time.Now()
		var rs []*loadgen.Result
		rs, sweepErr = loadgen.Sweep(ctx, cfg, conc, rates)
		if samp != nil {
			for range rs {
				windows = append(windows, [2]float64{samp.since(t0), samp.since(time.Now())})
			}
		}
		results = append(results, rs...)
	}
	printBench(streams.Out, results)
	if samp != nil {
		series := samp.stop()
		printBenchPower(streams.Out, results, series, windows)
		if f.nvmlOut != "" {
			write := func(w io.Writer) error { return gpu.WriteCSV(w, series) }
			if strings.EqualFold(filepath.Ext(f.nvmlOut), ".json") {
				write = func(w io.Writer) error { return gpu.WriteJSON(w, f.nvmlInterval.Seconds(), series) }
			}
			if err := reports.WriteFile(f.nvmlOut, write); err != nil {
				return err
			}
		}
	}

	if f.requestsOut != "" && len(results) > 0 {
		if err := reports.WriteFile(f.requestsOut, func(w io.Writer) error { return loadgen.WriteRequestsCSV(w, results) }); err != nil {
			return err
		}
	}
	var rows []measurements.Row
	sent, failed := 0, map[loadgen.ErrorKind]int{}
	for _, r := range results {
		sent += r.Summary.Sent
		for k, n := range r.Summary.Errors {
			failed[k] += n
		}
		row, err := r.Row(meta)
		if err != nil {
			fmt.Fprintf(streams.Err, "no measurement row: %v\n", err)
			continue
		}
		rows = append(rows, row)
	}
	if f.out != "" && len(rows) > 0 {
		if err := reports.WriteFile(f.out, func(w io.Writer) error { return measurements.WriteCSV(w, rows) }); err != nil {
			return err
		}
		fmt.Fprintf(streams.Err, "wrote %d measurement rows to %s\n", len(rows), f.out)
	}
	if sweepErr != nil {
		return sweepErr
	}
	if len(rows) == 0 {
		return fmt.Errorf("all %d requests failed: %s", sent, loadgen.Summary{Errors: failed}.ErrorString())
	}
	return nil
}

// benchSampling starts NVML sampling as --nvml asks: off, on (an error
// when NVML is not there) or auto (only for a server on this machine, and
// only when NVML is there). nil means no sampling.
func benchSampling(f gpuBenchFlags, streams Streams) (*benchSampler, error) {
	switch f.nvml {
	case "off":
		return nil, nil
	case "on", "auto":
	default:
		return nil, usageError{err: fmt.Errorf("--nvml %q: want auto, on or off", f.nvml), use: "fleetsim gpu bench"}
	}
	if f.nvmlInterval <= 0 {
		return nil, usageError{err: fmt.Errorf("--nvml-interval %v: must be > 0", f.nvmlInterval), use: "fleetsim gpu bench"}
	}
	if f.nvml == "auto" && !loopbackURL(f.url) {
		return nil, nil
	}
	s, err := startBenchSampling(f.nvmlInterval)
	if err != nil {
		if f.nvml == "on" {
			return nil, err
		}
		fmt.Fprintf(streams.Err, "not sampling GPUs: %v\n", err)
		return nil, nil
	}
	return s, nil
}

// loopbackURL says whether u's host is this machine.
func loopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	h := p.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// printBenchPower writes, per load point, the GPUs' power and energy over
// the point's window (all GPUs summed) and output tokens per joule.
func printBenchPower(w io.Writer, results []*loadgen.Result, series []gpu.Series, windows [][2]float64) {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("point", "GPUs", "mean power W", "peak power W", "energy J", "energy from", "mean GPU util %", "out tok/J")
	for i, r := range results {
		var mean, peak, energy, util float64
		nUtil, nGPU := 0, 0
		from := ""
		for _, se := range series {
			sum := gpu.Summarize(window(se, windows[i][0], windows[i][1]))
			if sum.MeanPowerW == nil {
				continue
			}
			nGPU++
			mean += *sum.MeanPowerW
			if sum.PeakPowerW != nil {
				peak += *sum.PeakPowerW
			}
			if sum.EnergyJ != nil {
				energy += *sum.EnergyJ
				from = sum.EnergySource
			}
			if sum.MeanGPUUtilPct != nil {
				util += *sum.MeanGPUUtilPct
				nUtil++
			}
		}
		if nGPU == 0 {
			_ = t.Append(r.Config.Label(), "0", "–", "–", "–", "–", "–", "–")
			continue
		}
		utilS, perJ := "–", "–"
		if nUtil > 0 {
			utilS = fmt.Sprintf("%.1f", util/float64(nUtil))
		}
		if energy > 0 {
			perJ = fmt.Sprintf("%.2f", float64(r.Summary.OutputTokens)/energy)
		}
		_ = t.Append(r.Config.Label(), fmt.Sprint(nGPU), fmt.Sprintf("%.1f", mean), fmt.Sprintf("%.1f", peak),
			fmt.Sprintf("%.1f", energy), from, utilS, perJ)
	}
	_ = t.Render()
}

// window is the part of a GPU's series between t0 and t1 (seconds).
func window(s gpu.Series, t0, t1 float64) gpu.Series {
	out := s
	out.Samples = nil
	for _, x := range s.Samples {
		if x.TimeS >= t0 && x.TimeS <= t1 {
			out.Samples = append(out.Samples, x)
		}
	}
	return out
}

// printBench writes one table row per load point.
func printBench(w io.Writer, results []*loadgen.Result) {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("point", "sent", "ok", "errors", "req/s", "out tok/s",
		"ttft p50/p90/p99 ms", "tpot p50/p90/p99 ms", "e2e p50/p90/p99 ms")
	pct := func(p loadgen.Percentiles, prec int) string {
		if math.IsNaN(p.P50) {
			return "–"
		}
		return fmt.Sprintf("%.*f / %.*f / %.*f", prec, p.P50, prec, p.P90, prec, p.P99)
	}
	for _, r := range results {
		s := r.Summary
		errs := s.ErrorString()
		if errs == "" {
			errs = "–"
		}
		_ = t.Append(r.Config.Label(), fmt.Sprint(s.Sent), fmt.Sprint(s.OK), errs,
			fmt.Sprintf("%.2f", s.RequestsPerS), fmt.Sprintf("%.1f", s.OutputTokensPerS),
			pct(s.TTFT, 1), pct(s.TPOT, 2), pct(s.E2E, 0))
	}
	_ = t.Render()
}

// catalogIDs lists the GPU or model catalog ids for an error message.
func catalogIDs(gpus bool) string {
	var ids []string
	if gpus {
		for _, g := range serving.GPUs() {
			ids = append(ids, g.ID)
		}
	} else {
		for _, m := range serving.Models() {
			ids = append(ids, m.ID)
		}
	}
	return strings.Join(ids, ", ")
}
