package measurements

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/fleetsim/fleetsim/serving"
)

// Mode says what a Row measured.
type Mode string

const (
	// Static is a static batch: Batch requests with ISL input and OSL
	// output tokens each, started together. E2Ems is the whole batch's
	// time and OutputTokensPerS is Batch × OSL / E2E.
	Static Mode = "static"
	// MaxThroughput is offline continuous batching with unbounded arrivals
	// and fixed ISL/OSL. OutputTokensPerS is the replica's total.
	MaxThroughput Mode = "max-throughput"
	// Server is Poisson arrivals at RateRPS to one replica. TTFTms, TPOTms
	// and E2Ems are medians; OutputTokensPerS is the replica's total.
	Server Mode = "server"
	// Linear is one transformer layer's non-attention operators at Tokens
	// tokens in the forward pass, per tensor-parallel shard. StepMs holds
	// that time.
	Linear Mode = "linear"
)

// Modes returns the valid modes in the order the format documents them.
func Modes() []Mode { return []Mode{Static, MaxThroughput, Server, Linear} }

// Header returns the canonical CSV header, column by column, in order.
func Header() []string { return slices.Clone(columns) }

// columns is the canonical header; never written.
var columns = []string{
	"dataset", "gpu", "model", "tp", "precision", "framework", "mode",
	"batch", "isl", "osl", "tokens",
	"rate_rps", "output_tokens_per_s", "ttft_ms", "tpot_ms", "e2e_ms", "step_ms",
	"source",
}

// Column indexes into columns.
const (
	colDataset = iota
	colGPU
	colModel
	colTP
	colPrecision
	colFramework
	colMode
	colBatch
	colISL
	colOSL
	colTokens
	colRate
	colOutTPS
	colTTFT
	colTPOT
	colE2E
	colStep
	colSource
	numCols
)

// Row is one measurement. Integer fields are 0 and float fields are NaN
// where the measurement has no value (an empty CSV cell).
type Row struct {
	// Dataset names the origin: argonne, trtllm, mlperf, vidur-linear, or
	// any name a user gives their own data.
	Dataset string
	// GPU is a serving GPU catalog id (serving.LookupGPU), canonical form.
	GPU string
	// Model is a serving model catalog id (serving.LookupModel), canonical form.
	Model string
	// TP is the number of GPUs of one replica (tensor parallelism), >= 1.
	TP int
	// Precision is the weight precision: bf16 or fp8.
	Precision serving.Precision
	// Framework is the serving stack (vLLM, TensorRT-LLM, ...); may be empty.
	Framework string
	// Mode says what was measured and which fields hold it.
	Mode Mode
	// Batch is the number of requests of a static batch.
	Batch int
	// ISL and OSL are the input and output tokens of each request.
	ISL, OSL int
	// Tokens is the number of tokens in one forward pass (linear mode).
	Tokens int
	// RateRPS is the offered Poisson request rate to the replica, in requests/s.
	RateRPS float64
	// OutputTokensPerS is the replica's output tokens per second.
	OutputTokensPerS float64
	// TTFTms is the (median) time to first token in ms.
	TTFTms float64
	// TPOTms is the (median) time per output token after the first, in ms.
	TPOTms float64
	// E2Ems is the end-to-end time in ms: the whole static batch's, or a
	// request's median in server mode.
	E2Ems float64
	// StepMs is the time of one layer's linear operators in ms (linear mode).
	StepMs float64
	// Source points at the origin row (a file path or dataset:line).
	Source string
}

// EmptyRow returns a Row with every float field NaN (not measured), ready
// to be filled in.
func EmptyRow() Row {
	nan := math.NaN()
	return Row{RateRPS: nan, OutputTokensPerS: nan, TTFTms: nan, TPOTms: nan, E2Ems: nan, StepMs: nan}
}

// FieldError is a problem with one cell of a measurement CSV. Its message
// reads "file:line: column: msg".
type FieldError struct {
	File   string
	Line   int
	Column string
	Err    error
}

