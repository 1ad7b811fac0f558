package topology

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Measurement is one measured RTT between two places, applied symmetrically.
type Measurement struct {
	// From and To are place names.
	From, To string
	// RTTMs is the measured round-trip time in ms.
	RTTMs float64
}

// ReadMeasurementsCSV reads measurements from CSV with the header
// src,dst,rtt_ms (names trimmed and matched ignoring case, in this order)
// and one measurement per row. Errors name the line and the column, for
// example "line 7: rtt_ms: must be finite and >= 0, got -3".
func ReadMeasurementsCSV(r io.Reader) ([]Measurement, error) {
	cr := newCSVReader(r)
	if err := readHeader(cr, []string{"src", "dst", "rtt_ms"}, true); err != nil {
		return nil, err
	}
	var out []Measurement
	for {
		rec, line, err := readRecord(cr)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(rec) != 3 {
			return nil, fmt.Errorf("line %d: want 3 columns (src,dst,rtt_ms), got %d", line, len(rec))
		}
		src, dst := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if src == "" {
			return nil, fmt.Errorf("line %d: src: empty", line)
		}
		if dst == "" {
			return nil, fmt.Errorf("line %d: dst: empty", line)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[2]), 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: rtt_ms: not a number %q", line, strings.TrimSpace(rec[2]))
		}
		if !(v >= 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("line %d: rtt_ms: must be finite and >= 0, got %v", line, v)
		}
		out = append(out, Measurement{From: src, To: dst, RTTMs: v})
	}
}

// newCSVReader returns a CSV reader that leaves column counts and field
// trimming to the caller, so that errors can name lines and columns.
func newCSVReader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return cr
}

// readRecord reads one record and the line it starts on; parse errors are
// returned as "line N: ...". It returns io.EOF at the end.
func readRecord(cr *csv.Reader) ([]string, int, error) {
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, 0, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.Line, fmt.Errorf("line %d: %w", pe.Line, pe.Err)
		}
		return nil, 0, fmt.Errorf("read csv: %w", err)
	}
	line, _ := cr.FieldPos(0)
	return rec, line, nil
}

// readHeader reads the header record and checks it is exactly want (fields
// trimmed, a leading UTF-8 byte order mark ignored, case ignored if fold).
func readHeader(cr *csv.Reader, want []string, fold bool) error {
	rec, line, err := readRecord(cr)
	if err == io.EOF {
		return fmt.Errorf("line 1: missing header %s", strings.Join(want, ","))
	}
	if err != nil {
		return err
	}
	ok := len(rec) == len(want)
	for i := 0; ok && i < len(rec); i++ {
		got := strings.TrimSpace(rec[i])
		if i == 0 {
			got = strings.TrimSpace(strings.TrimPrefix(got, "\ufeff"))
		}
		ok = got == want[i] || fold && strings.EqualFold(got, want[i])
	}
	if !ok {
		return fmt.Errorf("line %d: header: want %s, got %s", line, strings.Join(want, ","), strings.Join(rec, ","))
	}
	return nil
}

// Matrix holds the RTT between every pair of a fixed list of places,
// precomputed so that a lookup costs O(1).
type Matrix struct {
	n        int
	rtt      []float64
	measured []bool
}

// NewMatrix computes the RTT matrix over places: the model's Between for
// every pair (SameSiteRTTMs on the diagonal), then each measurement,
// applied to both directions. Measurement names are matched to
// places[i].Name ignoring case. It returns an error when the model is
// invalid, a place has an empty or repeated name (ignoring case) or
// coordinates out of range, a measurement names a place not in places, or
// two measurements name the same pair (in either direction).
func NewMatrix(places []Place, m Model, measured []Measurement) (*Matrix, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("rtt model: %w", err)
	}
	index := make(map[string]int, len(places))
	for i, p := range places {
		key := strings.ToLower(p.Name)
		switch {
		case p.Name == "":
			return nil, fmt.Errorf("places[%d]: empty name", i)
		case !(p.Lat >= -90 && p.Lat <= 90):
			return nil, fmt.Errorf("places[%d] (%s): lat %v outside [-90, 90]", i, p.Name, p.Lat)
		case !(p.Lon >= -180 && p.Lon <= 180):
			return nil, fmt.Errorf("places[%d] (%s): lon %v outside [-180, 180]", i, p.Name, p.Lon)
		}
		if j, dup := index[key]; dup {
			return nil, fmt.Errorf("places[%d]: name %q repeats places[%d]", i, p.Name, j)
		}
		index[key] = i
	}
	n := len(places)
	x := &Matrix{n: n, rtt: make([]float64, n*n), measured: make([]bool, n*n)}
	for i := range places {
		x.rtt[i*n+i] = m.SameSiteRTTMs
		for j := i + 1; j < n; j++ {
			v := m.Between(places[i], places[j])
			x.rtt[i*n+j], x.rtt[j*n+i] = v, v
		}
	}
	seen := make(map[[2]int]int, len(measured))
	for k, ms := range measured {
		i, ok := index[strings.ToLower(ms.From)]
		if !ok {
			return nil, fmt.Errorf("measured[%d]: unknown place %q", k, ms.From)
		}
		j, ok := index[strings.ToLower(ms.To)]
		if !ok {
			return nil, fmt.Errorf("measured[%d]: unknown place %q", k, ms.To)
		}
		if !(ms.RTTMs >= 0) || math.IsInf(ms.RTTMs, 0) {
			return nil, fmt.Errorf("measured[%d] (%s, %s): rtt must be finite and >= 0 ms, got %v", k, ms.From, ms.To, ms.RTTMs)
		}
		pair := [2]int{min(i, j), max(i, j)}
		if first, dup := seen[pair]; dup {
			return nil, fmt.Errorf("measured[%d] (%s, %s): same pair as measured[%d]", k, ms.From, ms.To, first)
		}
		seen[pair] = k
		x.rtt[i*n+j], x.rtt[j*n+i] = ms.RTTMs, ms.RTTMs
		x.measured[i*n+j], x.measured[j*n+i] = true, true
	}
	return x, nil
}

// Len returns the number of places.
func (x *Matrix) Len() int { return x.n }

// RTTMs returns the RTT in ms between places i and j. It panics when i or j
// is out of range, a programmer error.
func (x *Matrix) RTTMs(i, j int) float64 { return x.rtt[x.cell(i, j)] }

// Measured reports whether the RTT between places i and j was measured
// rather than modelled. It panics when i or j is out of range.
func (x *Matrix) Measured(i, j int) bool { return x.measured[x.cell(i, j)] }

// cell returns the index of (i, j), panicking when out of range.
func (x *Matrix) cell(i, j int) int {
	if uint(i) >= uint(x.n) || uint(j) >= uint(x.n) {
		panic(fmt.Sprintf("topology: matrix index (%d, %d) out of range [0, %d)", i, j, x.n))
	}
	return i*x.n + j
}
