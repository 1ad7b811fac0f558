// Package shapes extracts the built-in workload shapes of package workloads
// from the public traces in the shared data folder and renders them as Go
// source. It is used by the generator (workloads/internal/gen) and by the
// test that keeps the committed tables in step with the data.
package shapes

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"go/format"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Grid returns the cumulative probabilities at which every shape is
// tabulated: 0, 0.01, ..., 0.99 in steps of 0.01, then 0.991 ... 0.999 and
// 0.9991 ... 0.9999, then 1 (119 knots). The upper tail is finer because the
// token and time shapes are heavy-tailed: with 101 equal steps the last
// segment, from p99 to the maximum, alone shifts the mean of
// swebench-output by about +100 % (see docs/workloads.md).
func Grid() []float64 {
	g := make([]float64, 0, 119)
	for i := range 100 {
		g = append(g, float64(i)/100)
	}
	for i := 1; i <= 9; i++ {
		g = append(g, float64(990+i)/1000)
	}
	for i := 1; i <= 9; i++ {
		g = append(g, float64(9990+i)/10000)
	}
	return append(g, 1)
}

// Quantile returns the p-quantile of the sorted values by linear
// interpolation between order statistics (Hyndman and Fan type 7, the R and
// NumPy default): h = (n-1)p, x[⌊h⌋] + (h-⌊h⌋)(x[⌊h⌋+1]-x[⌊h⌋]). It panics
// if sorted is empty (programmer error).
func Quantile(sorted []float64, p float64) float64 {
	h := float64(len(sorted)-1) * p
	i := int(math.Floor(h))
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-float64(i))*(sorted[i+1]-sorted[i])
}

// Shape is one built-in shape: its description and the data it comes from.
type Shape struct {
	Name, Unit, Description, Source string
	// Values are the data points, sorted.
	Values []float64
}

// Table returns the shape's quantiles at Grid, rounded to 0.01 (tokens and
// seconds need no finer step; rounding is monotone, so the table stays
// non-decreasing).
func (s Shape) Table() []float64 {
	g := Grid()
	q := make([]float64, len(g))
	for i, p := range g {
		q[i] = math.Round(Quantile(s.Values, p)*100) / 100
	}
	return q
}

// Extra holds facts found while extracting that are not shapes.
type Extra struct {
	// Tasks and Calls count the SWE-bench tasks and LLM calls.
	Tasks, Calls int
	// ReasoningAboveCompletion counts calls whose reasoning_tokens exceed
	// completion_tokens; for those the completion excludes the reasoning.
	ReasoningAboveCompletion int
	// NegativeToolResults counts consecutive-call pairs whose prompt grew by
	// less than the visible output before (clipped to 0 in the shape), and
	// PromptShrank those whose prompt shrank outright, out of Pairs.
	NegativeToolResults, PromptShrank, Pairs int
	// EmptyObservationOverhead is the median prompt growth minus visible
	// output over pairs whose tool output was the 45-character empty
	// observation: the tokens of the observation template itself.
	EmptyObservationOverhead float64
	// CharsPerToken is the median of next_observation_chars over the tool
	// result tokens, over pairs with more than 50 tool result tokens.
	CharsPerToken float64
	// Azure holds the arrival statistics of the two Azure traces.
	Azure []Trace
}

// Trace is the arrival statistics of one Azure trace.
type Trace struct {
	Name      string
	Requests  int
	SpanS     float64 // first to last arrival, s
	RatePerS  float64 // (Requests-1)/SpanS
	MedianGap float64 // s
	P99Gap    float64 // s
	GapCV     float64 // standard deviation / mean of the inter-arrival times
	MaxGapS   float64
}

const (
	azureDir    = "azure_llm_trace_2023"
	swebenchDir = "agent_swebench_trajectories"

	// Attribution copied from the shared data READMEs.
	azureSource = "Azure LLM inference trace 2023 (github.com/Azure/AzurePublicDataset @ b469a113, " +
		"data/AzureLLMInferenceTrace_%s.csv, time-ordered subset of 2023-11-16 18:15-19:03), CC-BY 4.0; " +
		"Patel et al., \"Splitwise: Efficient generative LLM inference using phase splitting\", ISCA 2024"
	swebenchSource = "mini-swe-agent v1.15.0 + google/gemini-3-pro-preview on SWE-bench Verified " +
		"(github.com/gruckion/mini-swe-agent @ d12a71af, swebench_results/20251118_gemini-3-pro-74pct, " +
		"%d of 500 tasks), MIT"
)