func (e *FieldError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Column, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// columnError is a Validate problem tied to a column.
type columnError struct {
	col int
	err error
}

func (e *columnError) Error() string { return columns[e.col] + ": " + e.err.Error() }
func (e *columnError) Unwrap() error { return e.err }

func colErr(col int, format string, args ...any) error {
	return &columnError{col: col, err: fmt.Errorf(format, args...)}
}

// Validate checks r against the format: catalog ids in canonical form, a
// known precision and mode, positive counts, finite positive measurements,
// and the fields its mode requires (static: batch, isl, osl, e2e_ms;
// max-throughput: output_tokens_per_s; server: rate_rps and at least one
// of output_tokens_per_s, ttft_ms, tpot_ms, e2e_ms; linear: tokens,
// step_ms). It returns every problem joined, each naming its column.
func (r Row) Validate() error {
	var errs []error
	add := func(col int, format string, args ...any) { errs = append(errs, colErr(col, format, args...)) }
	if r.Dataset == "" {
		add(colDataset, "must not be empty")
	}
	if g, ok := serving.LookupGPU(r.GPU); !ok || g.ID != r.GPU {
		add(colGPU, "%q is not a catalog gpu id", r.GPU)
	}
	if m, ok := serving.LookupModel(r.Model); !ok || m.ID != r.Model {
		add(colModel, "%q is not a catalog model id", r.Model)
	}
	if r.TP < 1 {
		add(colTP, "must be >= 1, got %d", r.TP)
	}
	if r.Precision != serving.BF16 && r.Precision != serving.FP8 {
		add(colPrecision, "must be bf16 or fp8, got %q", string(r.Precision))
	}
	for _, c := range []struct {
		col int
		v   int
	}{{colBatch, r.Batch}, {colISL, r.ISL}, {colOSL, r.OSL}, {colTokens, r.Tokens}} {
		if c.v < 0 {
			add(c.col, "must be positive or empty, got %d", c.v)
		}
	}
	floats := []struct {
		col int
		v   float64
	}{{colRate, r.RateRPS}, {colOutTPS, r.OutputTokensPerS}, {colTTFT, r.TTFTms}, {colTPOT, r.TPOTms}, {colE2E, r.E2Ems}, {colStep, r.StepMs}}
	for _, c := range floats {
		if !math.IsNaN(c.v) && !(c.v > 0 && !math.IsInf(c.v, 0)) {
			add(c.col, "must be a finite positive number or empty, got %g", c.v)
		}
	}
	needInt := func(col, v int) {
		if v == 0 {
			add(col, "required in %s mode", r.Mode)
		}
	}
	needFloat := func(col int, v float64) {
		if math.IsNaN(v) {
			add(col, "required in %s mode", r.Mode)
		}
	}
	switch r.Mode {
	case Static:
		needInt(colBatch, r.Batch)
		needInt(colISL, r.ISL)
		needInt(colOSL, r.OSL)
		needFloat(colE2E, r.E2Ems)
	case MaxThroughput:
		needFloat(colOutTPS, r.OutputTokensPerS)
	case Server:
		needFloat(colRate, r.RateRPS)
		if math.IsNaN(r.OutputTokensPerS) && math.IsNaN(r.TTFTms) && math.IsNaN(r.TPOTms) && math.IsNaN(r.E2Ems) {
			add(colOutTPS, "server mode needs one of output_tokens_per_s, ttft_ms, tpot_ms, e2e_ms")
		}
	case Linear:
		needInt(colTokens, r.Tokens)
		needFloat(colStep, r.StepMs)
	default:
		add(colMode, "must be one of static, max-throughput, server, linear, got %q", string(r.Mode))
	}
	return errors.Join(errs...)
}

// ReadCSV reads a measurement CSV. The header must be exactly Header() and
// every row must pass Row.Validate. name is the file name used in error
// messages, which read "name:line: column: msg"; every problem of the file
// is reported (errors.Join), up to 20. ReadCSV never panics on bad input.
func ReadCSV(r io.Reader, name string) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked here, to name the line
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, &FieldError{File: name, Line: 1, Err: errors.New("empty file: want a header")}
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	if strings.Join(head, ",") != strings.Join(columns, ",") {
		return nil, &FieldError{File: name, Line: 1, Err: fmt.Errorf("header must be %q, got %q", strings.Join(columns, ","), strings.Join(head, ","))}
	}
	const maxErrs = 20
	var rows []Row
	var errs []error
	for len(errs) < maxErrs {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, csvError(name, err))
			break // the csv reader cannot resync after a syntax error
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != numCols {
			errs = append(errs, &FieldError{File: name, Line: line, Err: fmt.Errorf("got %d fields, want %d", len(rec), numCols)})
			continue
		}
		row, rowErrs := parseRow(rec)
		if err := row.Validate(); rowErrs == nil && err != nil {
			rowErrs = unjoin(err)
		}
		for _, e := range rowErrs {
			fe := &FieldError{File: name, Line: line, Err: e}
			var ce *columnError
			if errors.As(e, &ce) {
				fe.Column, fe.Err = columns[ce.col], ce.err
			}
			errs = append(errs, fe)
		}
		if rowErrs == nil {
			rows = append(rows, row)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rows, nil
}

// unjoin splits an errors.Join result into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FieldError{File: name, Line: pe.Line, Err: pe.Err}
	}
	return fmt.Errorf("%s: %w", name, err)
}

