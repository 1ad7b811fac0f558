package measurements

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/fleetsim/fleetsim/serving"
)

// ImportReport says what an importer did with its input.
type ImportReport struct {
	// Dataset is the name of the rows written (argonne, trtllm, mlperf, vidur-linear).
	Dataset string
	// Read is the number of data rows read from the input.
	Read int
	// Written is the number of rows returned.
	Written int
	// Skipped counts the rows not returned, by reason. Read = Written +
	// the sum of Skipped.
	Skipped map[string]int
}

func (r *ImportReport) skip(reason string) {
	if r.Skipped == nil {
		r.Skipped = map[string]int{}
	}
	r.Skipped[reason]++
}

// Reasons returns the skip reasons in sorted order.
func (r ImportReport) Reasons() []string {
	keys := make([]string, 0, len(r.Skipped))
	for k := range r.Skipped {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// String renders the report on several lines: the totals, then one line
// per skip reason in sorted order.
func (r ImportReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: read %d, wrote %d", r.Dataset, r.Read, r.Written)
	for _, k := range r.Reasons() {
		fmt.Fprintf(&b, "\n  skipped %d: %s", r.Skipped[k], k)
	}
	return b.String()
}

// Skip reasons shared by the importers.
const (
	reasonMoE       = "moe model not modelled"
	reasonNoModel   = "model not in catalog"
	reasonNoGPU     = "gpu not in catalog"
	reasonPrecision = "precision not modelled"
)

// moeMarkers are lower-case substrings of the names of mixture-of-experts
// models in the public datasets. The serving model is dense-only.
var moeMarkers = []string{"mixtral", "llama-4", "llama 4", "deepseek", "qwen3-30b-a3b", "qwen3-235b-a22b", "-a3b", "-a22b", "maverick", "scout"}

func isMoE(model string) bool {
	m := strings.ToLower(model)
	for _, k := range moeMarkers {
		if strings.Contains(m, k) {
			return true
		}
	}
	return false
}

// lookupModel resolves a dataset's model name, or returns the skip reason.
func lookupModel(name string) (serving.Model, string) {
	if isMoE(name) {
		return serving.Model{}, reasonMoE
	}
	m, ok := serving.LookupModel(name)
	if !ok {
		return serving.Model{}, reasonNoModel
	}
	return m, ""
}

// table is a source CSV read by column name.
type table struct {
	name string
	cols map[string]int
	rec  []string
	line int
	cr   *csv.Reader
}

// openTable reads the header of a source CSV and checks it has the named
// columns.
func openTable(r io.Reader, name string, need ...string) (*table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s:1: empty file: want a header", name)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	t := &table{name: name, cols: map[string]int{}, cr: cr}
	for i, h := range head {
		t.cols[strings.TrimSpace(h)] = i
	}
	var missing []string
	for _, n := range need {
		if _, ok := t.cols[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s:1: header lacks columns %s", name, strings.Join(missing, ", "))
	}
	return t, nil
}

// next reads the next record; it returns false at the end of the input.
func (t *table) next() (bool, error) {
	rec, err := t.cr.Read()
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, csvError(t.name, err)
	}
	t.rec = rec
	t.line, _ = t.cr.FieldPos(0)
	return true, nil
}

func (t *table) str(col string) string { return strings.TrimSpace(t.rec[t.cols[col]]) }

func (t *table) errf(col, format string, args ...any) error {
	return &FieldError{File: t.name, Line: t.line, Column: col, Err: fmt.Errorf(format, args...)}
}

// int reads a required positive integer cell.
func (t *table) int(col string) (int, error) {
	s := t.str(col)
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		return 0, t.errf(col, "want a positive integer, got %q", s)
	}
	return v, nil
}

// float reads a required finite positive number.
func (t *table) float(col string) (float64, error) {
	s := t.str(col)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, t.errf(col, "want a finite positive number, got %q", s)
	}
	return v, nil
}

// optFloat reads an optional number: empty is NaN (ok), anything not a
// finite positive number is an error.
func (t *table) optFloat(col string) (float64, error) {
	if t.str(col) == "" {
		return math.NaN(), nil
	}
	return t.float(col)
}

// sig5 rounds v to 5 significant digits. Derived values are rounded so
// that the embedded files stay small; a relative step of 1e-4 is far below
// the run-to-run noise of any of the datasets.
func sig5(v float64) float64 {
	if math.IsNaN(v) {
		return v
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 5, 64), 64)
	return r
}

// firstErr collects the first error of a sequence of reads.
type firstErr struct{ err error }

func (f *firstErr) int(t *table, col string) int {
	v, err := t.int(col)
	f.keep(err)
	return v
}

func (f *firstErr) float(t *table, col string) float64 {
	v, err := t.float(col)
	f.keep(err)
	return v
}

func (f *firstErr) optFloat(t *table, col string) float64 {
	v, err := t.optFloat(col)
	f.keep(err)
	return v
}

// nonNeg reads a required finite number >= 0 (an operator too fast to
// time is profiled as 0).
func (f *firstErr) nonNeg(t *table, col string) float64 {
	s := t.str(col)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0) || math.IsInf(v, 0) {
		f.keep(t.errf(col, "want a finite number >= 0, got %q", s))
		return 0
	}
	return v
}

func (f *firstErr) keep(err error) {
	if f.err == nil && err != nil {
		f.err = err
	}
}