// Extract reads the shared data folder and returns the shapes sorted by
// name, and the extra facts.
func Extract(dataDir string) ([]Shape, Extra, error) {
	var ex Extra
	var out []Shape
	for _, svc := range []string{"code", "conv"} {
		shp, tr, err := azure(dataDir, svc)
		if err != nil {
			return nil, ex, err
		}
		out = append(out, shp...)
		ex.Azure = append(ex.Azure, tr)
	}
	shp, err := swebench(dataDir, &ex)
	if err != nil {
		return nil, ex, err
	}
	out = append(out, shp...)
	for i := range out {
		slices.Sort(out[i].Values)
	}
	slices.SortFunc(out, func(a, b Shape) int { return strings.Compare(a.Name, b.Name) })
	return out, ex, nil
}

// readCSV reads a CSV file with a header and returns a column index by name
// and the records.
func readCSV(path string) (map[string]int, [][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read data: %w", err)
	}
	defer f.Close()
	rd := csv.NewReader(f)
	head, err := rd.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("read header of %s: %w", path, err)
	}
	col := make(map[string]int, len(head))
	for i, h := range head {
		col[h] = i
	}
	var recs [][]string
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", path, err)
		}
		recs = append(recs, rec)
	}
	return col, recs, nil
}

// field returns the named column of rec as a number.
func field(col map[string]int, rec []string, name string) (float64, error) {
	i, ok := col[name]
	if !ok {
		return 0, fmt.Errorf("no column %q", name)
	}
	v, err := strconv.ParseFloat(rec[i], 64)
	if err != nil {
		return 0, fmt.Errorf("column %s: %w", name, err)
	}
	return v, nil
}

func azure(dataDir, svc string) ([]Shape, Trace, error) {
	path := filepath.Join(dataDir, azureDir, "AzureLLMInferenceTrace_"+svc+".csv")
	col, recs, err := readCSV(path)
	if err != nil {
		return nil, Trace{}, err
	}
	var prompt, output, at []float64
	for n, rec := range recs {
		p, err1 := field(col, rec, "ContextTokens")
		o, err2 := field(col, rec, "GeneratedTokens")
		ts, err3 := time.Parse("2006-01-02 15:04:05.0000000", rec[col["TIMESTAMP"]])
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, Trace{}, fmt.Errorf("%s row %d: %w", path, n+2, err)
		}
		prompt = append(prompt, p)
		output = append(output, o)
		at = append(at, float64(ts.UnixNano())/1e9)
	}
	src := fmt.Sprintf(azureSource, svc)
	long := map[string]string{"code": "code", "conv": "conversation"}[svc]
	shp := []Shape{
		{
			Name: "azure-" + svc + "-prompt", Unit: "tokens", Source: src, Values: prompt,
			Description: fmt.Sprintf("prompt (context) tokens per request of the Azure %s service, %d requests", long, len(prompt)),
		},
		{
			Name: "azure-" + svc + "-output", Unit: "tokens", Source: src, Values: output,
			Description: fmt.Sprintf("generated tokens per request of the Azure %s service, %d requests", long, len(output)),
		},
	}
	slices.Sort(at)
	gaps := make([]float64, 0, len(at)-1)
	for i := 1; i < len(at); i++ {
		gaps = append(gaps, at[i]-at[i-1])
	}
	mean, sd := meanSD(gaps)
	span := at[len(at)-1] - at[0]
	sorted := slices.Sorted(slices.Values(gaps))
	tr := Trace{
		Name: svc, Requests: len(at), SpanS: span, RatePerS: float64(len(at)-1) / span,
		MedianGap: Quantile(sorted, 0.5), P99Gap: Quantile(sorted, 0.99), GapCV: sd / mean,
		MaxGapS: sorted[len(sorted)-1],
	}
	return shp, tr, nil
}

func meanSD(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)))
}

// call is one row of llm_calls.csv.
type call struct {
	step                              int
	created, prompt, completion, reas float64
	obsChars                          float64 // -1 when blank
}

// generated is the number of tokens the model decoded: completion_tokens
// includes the reasoning tokens, except in rows where reasoning exceeds
// completion, whose completion counts only the visible text.
func (c call) generated() float64 {
	if c.reas > c.completion {
		return c.completion + c.reas
	}
	return c.completion
}

// visible is the number of output tokens that go back into the history.
func (c call) visible() float64 {
	if c.reas > c.completion {
		return c.completion
	}
	return c.completion - c.reas
}