// parseRow converts one record's cells; it reports cells that are not
// numbers. Validate checks the values.
func parseRow(rec []string) (Row, []error) {
	var errs []error
	intCell := func(col int) int {
		s := rec[col]
		if s == "" {
			return 0
		}
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			errs = append(errs, colErr(col, "must be a positive integer or empty, got %q", s))
			return 0
		}
		return v
	}
	floatCell := func(col int) float64 {
		s := rec[col]
		if s == "" {
			return math.NaN()
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			errs = append(errs, colErr(col, "must be a finite positive number or empty, got %q", s))
			return math.NaN()
		}
		return v
	}
	r := Row{
		Dataset:          rec[colDataset],
		GPU:              rec[colGPU],
		Model:            rec[colModel],
		Precision:        serving.Precision(rec[colPrecision]),
		Framework:        rec[colFramework],
		Mode:             Mode(rec[colMode]),
		Source:           rec[colSource],
		RateRPS:          floatCell(colRate),
		OutputTokensPerS: floatCell(colOutTPS),
		TTFTms:           floatCell(colTTFT),
		TPOTms:           floatCell(colTPOT),
		E2Ems:            floatCell(colE2E),
		StepMs:           floatCell(colStep),
		Batch:            intCell(colBatch),
		ISL:              intCell(colISL),
		OSL:              intCell(colOSL),
		Tokens:           intCell(colTokens),
	}
	if rec[colTP] == "" {
		errs = append(errs, colErr(colTP, "required"))
	} else {
		r.TP = intCell(colTP)
	}
	return r, errs
}

// WriteCSV writes rows in the canonical format: Header(), then one line per
// row, numbers in Go's shortest form (strconv 'g', -1), empty cells for 0
// counts and NaN measurements. It validates every row first and writes
// nothing if one is invalid.
func WriteCSV(w io.Writer, rows []Row) error {
	var errs []error
	for i, r := range rows {
		if err := r.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("row %d (%s): %w", i, r.Source, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(columns); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	rec := make([]string, numCols)
	for _, r := range rows {
		rec[colDataset] = r.Dataset
		rec[colGPU] = r.GPU
		rec[colModel] = r.Model
		rec[colTP] = strconv.Itoa(r.TP)
		rec[colPrecision] = string(r.Precision)
		rec[colFramework] = r.Framework
		rec[colMode] = string(r.Mode)
		rec[colBatch] = fmtInt(r.Batch)
		rec[colISL] = fmtInt(r.ISL)
		rec[colOSL] = fmtInt(r.OSL)
		rec[colTokens] = fmtInt(r.Tokens)
		rec[colRate] = fmtFloat(r.RateRPS)
		rec[colOutTPS] = fmtFloat(r.OutputTokensPerS)
		rec[colTTFT] = fmtFloat(r.TTFTms)
		rec[colTPOT] = fmtFloat(r.TPOTms)
		rec[colE2E] = fmtFloat(r.E2Ems)
		rec[colStep] = fmtFloat(r.StepMs)
		rec[colSource] = r.Source
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write %s: %w", r.Source, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func fmtInt(v int) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(v)
}

func fmtFloat(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Open reads the measurement CSV at path (see ReadCSV).
func Open(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open measurements: %w", err)
	}
	defer f.Close()
	return ReadCSV(f, path)
}
