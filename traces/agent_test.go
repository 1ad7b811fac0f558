package traces

import (
	"strings"
	"testing"
)

func TestReadSessionsTestdata(t *testing.T) {
	s, rep, err := OpenSessions("testdata/agent_sessions.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The file lists swe-1 (0 s), chat-2 (12.5 s), a blank line, swe-3
	// (3.25 s): swe-3 starts before chat-2, so one session is out of order.
	if rep.Rows != 3 || rep.Kept != 3 || rep.Unsorted != 1 {
		t.Errorf("report: got %+v, want 3 rows kept, 1 unsorted", rep)
	}
	if s.Len() != 3 || s.Steps() != 6 {
		t.Fatalf("got %d sessions, %d steps, want 3, 6", s.Len(), s.Steps())
	}
	want := []Session{
		{ID: "swe-1", StartS: 0, Steps: []Step{{1200, 150, 2.5, 0}, {1500, 120, 0.8, 0.2}, {1400, 90, 0, 0}}},
		{ID: "swe-3", StartS: 3.25, Steps: []Step{{2000, 64, 1.5, 0.5}, {2600, 200, 0, 0}}},
		{ID: "chat-2", StartS: 12.5, Steps: []Step{{800, 300, 0, 0}}},
	}
	for i, w := range want {
		got := s.At(i)
		if got.ID != w.ID || got.StartS != w.StartS || len(got.Steps) != len(w.Steps) {
			t.Errorf("At(%d): got %s at %v with %d steps, want %s at %v with %d", i, got.ID, got.StartS, len(got.Steps), w.ID, w.StartS, len(w.Steps))
			continue
		}
		for k := range w.Steps {
			if got.Steps[k] != w.Steps[k] {
				t.Errorf("At(%d).Steps[%d]: got %+v, want %+v", i, k, got.Steps[k], w.Steps[k])
			}
		}
	}
}

func TestSharedPrefix(t *testing.T) {
	for _, c := range []struct {
		name      string
		prev, cur Step
		want      int32
	}{
		// The previous prompt (1200) and its answer (150) are all reused.
		{"growing", Step{Input: 1200, Output: 150}, Step{Input: 1500}, 1350},
		// The context was trimmed: at most the whole new prompt is shared.
		{"shrunk", Step{Input: 1500, Output: 120}, Step{Input: 1400}, 1400},
		{"equal", Step{Input: 100, Output: 20}, Step{Input: 120}, 120},
		// The sum exceeds int32 only when both are near MaxTokens; it must
		// not overflow.
		{"large", Step{Input: MaxTokens, Output: MaxTokens}, Step{Input: MaxTokens}, MaxTokens},
		{"int32 edge", Step{Input: 1<<31 - 1, Output: 1<<31 - 1}, Step{Input: 1<<31 - 1}, 1<<31 - 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := SharedPrefix(c.prev, c.cur); got != c.want {
				t.Errorf("got %d, want %d", got, c.want)
			}
		})
	}
}

