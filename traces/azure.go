package traces

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The Azure LLM inference trace 2023 columns (AzureLLMInferenceDataset2023.md
// in Azure/AzurePublicDataset).
const (
	colTimestamp = "TIMESTAMP"
	colContext   = "ContextTokens"
	colGenerated = "GeneratedTokens"
)

// azureHeader is the header line of the upstream files.
const azureHeader = colTimestamp + "," + colContext + "," + colGenerated

// stamp is a naive wall-clock time: seconds since 0001-01-01 00:00:00 and
// nanoseconds.
type stamp struct{ sec, nsec int64 }

func (a stamp) less(b stamp) bool { return a.sec < b.sec || (a.sec == b.sec && a.nsec < b.nsec) }

// sub returns a-b in seconds.
func (a stamp) sub(b stamp) float64 { return float64(a.sec-b.sec) + float64(a.nsec-b.nsec)*1e-9 }

// time returns the stamp as a UTC time.Time.
func (a stamp) time() time.Time {
	// unixToInternal is the seconds from 0001-01-01 to 1970-01-01 (the
	// constant of the same name in package time).
	const unixToInternal = (1969*365 + 1969/4 - 1969/100 + 1969/400) * 86400
	return time.Unix(a.sec-unixToInternal, a.nsec).UTC()
}

// readAzure reads an Azure LLM trace CSV.
func readAzure(lr *lineReader, c *collector) (*Trace, error) {
	var cols [3]int // positions of TIMESTAMP, ContextTokens, GeneratedTokens
	header := false
	t := &Trace{Name: c.name, Format: Azure}
	var first, min stamp
	var fields [3][]byte
	for {
		line, tooLong, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: read: %w", c.name, err)
		}
		if !header {
			if tooLong {
				return nil, &LineError{Name: c.name, Line: lr.n, Msg: "header line too long"}
			}
			if blank(line) {
				continue
			}
			if cols, err = azureColumns(line); err != nil {
				return nil, &LineError{Name: c.name, Line: lr.n, Msg: err.Error()}
			}
			header = true
			continue
		}
		if !tooLong && blank(line) {
			continue
		}
		if err := c.row(lr.n); err != nil {
			return nil, err
		}
		if tooLong {
			if err := c.bad(lr.n, fmt.Sprintf("line longer than %d bytes", MaxLineBytes)); err != nil {
				return nil, err
			}
			continue
		}
		ts, in, out, msg := parseAzureRow(line, cols, &fields)
		if msg != "" {
			if err := c.bad(lr.n, msg); err != nil {
				return nil, err
			}
			continue
		}
		if t.Len() == 0 {
			first, min = ts, ts
		} else if ts.less(min) {
			min = ts
		}
		t.add(ts.sub(first), in, out, nil)
		c.rep.Kept++
	}
	if !header {
		return nil, &LineError{Name: c.name, Msg: "empty file"}
	}
	if err := c.finish(); err != nil {
		return nil, err
	}
	if min != first {
		shift := min.sub(first)
		for i := range t.arrival {
			t.arrival[i] -= shift
		}
	}
	t.Start = min.time()
	t.finish(&c.rep)
	return t, nil
}

// azureColumns checks the header and returns where each column is.
func azureColumns(line []byte) ([3]int, error) {
	var cols [3]int
	seen := [3]bool{}
	names := strings.Split(string(line), ",")
	for i, n := range names {
		var k int
		switch n {
		case colTimestamp:
			k = 0
		case colContext:
			k = 1
		case colGenerated:
			k = 2
		default:
			return cols, fmt.Errorf("header: unexpected column %q (want %s)", n, azureHeader)
		}
		if seen[k] {
			return cols, fmt.Errorf("header: column %q appears twice", n)
		}
		seen[k] = true
		cols[k] = i
	}
	for k, ok := range seen {
		if !ok {
			return cols, fmt.Errorf("header: missing column %s (want %s)", []string{colTimestamp, colContext, colGenerated}[k], azureHeader)
		}
	}
	return cols, nil
}

// parseAzureRow parses one data line; msg is non-empty when it is bad.
// fields is scratch space.
func parseAzureRow(line []byte, cols [3]int, fields *[3][]byte) (ts stamp, in, out int32, msg string) {
	n := 0
	for rest := line; ; n++ {
		i := bytes.IndexByte(rest, ',')
		if n < 3 {
			if i < 0 {
				fields[n] = rest
			} else {
				fields[n] = rest[:i]
			}
		}
		if i < 0 {
			break
		}
		rest = rest[i+1:]
	}
	if n+1 != 3 {
		return ts, 0, 0, fmt.Sprintf("want 3 comma-separated fields, got %d", n+1)
	}
	ts, ok := parseStamp(fields[cols[0]])
	if !ok {
		return ts, 0, 0, fmt.Sprintf("%s: %s is not a time like 2023-11-16 18:15:46.6805900", colTimestamp, quote(fields[cols[0]]))
	}
	if in, msg = parseTokens(colContext, fields[cols[1]]); msg != "" {
		return ts, 0, 0, msg
	}
	if out, msg = parseTokens(colGenerated, fields[cols[2]]); msg != "" {
		return ts, 0, 0, msg
	}
	return ts, in, out, ""
}

// parseTokens parses a token count and checks it is in 1..MaxTokens.
func parseTokens(name string, b []byte) (int32, string) {
	v, ok := parseInt(b)
	if !ok {
		return 0, fmt.Sprintf("%s: %s is not an integer", name, quote(b))
	}
	return checkTokens(name, v)
}

// checkTokens checks that a token count is in 1..MaxTokens.
func checkTokens(name string, v int64) (int32, string) {
	if v <= 0 {
		return 0, fmt.Sprintf("%s: must be > 0, got %d", name, v)
	}
	if v > MaxTokens {
		return 0, fmt.Sprintf("%s: %d is more than %d tokens", name, v, MaxTokens)
	}
	return int32(v), ""
}

// parseInt parses an optionally negative decimal integer. Values beyond
// ±1e15 saturate there: they are far outside any valid count and still
// print as a number in messages.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	const limit = 1e15
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v < limit {
			v = v*10 + int64(c-'0')
		}
	}
	v = min(v, limit)
	if neg {
		v = -v
	}
	return v, true
}

// parseStamp parses "YYYY-MM-DD HH:MM:SS" with an optional fraction of 1 to
// 9 digits after a '.'.
func parseStamp(b []byte) (stamp, bool) {
	const layout = len("2006-01-02 15:04:05")
	if len(b) < layout || b[4] != '-' || b[7] != '-' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return stamp{}, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 59 {
		return stamp{}, false
	}
	var nsec int64
	if frac := b[layout:]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return stamp{}, false
		}
		f, ok := digits(frac[1:])
		if !ok {
			return stamp{}, false
		}
		for range 10 - len(frac) {
			f *= 10
		}
		nsec = f
	}
	s := (daysFromCivil(year, month, day)*24+hour)*3600 + minute*60 + sec
	return stamp{sec: s, nsec: nsec}, true
}

// digits parses a run of decimal digits (at most 18).
func digits(b []byte) (int64, bool) {
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, len(b) > 0
}

// daysIn returns the number of days in a month of the proleptic Gregorian
// calendar.
func daysIn(year, month int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days from 0001-01-01 to the given date of the
// proleptic Gregorian calendar (year >= 1), counting 365 days a year plus
// one per leap year before it.
func daysFromCivil(year, month, day int64) int64 {
	y := year - 1
	d := y*365 + y/4 - y/100 + y/400
	for m := int64(1); m < month; m++ {
		d += daysIn(year, m)
	}
	return d + day - 1
}
