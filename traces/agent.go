package traces

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Step is one step of an agent session: a model call, then tool calls.
type Step struct {
	// Input is the full prompt of the step's model call in tokens,
	// including the context carried over from earlier steps.
	Input int32
	// Output is the number of tokens the model call generates.
	Output int32
	// ToolS is the time in seconds the agent spends in tool calls after
	// this step's model call; 0 on the last step.
	ToolS float64
	// GapS is the think time in seconds before this step's model call
	// (after the previous step's tools, or after the session start).
	GapS float64
}

// SharedPrefix returns the number of prompt tokens cur shares with the
// step before it, prev: the previous prompt and its output are the prefix
// of the new prompt, so the shared prefix is min(prev.Input+prev.Output,
// cur.Input). The rest of cur.Input is new to the model.
func SharedPrefix(prev, cur Step) int32 {
	return int32(min(int64(prev.Input)+int64(prev.Output), int64(cur.Input)))
}

// Session is one agent session.
type Session struct {
	// ID names the session; IDs are unique within a file.
	ID string
	// StartS is when the session starts, in seconds from the start of the
	// trace.
	StartS float64
	// Steps are the session's steps in order, at least one. It is a view
	// into the Sessions' shared slice: read it, do not modify it.
	Steps []Step
}

// Sessions is a read-only list of agent sessions sorted by start time
// (ties keep their input order). Build one with ReadSessions or
// OpenSessions.
type Sessions struct {
	// Name is the name given to ReadSessions (the path for OpenSessions).
	Name string

	id    []string
	start []float64
	off   []int // len(id)+1 offsets into steps
	steps []Step
}

// Len returns the number of sessions.
func (s *Sessions) Len() int { return len(s.id) }

// Steps returns the number of steps of all sessions together.
func (s *Sessions) Steps() int { return len(s.steps) }

// At returns session i. It panics if i is out of range (a programmer
// error).
func (s *Sessions) At(i int) Session {
	a, b := s.off[i], s.off[i+1]
	return Session{ID: s.id[i], StartS: s.start[i], Steps: s.steps[a:b:b]}
}

// agentRow is one line of an agent session file.
type agentRow struct {
	Session *string     `json:"session"`
	StartS  *float64    `json:"start_s"`
	Steps   []agentStep `json:"steps"`
}

// agentStep is one step of an agentRow.
type agentStep struct {
	InputTokens  *int64  `json:"input_tokens"`
	OutputTokens *int64  `json:"output_tokens"`
	ToolS        float64 `json:"tool_s"`
	GapS         float64 `json:"gap_s"`
}

// ReadSessions reads agent sessions (format Agent) from r; name prefixes
// every error. Errors and the Report work as for Read; MaxRows caps the
// number of sessions. ReadSessions never panics, whatever r holds.
func ReadSessions(r io.Reader, name string, opt Options) (*Sessions, Report, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, Report{}, fmt.Errorf("%s: %w", name, err)
	}
	if opt.Format != "" && opt.Format != Agent {
		return nil, Report{}, fmt.Errorf("%s: format %s holds requests: use Read", name, opt.Format)
	}
	c := &collector{name: name, opt: opt}
	s, err := readAgent(newLineReader(r), c)
	if err != nil {
		return nil, c.rep, err
	}
	return s, c.rep, nil
}

// OpenSessions reads the agent session file at path, as ReadSessions does;
// errors name the file by path.
func OpenSessions(path string, opt Options) (*Sessions, Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Report{}, err // *PathError names the file
	}
	defer f.Close()
	return ReadSessions(f, path, opt)
}

// readAgent reads an agent session file.
func readAgent(lr *lineReader, c *collector) (*Sessions, error) {
	s := &Sessions{Name: c.name, off: []int{0}}
	seen := map[string]int{} // session id -> line; used for lookups only
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
		msg := ""
		var row agentRow
		if tooLong {
			msg = fmt.Sprintf("line longer than %d bytes", MaxLineBytes)
		} else if msg = decodeLine(line, &row); msg == "" {
			msg = checkSession(&row)
		}
		if msg == "" {
			if l, dup := seen[*row.Session]; dup {
				msg = fmt.Sprintf("session: %q already used on line %d", *row.Session, l)
			}
		}
		if msg != "" {
			if err := c.bad(lr.n, msg); err != nil {
				return nil, err
			}
			continue
		}
		seen[*row.Session] = lr.n
		s.id = append(s.id, *row.Session)
		s.start = append(s.start, *row.StartS)
		for _, st := range row.Steps {
			s.steps = append(s.steps, Step{Input: int32(*st.InputTokens), Output: int32(*st.OutputTokens), ToolS: st.ToolS, GapS: st.GapS})
		}
		s.off = append(s.off, len(s.steps))
		c.rep.Kept++
	}
	if !nonBlank {
		return nil, &LineError{Name: c.name, Msg: "empty file"}
	}
	if err := c.finish(); err != nil {
		return nil, err
	}
	for i := 1; i < len(s.start); i++ {
		if s.start[i] < s.start[i-1] {
			c.rep.Unsorted++
		}
	}
	if c.rep.Unsorted > 0 {
		s.sortStable()
	}
	return s, nil
}

// checkSession validates a decoded session.
func checkSession(row *agentRow) string {
	switch {
	case row.Session == nil:
		return "missing session"
	case strings.TrimSpace(*row.Session) == "":
		return "session: must not be empty"
	case row.StartS == nil:
		return "missing start_s"
	case len(row.Steps) == 0:
		return "steps: need at least one step"
	}
	if msg := checkTime("start_s", *row.StartS); msg != "" {
		return msg
	}
	for i, st := range row.Steps {
		p := fmt.Sprintf("steps[%d].", i)
		switch {
		case st.InputTokens == nil:
			return "missing " + p + "input_tokens"
		case st.OutputTokens == nil:
			return "missing " + p + "output_tokens"
		}
		if _, msg := checkTokens(p+"input_tokens", *st.InputTokens); msg != "" {
			return msg
		}
		if _, msg := checkTokens(p+"output_tokens", *st.OutputTokens); msg != "" {
			return msg
		}
		if msg := checkTime(p+"tool_s", st.ToolS); msg != "" {
			return msg
		}
		if msg := checkTime(p+"gap_s", st.GapS); msg != "" {
			return msg
		}
		if i == len(row.Steps)-1 && st.ToolS != 0 {
			return fmt.Sprintf("%stool_s: must be 0 or absent on the last step, got %g", p, st.ToolS)
		}
	}
	return ""
}

// sortStable sorts the sessions by start time, keeping the input order of
// ties.
func (s *Sessions) sortStable() {
	perm := make([]int, len(s.id))
	for i := range perm {
		perm[i] = i
	}
	slices.SortStableFunc(perm, func(a, b int) int {
		switch {
		case s.start[a] < s.start[b]:
			return -1
		case s.start[a] > s.start[b]:
			return 1
		}
		return 0
	})
	n := &Sessions{Name: s.Name, off: make([]int, 1, len(s.off)),
		id: make([]string, 0, len(s.id)), start: make([]float64, 0, len(s.id)), steps: make([]Step, 0, len(s.steps))}
	for _, i := range perm {
		se := s.At(i)
		n.id = append(n.id, se.ID)
		n.start = append(n.start, se.StartS)
		n.steps = append(n.steps, se.Steps...)
		n.off = append(n.off, len(n.steps))
	}
	*s = *n
}
