package traces

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
)

// mooncakeRow is one line of a Mooncake trace (FAST25-release/README.md in
// kvcache-ai/Mooncake). Pointers tell a missing field from a zero one.
type mooncakeRow struct {
	Timestamp    *float64 `json:"timestamp"`     // ms since the start of the trace
	InputLength  *int64   `json:"input_length"`  // tokens
	OutputLength *int64   `json:"output_length"` // tokens
	HashIDs      []uint64 `json:"hash_ids"`      // prefix-block ids
}

// readMooncake reads a Mooncake JSON Lines trace.
func readMooncake(lr *lineReader, c *collector) (*Trace, error) {
	t := &Trace{Name: c.name, Format: Mooncake, BlockTokens: c.opt.BlockTokens, hashOff: []int{0}}
	var scratch []uint64
	nonBlank := false
	for {
		line, tooLong, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: read: %w", c.name, err)
		}
		if !tooLong && blank(line) {
			continue
		}
		nonBlank = true
		if err := c.row(lr.n); err != nil {
			return nil, err
		}
		if tooLong {
			if err := c.bad(lr.n, fmt.Sprintf("line longer than %d bytes", MaxLineBytes)); err != nil {
				return nil, err
			}
			continue
		}
		row := mooncakeRow{HashIDs: scratch[:0]}
		msg := decodeLine(line, &row)
		var in, out int32
		if msg == "" {
			in, out, msg = checkMooncake(&row, c.opt.BlockTokens)
		}
		if msg != "" {
			if err := c.bad(lr.n, msg); err != nil {
				return nil, err
			}
			continue
		}
		scratch = row.HashIDs
		t.add(*row.Timestamp/1000, in, out, row.HashIDs)
		c.rep.Kept++
	}
	if !nonBlank {
		return nil, &LineError{Name: c.name, Msg: "empty file"}
	}
	if err := c.finish(); err != nil {
		return nil, err
	}
	t.finish(&c.rep)
	return t, nil
}

// checkMooncake validates a decoded row.
func checkMooncake(row *mooncakeRow, block int) (in, out int32, msg string) {
	switch {
	case row.Timestamp == nil:
		return 0, 0, "missing timestamp"
	case row.InputLength == nil:
		return 0, 0, "missing input_length"
	case row.OutputLength == nil:
		return 0, 0, "missing output_length"
	}
	if msg = checkTime("timestamp", *row.Timestamp); msg != "" {
		return 0, 0, msg
	}
	if in, msg = checkTokens("input_length", *row.InputLength); msg != "" {
		return 0, 0, msg
	}
	if out, msg = checkTokens("output_length", *row.OutputLength); msg != "" {
		return 0, 0, msg
	}
	if n := len(row.HashIDs); n > 0 {
		if want := (int(in) + block - 1) / block; n != want {
			return 0, 0, fmt.Sprintf("hash_ids: %d ids for %d input tokens, want ceil(%d/%d) = %d", n, in, in, block, want)
		}
	}
	return in, out, ""
}

// checkTime checks that a time is finite and not negative.
func checkTime(name string, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return fmt.Sprintf("%s: must be a finite time >= 0, got %g", name, v)
	}
	return ""
}

// decodeLine decodes one JSON object from line into v, strictly: unknown
// fields and anything after the object are errors. It returns a message,
// empty on success.
func decodeLine(line []byte, v any) string {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSON(err)
	}
	if rest := bytes.TrimSpace(line[dec.InputOffset():]); len(rest) > 0 {
		return fmt.Sprintf("unexpected %s after the JSON object", quote(rest))
	}
	return ""
}

// describeJSON turns a decoding error into a message that names the field.
func describeJSON(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := "a number"
		switch te.Type.Kind() {
		case reflect.Int64, reflect.Int32, reflect.Int:
			want = "an integer"
		case reflect.Uint64:
			want = "a non-negative integer below 2^64"
		case reflect.String:
			want = "a string"
		case reflect.Slice:
			want = "an array"
		case reflect.Struct:
			want = "an object"
		}
		if te.Field == "" {
			return fmt.Sprintf("line: %s is not %s", te.Value, want)
		}
		return fmt.Sprintf("%s: %s is not %s", te.Field, te.Value, want)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "invalid JSON: unexpected end of line"
	}
	return jsonMsg(err)
}
