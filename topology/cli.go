package topology

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ParsePlace resolves a command-line place: a catalog name or alias (see
// Lookup), or "lat,lon" in degrees with lat in [-90, 90] and lon in
// [-180, 180]. A "lat,lon" place has Name equal to s and an empty Kind,
// TimeZone and Zone.
func ParsePlace(s string) (Place, error) {
	if p, ok := Lookup(s); ok {
		return p, nil
	}
	latText, lonText, ok := strings.Cut(s, ",")
	if !ok {
		return Place{}, fmt.Errorf("place %q: not in the catalog (see `fleetsim rtt --list`) and not \"lat,lon\"", s)
	}
	lat, err := parseCoord(latText, 90)
	if err != nil {
		return Place{}, fmt.Errorf("place %q: lat: %w", s, err)
	}
	lon, err := parseCoord(lonText, 180)
	if err != nil {
		return Place{}, fmt.Errorf("place %q: lon: %w", s, err)
	}
	return Place{Name: s, Lat: lat, Lon: lon}, nil
}

// parseCoord parses a coordinate in degrees and checks it lies in
// [-limit, limit].
func parseCoord(s string, limit float64) (float64, error) {
	s = strings.TrimSpace(s)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("not a number %q", s)
	}
	if !(v >= -limit && v <= limit) {
		return 0, fmt.Errorf("%v outside [%v, %v]", v, -limit, limit)
	}
	return v, nil
}

// rttCSVColumns are the input columns of WriteRTTCSV.
var rttCSVColumns = []string{"src_lat", "src_lon", "dst_lat", "dst_lon"}

// WriteRTTCSV reads coordinate pairs as CSV from r and writes each with its
// modelled RTT to w. The input has the header src_lat,src_lon,dst_lat,dst_lon
// (exactly, in this order; spaces around names are ignored) and one row per
// pair in degrees. The output has the header
// src_lat,src_lon,dst_lat,dst_lon,rtt_ms and one row per input row, in input
// order: the four input values as given but trimmed, and m's RTT in ms with
// three decimals.
//
// A bad row (wrong column count, a value that is not a number, lat outside
// [-90, 90], lon outside [-180, 180]) gives an error "line N: column: ...".
// The whole output is built before anything is written, so on any error
// other than a failed write, w receives nothing.
func WriteRTTCSV(r io.Reader, w io.Writer, m Model) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("rtt model: %w", err)
	}
	cr := newCSVReader(r)
	if err := readHeader(cr, rttCSVColumns, false); err != nil {
		return err
	}
	var out bytes.Buffer
	out.WriteString("src_lat,src_lon,dst_lat,dst_lon,rtt_ms\n")
	var fields [4]string
	var deg [4]float64
	for {
		rec, line, err := readRecord(cr)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(rec) != len(rttCSVColumns) {
			return fmt.Errorf("line %d: want %d columns (%s), got %d", line, len(rttCSVColumns), strings.Join(rttCSVColumns, ","), len(rec))
		}
		for c, col := range rttCSVColumns {
			fields[c] = strings.TrimSpace(rec[c])
			limit := 90.0
			if strings.HasSuffix(col, "_lon") {
				limit = 180
			}
			if deg[c], err = parseCoord(fields[c], limit); err != nil {
				return fmt.Errorf("line %d: %s: %w", line, col, err)
			}
		}
		rtt := m.RTTMs(GreatCircleKm(deg[0], deg[1], deg[2], deg[3]))
		for _, f := range fields {
			out.WriteString(f)
			out.WriteByte(',')
		}
		out.WriteString(strconv.FormatFloat(rtt, 'f', 3, 64))
		out.WriteByte('\n')
	}
	if _, err := out.WriteTo(w); err != nil {
		return fmt.Errorf("write rtt csv: %w", err)
	}
	return nil
}