func swebench(dataDir string, ex *Extra) ([]Shape, error) {
	dir := filepath.Join(dataDir, swebenchDir)
	col, recs, err := readCSV(filepath.Join(dir, "llm_calls.csv"))
	if err != nil {
		return nil, err
	}
	byTask := map[string][]call{}
	for n, rec := range recs {
		var c call
		var errs [6]error
		var step float64
		step, errs[0] = field(col, rec, "step")
		c.step = int(step)
		c.created, errs[1] = field(col, rec, "created_unix_s")
		c.prompt, errs[2] = field(col, rec, "prompt_tokens")
		c.completion, errs[3] = field(col, rec, "completion_tokens")
		c.reas, errs[4] = field(col, rec, "reasoning_tokens")
		c.obsChars = -1
		if rec[col["next_observation_chars"]] != "" {
			c.obsChars, errs[5] = field(col, rec, "next_observation_chars")
		}
		if err := errors.Join(errs[:]...); err != nil {
			return nil, fmt.Errorf("llm_calls.csv row %d: %w", n+2, err)
		}
		id := rec[col["instance_id"]]
		byTask[id] = append(byTask[id], c)
	}
	tcol, trecs, err := readCSV(filepath.Join(dir, "tasks.csv"))
	if err != nil {
		return nil, err
	}
	var steps, initial, output, tool, gap, overhead, cpt []float64
	for _, rec := range trecs {
		id := rec[tcol["instance_id"]]
		n, err := field(tcol, rec, "api_calls")
		if err != nil {
			return nil, fmt.Errorf("tasks.csv %s: %w", id, err)
		}
		calls := byTask[id]
		slices.SortFunc(calls, func(a, b call) int { return a.step - b.step })
		if len(calls) != int(n) {
			return nil, fmt.Errorf("task %s: api_calls is %v but llm_calls.csv has %d calls", id, n, len(calls))
		}
		for i, c := range calls {
			if c.step != i {
				return nil, fmt.Errorf("task %s: steps are not 0..%d", id, len(calls)-1)
			}
		}
		steps = append(steps, n)
		initial = append(initial, calls[0].prompt)
		for i, c := range calls {
			output = append(output, c.generated())
			if c.reas > c.completion {
				ex.ReasoningAboveCompletion++
			}
			if i+1 == len(calls) {
				continue
			}
			nx := calls[i+1]
			d := nx.prompt - c.prompt - c.visible()
			ex.Pairs++
			if d < 0 {
				ex.NegativeToolResults++
			}
			if nx.prompt < c.prompt {
				ex.PromptShrank++
			}
			tool = append(tool, max(0, d))
			gap = append(gap, nx.created-c.created)
			// 45 characters is by far the most common observation length
			// (a quarter of all); it is the length of
			// "<returncode>0</returncode>\n<output>\n</output>", an empty output.
			if c.obsChars == 45 {
				overhead = append(overhead, d)
			}
			if d > 50 && c.obsChars >= 0 {
				cpt = append(cpt, c.obsChars/d)
			}
		}
		delete(byTask, id)
	}
	if len(byTask) > 0 {
		return nil, fmt.Errorf("llm_calls.csv has %d tasks that are not in tasks.csv", len(byTask))
	}
	ex.Tasks = len(steps)
	ex.Calls = len(output)
	slices.Sort(overhead)
	slices.Sort(cpt)
	if len(overhead) > 0 {
		ex.EmptyObservationOverhead = Quantile(overhead, 0.5)
	}
	if len(cpt) > 0 {
		ex.CharsPerToken = Quantile(cpt, 0.5)
	}
	src := fmt.Sprintf(swebenchSource, len(steps))
	return []Shape{
		{Name: "swebench-steps", Unit: "calls", Source: src, Values: steps,
			Description: fmt.Sprintf("LLM calls per agent task (tasks.csv api_calls), %d tasks", len(steps))},
		{Name: "swebench-initial-prompt", Unit: "tokens", Source: src, Values: initial,
			Description: fmt.Sprintf("prompt tokens of the first call of a task, %d tasks", len(initial))},
		{Name: "swebench-output", Unit: "tokens", Source: src, Values: output,
			Description: fmt.Sprintf("generated tokens per call, hidden reasoning included (it costs decode time), %d calls", len(output))},
		{Name: "swebench-tool-result", Unit: "tokens", Source: src, Values: tool,
			Description: fmt.Sprintf("context growth between consecutive calls not explained by the visible previous output, "+
				"max(0, prompt[k+1]-prompt[k]-visible[k]): the tool result and its template, %d call pairs", len(tool))},
		{Name: "swebench-step-gap-s", Unit: "s", Source: src, Values: gap,
			Description: fmt.Sprintf("seconds between consecutive calls of a task (LLM latency plus tool time, 1-s resolution), %d call pairs", len(gap))},
	}, nil
}

