package cli

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/fleetsim/fleetsim/profiles"
	"github.com/fleetsim/fleetsim/serving"
)

// predictInCols and predictOutCols are the columns of `predict --csv`.
var (
	predictInCols  = []string{"gpu", "model", "tp", "precision", "batch", "isl", "osl"}
	predictOutCols = []string{"prefill_ms", "tpot_ms", "ttft_ms", "e2e_ms", "output_tokens_per_s", "max_concurrency"}
)

// maxPredictRows bounds a --csv input.
const maxPredictRows = 1_000_000

type predictArgs struct {
	gpu, model, precision string
	tp, batch, isl, osl   int
	batchSet              bool
}

func newPredictCommand(streams Streams) *cobra.Command {
	var (
		a           predictArgs
		profileRef  string
		maxBatch    int
		tokenBudget int
		csvPath     string
	)
	cmd := &cobra.Command{
		Use:   "predict --gpu GPU --model MODEL [flags] | predict --csv FILE",
		Short: "Predict one replica's latency and throughput at an operating point",
		Long: `Print what the serving model predicts for one replica (--tp GPUs of --gpu serving
--model at --precision) running --batch concurrent sequences of --isl prompt and
--osl output tokens under continuous batching: prefill time of one prompt, decode
step time (TPOT), TTFT, end-to-end time, output tokens/s per replica and per GPU,
and the most concurrent sequences the KV cache and batch limit allow. Without
--batch, the replica runs at that maximum (its highest-throughput point).

--csv FILE reads a header line and the columns gpu,model,tp,precision,batch,isl,osl
(an empty batch means the maximum) and writes CSV to stdout with the same columns,
as given, plus prefill_ms,tpot_ms,ttft_ms,e2e_ms,output_tokens_per_s,max_concurrency,
one row per input row, in order. output_tokens_per_s is for the whole replica.`,
		Args: argsRange(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			prof, err := profiles.Resolve(profileRef, "")
			if err != nil {
				return invalid(err)
			}
			if maxBatch < 1 || tokenBudget < 1 {
				return usageError{err: errors.New("--max-batch and --token-budget must be >= 1"), use: cmd.UseLine()}
			}
			if csvPath != "" {
				if cmd.Flags().Changed("gpu") || cmd.Flags().Changed("model") {
					return usageError{err: errors.New("--csv takes its operating points from the file; drop --gpu and --model"), use: cmd.UseLine()}
				}
				return predictCSV(streams.Out, csvPath, prof, maxBatch, tokenBudget)
			}
			if a.gpu == "" || a.model == "" {
				return usageError{err: errors.New("predict needs --gpu and --model (or --csv)"), use: cmd.UseLine()}
			}
			a.batchSet = cmd.Flags().Changed("batch")
			sm, p, entry, err := predictOne(a, prof, maxBatch, tokenBudget)
			if err != nil {
				return invalid(err)
			}
			spec := sm.Spec()
			n := a.batch
			if !a.batchSet {
				n = p.MaxConcurrency
			}
			if n > p.MaxConcurrency {
				fmt.Fprintf(streams.Err, "warning: batch %d is more than the %d sequences of this length the KV cache and batch limit hold; the prediction assumes they all fit (a real engine would queue or preempt)\n", n, p.MaxConcurrency)
			}
			fmt.Fprintf(streams.Out, "%s on %d × %s at %s, profile %s (entry %s), batch %d, isl %d, osl %d\n",

				spec.Model.ID, spec.TensorParallel, spec.GPU.ID, spec.Precision, prof.Name, entry, n, a.isl, a.osl)
			t := tablewriter.NewTable(streams.Out, tablewriter.WithHeaderAutoFormat(tw.Off))
			t.Header("metric", "value")
			for _, r := range [][2]string{
				{"prefill ms (one prompt, idle replica)", fmtG(p.PrefillMs)},
				{"decode step ms (TPOT)", fmtG(p.TPOTMs)},
				{"TTFT ms", fmtG(p.TTFTMs)},
				{"end-to-end ms", fmtG(p.E2EMs)},
				{"output tokens/s per replica", fmtG(p.OutputTokensPerS)},
				{"output tokens/s per GPU", fmtG(p.OutputTokensPerS / float64(spec.TensorParallel))},
				{"max concurrent sequences", strconv.Itoa(p.MaxConcurrency)},
				{"KV cache tokens", strconv.Itoa(sm.KVCapacityTokens())},
			} {
				_ = t.Append(r[0], r[1])
			}
			return t.Render()
		},
	}
	f := cmd.Flags()
	f.StringVar(&a.gpu, "gpu", "", "GPU catalog id (h100, h200, a100-80gb, l40s, mi300x, ...)")
	f.StringVar(&a.model, "model", "", "model catalog id (llama-3.1-8b, llama-3.1-70b, ...)")
	f.IntVar(&a.tp, "tp", 1, "tensor-parallel GPUs per replica: 1, 2, 4 or 8")
	f.StringVar(&a.precision, "precision", "bf16", "bf16 or fp8")
	f.IntVar(&a.batch, "batch", 0, "concurrent sequences (default: the most the replica holds)")
	f.IntVar(&a.isl, "isl", 1024, "prompt tokens per request")
	f.IntVar(&a.osl, "osl", 1024, "output tokens per request")
	f.StringVar(&profileRef, "profile", profiles.DefaultName, "serving profile: a built-in name or a profile file")
	f.IntVar(&maxBatch, "max-batch", 256, "the engine's sequence limit (vLLM max_num_seqs)")
	f.IntVar(&tokenBudget, "token-budget", serving.DefaultTokenBudget, "tokens per iteration (vLLM max_num_batched_tokens)")
	f.StringVar(&csvPath, "csv", "", "read operating points from this CSV file")
	return cmd
}