func TestReadSessionsErrors(t *testing.T) {
	ok := `{"session": "a", "start_s": 0, "steps": [{"input_tokens": 5, "output_tokens": 5}]}`
	for _, c := range []struct {
		name, in, want string
	}{
		{"empty", "", "s.jsonl: empty file"},
		{"missing session", `{"start_s": 0, "steps": [{"input_tokens": 5, "output_tokens": 5}]}`, "s.jsonl:1: missing session"},
		{"blank session", `{"session": " ", "start_s": 0, "steps": [{"input_tokens": 5, "output_tokens": 5}]}`, "s.jsonl:1: session: must not be empty"},
		{"number session", `{"session": 3, "start_s": 0, "steps": []}`, "s.jsonl:1: session: number is not a string"},
		{"missing start", `{"session": "a", "steps": [{"input_tokens": 5, "output_tokens": 5}]}`, "s.jsonl:1: missing start_s"},
		{"negative start", `{"session": "a", "start_s": -2, "steps": [{"input_tokens": 5, "output_tokens": 5}]}`, "s.jsonl:1: start_s: must be a finite time >= 0, got -2"},
		{"no steps", `{"session": "a", "start_s": 0}`, "s.jsonl:1: steps: need at least one step"},
		{"empty steps", `{"session": "a", "start_s": 0, "steps": []}`, "s.jsonl:1: steps: need at least one step"},
		{"steps not array", `{"session": "a", "start_s": 0, "steps": {}}`, "s.jsonl:1: steps: object is not an array"},
		{"missing input", `{"session": "a", "start_s": 0, "steps": [{"output_tokens": 5}]}`, "s.jsonl:1: missing steps[0].input_tokens"},
		{"missing output", `{"session": "a", "start_s": 0, "steps": [{"input_tokens": 5, "output_tokens": 5, "tool_s": 1}, {"input_tokens": 5}]}`, "s.jsonl:1: missing steps[1].output_tokens"},
		{"null step", `{"session": "a", "start_s": 0, "steps": [null]}`, "s.jsonl:1: missing steps[0].input_tokens"},
		{"zero input", `{"session": "a", "start_s": 0, "steps": [{"input_tokens": 0, "output_tokens": 5}]}`, "s.jsonl:1: steps[0].input_tokens: must be > 0, got 0"},
		{"zero output", `{"session": "a", "start_s": 0, "steps": [{"input_tokens": 5, "output_tokens": 0}]}`, "s.jsonl:1: steps[0].output_tokens: must be > 0, got 0"},
		{"absurd", `{"session": "a", "start_s": 0, "steps": [{"input_tokens": 10000001, "output_tokens": 5}]}`, "s.jsonl:1: steps[0].input_tokens: 10000001 is more than 10000000 tokens"},
		{"negative tool", `{"session": "a", "start_s": 0, "steps": [{"input_tokens": 5, "output_tokens": 5, "tool_s": -1}, {"input_tokens": 5, "output_tokens": 5}]}`, "s.jsonl:1: steps[0].tool_s: must be a finite time >= 0, got -1"},
		{"negative gap", `{"session": "a", "start_s": 0, "steps": [{"input_tokens": 5, "output_tokens": 5, "gap_s": -0.5}]}`, "s.jsonl:1: steps[0].gap_s: must be a finite time >= 0, got -0.5"},
		{"tool on last step", `{"session": "a", "start_s": 0, "steps": [{"input_tokens": 5, "output_tokens": 5, "tool_s": 3}]}`, "s.jsonl:1: steps[0].tool_s: must be 0 or absent on the last step, got 3"},
		{"unknown field", `{"session": "a", "start_s": 0, "user": "x", "steps": [{"input_tokens": 5, "output_tokens": 5}]}`, `s.jsonl:1: unknown field "user"`},
		{"unknown step field", `{"session": "a", "start_s": 0, "steps": [{"input_tokens": 5, "output_tokens": 5, "tools": 2}]}`, `s.jsonl:1: unknown field "tools"`},
		{"duplicate id", ok + "\n" + ok, `s.jsonl:2: session: "a" already used on line 1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _, err := ReadSessions(strings.NewReader(c.in), "s.jsonl", Options{})
			if err == nil {
				t.Fatalf("got no error (%d sessions), want %q", s.Len(), c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestReadSessionsSkip(t *testing.T) {
	in := `{"session": "a", "start_s": 5, "steps": [{"input_tokens": 5, "output_tokens": 5}]}
{"session": "a", "start_s": 1, "steps": [{"input_tokens": 6, "output_tokens": 6}]}
{"session": "b", "start_s": 1, "steps": [{"input_tokens": 7, "output_tokens": 7, "tool_s": 1}, {"input_tokens": 8, "output_tokens": 8}]}
not json
`
	s, rep, err := ReadSessions(strings.NewReader(in), "s.jsonl", Options{OnError: Skip})
	if err != nil {
		t.Fatal(err)
	}
	// The duplicate "a" on line 2 and line 4 are skipped; b (1 s) sorts
	// before a (5 s) and keeps its two steps.
	if s.Len() != 2 || rep.Skipped != 2 || rep.Problems[0].Line != 2 || rep.Problems[1].Line != 4 || rep.Unsorted != 1 {
		t.Fatalf("got %d sessions, report %+v, want 2, lines 2 and 4 skipped, 1 unsorted", s.Len(), rep)
	}
	b, a := s.At(0), s.At(1)
	if b.ID != "b" || len(b.Steps) != 2 || b.Steps[1].Input != 8 || a.ID != "a" || len(a.Steps) != 1 || a.Steps[0].Input != 5 {
		t.Errorf("got %+v and %+v, want b with steps 7, 8 then a with step 5", b, a)
	}
}