// Render returns the Go source of the generated file of package workloads.
func Render(shapes []Shape) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by go run ./workloads/internal/gen; DO NOT EDIT.\n\n")
	b.WriteString("package workloads\n\n")
	b.WriteString("// builtinP are the cumulative probabilities at which every built-in shape is\n")
	b.WriteString("// tabulated; see workloads/internal/shapes.Grid.\n")
	b.WriteString("var builtinP = []float64{")
	writeFloats(&b, Grid())
	b.WriteString("}\n\n")
	b.WriteString("// builtinShapes are the built-in shapes, sorted by name; Q holds the\n")
	b.WriteString("// type-7 sample quantiles at builtinP, rounded to 0.01.\n")
	b.WriteString("var builtinShapes = []builtinShape{\n")
	for _, s := range shapes {
		fmt.Fprintf(&b, "{\ninfo: BuiltinInfo{\nName: %q,\nUnit: %q,\nDescription: %q,\nSource: %q,\n},\nq: []float64{",
			s.Name, s.Unit, s.Description, s.Source)
		writeFloats(&b, s.Table())
		b.WriteString("},\n},\n")
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("format generated source: %w", err)
	}
	return src, nil
}

func writeFloats(b *bytes.Buffer, v []float64) {
	for i, x := range v {
		if i%10 == 0 {
			b.WriteString("\n")
		}
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
		b.WriteString(", ")
	}
	b.WriteString("\n")
}

// TableMean is the mean of the piecewise-linear inverse CDF through
// (Grid, Table): what workloads reports as the shape's Mean.
func TableMean(q []float64) float64 {
	g := Grid()
	var m float64
	for i := 1; i < len(g); i++ {
		m += (q[i-1] + q[i]) / 2 * (g[i] - g[i-1])
	}
	return m
}

// Facts returns a Markdown report of each shape (count, quantiles, sample
// mean and the mean of its table) and of the extra facts.
func Facts(shapes []Shape, ex Extra) string {
	var b strings.Builder
	b.WriteString("| shape | unit | n | min | p50 | p90 | p99 | max | sample mean | table mean | table/sample |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range shapes {
		v := s.Values
		mean, _ := meanSD(v)
		tm := TableMean(s.Table())
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %.1f | %.1f | %+.2f %% |\n",
			s.Name, s.Unit, len(v), num(v[0]), num(Quantile(v, 0.5)), num(Quantile(v, 0.9)),
			num(Quantile(v, 0.99)), num(v[len(v)-1]), mean, tm, 100*(tm-mean)/mean)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "SWE-bench: %d tasks, %d calls, %d call pairs.\n", ex.Tasks, ex.Calls, ex.Pairs)
	fmt.Fprintf(&b, "Calls with reasoning_tokens > completion_tokens: %d.\n", ex.ReasoningAboveCompletion)
	fmt.Fprintf(&b, "Pairs with prompt growth below the visible output (clipped to 0): %d (%.1f %%); pairs whose prompt shrank: %d.\n",
		ex.NegativeToolResults, 100*float64(ex.NegativeToolResults)/float64(ex.Pairs), ex.PromptShrank)
	fmt.Fprintf(&b, "Median growth for an empty tool output (45 chars): %s tokens. Median chars per tool-result token (> 50 tokens): %.2f.\n\n",
		num(ex.EmptyObservationOverhead), ex.CharsPerToken)
	b.WriteString("| Azure trace | requests | span s | rate req/s | median gap s | p99 gap s | gap CV | max gap s |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, t := range ex.Azure {
		fmt.Fprintf(&b, "| %s | %d | %.0f | %.2f | %.3f | %.2f | %.2f | %.1f |\n",
			t.Name, t.Requests, t.SpanS, t.RatePerS, t.MedianGap, t.P99Gap, t.GapCV, t.MaxGapS)
	}
	return b.String()
}

func num(x float64) string { return strconv.FormatFloat(math.Round(x*100)/100, 'f', -1, 64) }