func fmtG(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// predictOne builds the model for a and predicts its operating point.
func predictOne(a predictArgs, prof *profiles.Profile, maxBatch, budget int) (*serving.StepModel, serving.Prediction, string, error) {
	g, ok := serving.LookupGPU(a.gpu)
	if !ok {
		return nil, serving.Prediction{}, "", fmt.Errorf("gpu: unknown GPU %q", a.gpu)
	}
	m, ok := serving.LookupModel(a.model)
	if !ok {
		return nil, serving.Prediction{}, "", fmt.Errorf("model: unknown model %q", a.model)
	}
	prec, err := serving.ParsePrecision(a.precision)
	if err != nil {
		return nil, serving.Prediction{}, "", fmt.Errorf("precision: %v", err)
	}
	switch {
	case a.isl < 1 || a.isl > 10_000_000:
		return nil, serving.Prediction{}, "", fmt.Errorf("isl: must be in [1, 10000000], got %d", a.isl)
	case a.osl < 1 || a.osl > 10_000_000:
		return nil, serving.Prediction{}, "", fmt.Errorf("osl: must be in [1, 10000000], got %d", a.osl)
	case a.batchSet && (a.batch < 1 || a.batch > 1_000_000):
		return nil, serving.Prediction{}, "", fmt.Errorf("batch: must be in [1, 1000000], got %d", a.batch)
	}
	c, entry := prof.Lookup(g.ID, m.ID, prec)
	mb := maxBatch
	if a.batchSet && a.batch > mb {
		mb = a.batch
	}
	sm, err := serving.New(serving.ReplicaSpec{Model: m, GPU: g, TensorParallel: a.tp, Precision: prec, MaxBatch: mb}, c)
	if err != nil {
		return nil, serving.Prediction{}, "", err
	}
	n := a.batch
	if !a.batchSet {
		n = sm.MaxConcurrency(a.isl, a.osl)
		if n > maxBatch {
			n = maxBatch
		}
	}
	if n < 1 {
		return nil, serving.Prediction{}, "", fmt.Errorf("no sequence of %d + %d tokens fits the replica's KV cache (%d tokens)", a.isl, a.osl, sm.KVCapacityTokens())
	}
	p := sm.Steady(n, a.isl, a.osl, budget)
	p.MaxConcurrency = min(sm.MaxConcurrency(a.isl, a.osl), maxBatch)
	return sm, p, entry, nil
}

// predictCSV reads operating points from path and writes predictions to w.
// Every row is checked before anything is written, so a bad file writes
// nothing.
func predictCSV(w io.Writer, path string, prof *profiles.Profile, maxBatch, budget int) error {
	f, err := os.Open(path)
	if err != nil {
		return invalid(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	head, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return invalid(fmt.Errorf("%s: empty file, want a header line %s", path, strings.Join(predictInCols, ",")))
		}
		return invalid(fmt.Errorf("%s: %v", path, err))
	}
	for i := range head {
		head[i] = strings.TrimSpace(strings.TrimPrefix(head[i], "\ufeff"))
	}
	if strings.Join(head, ",") != strings.Join(predictInCols, ",") {
		return invalid(fmt.Errorf("%s:1: header %q, want %s", path, strings.Join(head, ","), strings.Join(predictInCols, ",")))
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(append(append([]string{}, predictInCols...), predictOutCols...))
	rows := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A *csv.ParseError names the line itself.
			return invalid(fmt.Errorf("%s: %v", path, err))
		}
		line, _ := r.FieldPos(0)
		if rows++; rows > maxPredictRows {
			return invalid(fmt.Errorf("%s: more than %d rows", path, maxPredictRows))
		}
		if len(rec) != len(predictInCols) {
			return invalid(fmt.Errorf("%s:%d: %d columns, want %d (%s)", path, line, len(rec), len(predictInCols), strings.Join(predictInCols, ",")))
		}
		a := predictArgs{gpu: strings.TrimSpace(rec[0]), model: strings.TrimSpace(rec[1]), precision: strings.TrimSpace(rec[3])}
		ints := []struct {
			col string
			dst *int
			opt bool
		}{{"tp", &a.tp, false}, {"batch", &a.batch, true}, {"isl", &a.isl, false}, {"osl", &a.osl, false}}
		for _, c := range ints {
			i := colIndex(c.col)
			v := strings.TrimSpace(rec[i])
			if v == "" && c.opt {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return invalid(fmt.Errorf("%s:%d: %s: %q is not an integer", path, line, c.col, v))
			}
			*c.dst = n
			if c.col == "batch" {
				a.batchSet = true
			}
		}
		_, p, _, err := predictOne(a, prof, maxBatch, budget)
		if err != nil {
			return invalid(fmt.Errorf("%s:%d: %v", path, line, firstLine(err)))
		}
		out := append([]string{}, rec...)
		out = append(out, fmtCSV(p.PrefillMs), fmtCSV(p.TPOTMs), fmtCSV(p.TTFTMs), fmtCSV(p.E2EMs),
			fmtCSV(p.OutputTokensPerS), strconv.Itoa(p.MaxConcurrency))
		_ = cw.Write(out)
	}
	cw.Flush()
	_, err = w.Write(buf.Bytes())
	return err
}

func colIndex(name string) int {
	for i, c := range predictInCols {
		if c == name {
			return i
		}
	}
	panic("cli: unknown predict column " + name)
}

func fmtCSV(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
