package traces

import (
	"fmt"
	"strings"
)

// Problem is one bad row.
type Problem struct {
	// Line is the 1-based line number in the input.
	Line int
	// Msg says what is wrong, naming the field.
	Msg string
}

// String returns "line N: msg".
func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Msg) }

// Report accounts for every row a reader saw. Rows = Kept + Skipped always
// holds; blank lines and the Azure header are not rows.
type Report struct {
	// Rows is the number of data rows (sessions for Agent) read.
	Rows int
	// Kept is the number of rows in the result.
	Kept int
	// Skipped is the number of bad rows left out (at most 1 with Stop).
	Skipped int
	// Problems lists the bad rows in input order, at most Options.MaxErrors.
	Problems []Problem
	// Truncated is true when more problems were found than Problems holds.
	Truncated bool
	// Unsorted is the number of kept rows that arrive (start, for Agent)
	// earlier than the kept row before them; the result is sorted by time
	// (stably) whatever its value.
	Unsorted int
}

// LineError is the error a reader returns for a bad input: the file name,
// the 1-based line (0 when the problem is the file as a whole) and what is
// wrong.
type LineError struct {
	Name string
	Line int
	Msg  string
}

// Error returns "name:line: msg", or "name: msg" when Line is 0.
func (e *LineError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Name, e.Msg)
}

// collector records bad rows for a reader.
type collector struct {
	name string
	opt  Options
	rep  Report
}

// bad records a bad row; it returns the error to stop with under Stop and
// nil under Skip.
func (c *collector) bad(line int, msg string) error {
	c.rep.Skipped++
	if len(c.rep.Problems) < c.opt.MaxErrors {
		c.rep.Problems = append(c.rep.Problems, Problem{Line: line, Msg: msg})
	} else {
		c.rep.Truncated = true
	}
	if c.opt.OnError == Stop {
		return &LineError{Name: c.name, Line: line, Msg: msg}
	}
	return nil
}

// row counts a data row and refuses it when it is one too many.
func (c *collector) row(line int) error {
	c.rep.Rows++
	if c.rep.Rows > c.opt.MaxRows {
		return &LineError{Name: c.name, Line: line, Msg: fmt.Sprintf("more than %d rows (Options.MaxRows)", c.opt.MaxRows)}
	}
	return nil
}

// finish returns the error for an input with no usable row, or nil.
func (c *collector) finish() error {
	if c.rep.Kept > 0 {
		return nil
	}
	if c.rep.Rows == 0 {
		return &LineError{Name: c.name, Msg: "no rows"}
	}
	msg := fmt.Sprintf("no usable rows (%d read, all skipped)", c.rep.Rows)
	if len(c.rep.Problems) > 0 {
		msg += "; first problem: " + c.rep.Problems[0].String()
	}
	return &LineError{Name: c.name, Msg: msg}
}

// quote returns b quoted for a message, shortened when long.
func quote(b []byte) string {
	const max = 40
	if len(b) > max {
		return fmt.Sprintf("%q...", b[:max])
	}
	return fmt.Sprintf("%q", b)
}

// jsonMsg turns an encoding/json error into a message without the "json: "
// prefix.
func jsonMsg(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}
