package traces

import (
	"bytes"
	"math"
	"os"
	"testing"
)

// seed returns the first n lines of a testdata file.
func seed(f *testing.F, path string, n int) []byte {
	f.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	lines := bytes.SplitAfterN(b, []byte("\n"), n+1)
	return bytes.Join(lines[:min(n, len(lines))], nil)
}

// FuzzRead asserts that Read never panics and returns either an error or
// a valid trace with a consistent Report.
func FuzzRead(f *testing.F) {
	f.Add(seed(f, "testdata/azure_conv_300.csv", 6), uint8(0))
	f.Add(seed(f, "testdata/mooncake_conv_300.jsonl", 4), uint8(2))
	f.Add([]byte(hdr+"2023-11-16 18:00:05,1,10\n2023-11-16 18:00:01,3,10\n"), uint8(5))
	f.Add([]byte(`{"timestamp": 2000, "input_length": 600, "output_length": 1, "hash_ids": [1, 2]}`+"\n"+`{"timestamp": 5}`), uint8(6))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		opt := Options{Format: []Format{"", Azure, Mooncake}[mode%3], BlockTokens: 1 + int(mode>>4)*100}
		if mode&4 != 0 {
			opt.OnError = Skip
		}
		tr, rep, err := Read(bytes.NewReader(data), "f", opt)
		if rep.Rows != rep.Kept+rep.Skipped {
			t.Fatalf("report: Rows %d != Kept %d + Skipped %d", rep.Rows, rep.Kept, rep.Skipped)
		}
		if err != nil {
			if tr != nil {
				t.Fatalf("got a trace and error %v", err)
			}
			return
		}
		if tr.Len() == 0 || tr.Len() != rep.Kept {
			t.Fatalf("Len %d, Kept %d, want equal and > 0", tr.Len(), rep.Kept)
		}
		prev := math.Inf(-1)
		for i := range tr.Len() {
			r := tr.At(i)
			if math.IsNaN(r.ArrivalS) || math.IsInf(r.ArrivalS, 0) || r.ArrivalS < 0 || r.ArrivalS < prev {
				t.Fatalf("At(%d).ArrivalS = %v after %v", i, r.ArrivalS, prev)
			}
			prev = r.ArrivalS
			if r.Input < 1 || r.Input > MaxTokens || r.Output < 1 || r.Output > MaxTokens {
				t.Fatalf("At(%d): tokens %d, %d out of range", i, r.Input, r.Output)
			}
			if n := len(r.Hash); n > 0 && n != (int(r.Input)+tr.BlockTokens-1)/tr.BlockTokens {
				t.Fatalf("At(%d): %d hashes for %d tokens", i, n, r.Input)
			}
		}
	})
}

// FuzzReadSessions asserts that ReadSessions never panics and returns
// either an error or valid sessions with a consistent Report.
func FuzzReadSessions(f *testing.F) {
	f.Add(seed(f, "testdata/agent_sessions.jsonl", 10), false)
	f.Add([]byte(`{"session": "a", "start_s": 1, "steps": [{"input_tokens": 5, "output_tokens": 5, "tool_s": 1}, {"input_tokens": 9, "output_tokens": 2}]}`), true)
	f.Fuzz(func(t *testing.T, data []byte, skip bool) {
		opt := Options{}
		if skip {
			opt.OnError = Skip
		}
		s, rep, err := ReadSessions(bytes.NewReader(data), "f", opt)
		if rep.Rows != rep.Kept+rep.Skipped {
			t.Fatalf("report: Rows %d != Kept %d + Skipped %d", rep.Rows, rep.Kept, rep.Skipped)
		}
		if err != nil {
			if s != nil {
				t.Fatalf("got sessions and error %v", err)
			}
			return
		}
		if s.Len() == 0 || s.Len() != rep.Kept {
			t.Fatalf("Len %d, Kept %d, want equal and > 0", s.Len(), rep.Kept)
		}
		prev := math.Inf(-1)
		steps := 0
		for i := range s.Len() {
			se := s.At(i)
			if se.StartS < prev || se.StartS < 0 || math.IsInf(se.StartS, 0) || se.ID == "" || len(se.Steps) == 0 {
				t.Fatalf("At(%d) = %+v after %v", i, se, prev)
			}
			prev = se.StartS
			steps += len(se.Steps)
			for k, st := range se.Steps {
				if st.Input < 1 || st.Input > MaxTokens || st.Output < 1 || st.Output > MaxTokens ||
					!(st.ToolS >= 0) || !(st.GapS >= 0) || (k == len(se.Steps)-1 && st.ToolS != 0) {
					t.Fatalf("At(%d).Steps[%d] = %+v", i, k, st)
				}
			}
		}
		if steps != s.Steps() {
			t.Fatalf("Steps: got %d, sessions hold %d", s.Steps(), steps)
		}
	})
}
