package traces

import (
	"strings"
	"testing"
)

func TestReadMooncakeTestdata(t *testing.T) {
	tr, rep, err := Open("testdata/mooncake_conv_300.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Format != Mooncake || tr.BlockTokens != 512 || !tr.Start.IsZero() {
		t.Errorf("got format %s, block %d, start %v, want mooncake (sniffed), 512, zero", tr.Format, tr.BlockTokens, tr.Start)
	}
	if tr.Len() != 300 || rep.Rows != 300 || rep.Kept != 300 || rep.Unsorted != 0 {
		t.Fatalf("got %d requests, report %+v, want 300, all kept, sorted", tr.Len(), rep)
	}
	// Line 1: {"timestamp": 0, "input_length": 6758, "output_length": 500,
	// "hash_ids": [0, 1, ..., 13]}; the last line has timestamp 102000 ms,
	// input 979, output 140 and hash_ids [0, 7813].
	r := tr.At(0)
	if r.ArrivalS != 0 || r.Input != 6758 || r.Output != 500 || len(r.Hash) != 14 {
		t.Errorf("At(0): got %v s, %d, %d, %d hashes, want 0, 6758, 500, 14", r.ArrivalS, r.Input, r.Output, len(r.Hash))
	}
	for i, h := range r.Hash {
		if h != uint64(i) {
			t.Errorf("At(0).Hash[%d]: got %d, want %d", i, h, i)
		}
	}
	last := tr.At(299)
	if last.ArrivalS != 102 || last.Input != 979 || last.Output != 140 || len(last.Hash) != 2 || last.Hash[1] != 7813 {
		t.Errorf("At(299): got %+v, want {102 979 140 [0 7813]}", last)
	}
	if tr.DurationS() != 102 {
		t.Errorf("DurationS: got %v, want 102", tr.DurationS())
	}
	// Hash is a capped view: appending to it must not clobber the next
	// request's ids.
	next := tr.At(1).Hash[0]
	_ = append(r.Hash, 999)
	if tr.At(1).Hash[0] != next {
		t.Errorf("appending to At(0).Hash changed At(1).Hash")
	}
}

func TestReadMooncakeErrors(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
	}{
		{"empty", "", "m.jsonl: empty file"},
		{"unknown field", `{"timestamp": 0, "input_length": 5, "output_length": 5, "session_id": 3}`, `m.jsonl:1: unknown field "session_id"`},
		{"missing timestamp", `{"input_length": 5, "output_length": 5}`, "m.jsonl:1: missing timestamp"},
		{"null timestamp", `{"timestamp": null, "input_length": 5, "output_length": 5}`, "m.jsonl:1: missing timestamp"},
		{"missing input", `{"timestamp": 0, "output_length": 5}`, "m.jsonl:1: missing input_length"},
		{"missing output", `{"timestamp": 0, "input_length": 5}`, "m.jsonl:1: missing output_length"},
		{"null line", `null`, "m.jsonl:1: missing timestamp"},
		{"zero input", `{"timestamp": 0, "input_length": 0, "output_length": 5}`, "m.jsonl:1: input_length: must be > 0, got 0"},
		{"zero output", `{"timestamp": 0, "input_length": 5, "output_length": 0}`, "m.jsonl:1: output_length: must be > 0, got 0"},
		{"absurd", `{"timestamp": 0, "input_length": 5, "output_length": 20000000}`, "m.jsonl:1: output_length: 20000000 is more than 10000000 tokens"},
		{"string input", `{"timestamp": 0, "input_length": "5", "output_length": 5}`, "m.jsonl:1: input_length: string is not an integer"},
		{"float input", `{"timestamp": 0, "input_length": 5.5, "output_length": 5}`, "m.jsonl:1: input_length: number 5.5 is not an integer"},
		{"huge input", `{"timestamp": 0, "input_length": 1e30, "output_length": 5}`, "m.jsonl:1: input_length: number 1e30 is not an integer"},
		{"negative timestamp", `{"timestamp": -1, "input_length": 5, "output_length": 5}`, "m.jsonl:1: timestamp: must be a finite time >= 0, got -1"},
		{"huge timestamp", `{"timestamp": 1e999, "input_length": 5, "output_length": 5}`, "m.jsonl:1: timestamp: number 1e999 is not a number"},
		{"negative hash", `{"timestamp": 0, "input_length": 5, "output_length": 5, "hash_ids": [-1]}`, "m.jsonl:1: hash_ids: number -1 is not a non-negative integer below 2^64"},
		{"too many hashes", `{"timestamp": 0, "input_length": 512, "output_length": 5, "hash_ids": [1, 2]}`, "m.jsonl:1: hash_ids: 2 ids for 512 input tokens, want ceil(512/512) = 1"},
		{"too few hashes", `{"timestamp": 0, "input_length": 513, "output_length": 5, "hash_ids": [1]}`, "want ceil(513/512) = 2"},
		{"trailing data", `{"timestamp": 0, "input_length": 5, "output_length": 5} {}`, `m.jsonl:1: unexpected "{}" after the JSON object`},
		{"truncated", `{"timestamp": 0, "input_length": 5`, "m.jsonl:1: invalid JSON: unexpected end of line"},
		{"syntax", `{"timestamp": 0,, }`, "m.jsonl:1: invalid JSON at byte"},
		{"array", `[1, 2]`, "m.jsonl:1: line: array is not an object"},
		{"second line", "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 5}\n\n{\"timestamp\": 1}", "m.jsonl:3: missing input_length"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, _, err := Read(strings.NewReader(c.in), "m.jsonl", Options{Format: Mooncake})
			if err == nil {
				t.Fatalf("got no error (trace of %d), want %q", tr.Len(), c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("got error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestReadMooncakeBlockTokens(t *testing.T) {
	in := `{"timestamp": 0, "input_length": 1500, "output_length": 5, "hash_ids": [1, 2]}`
	// ceil(1500/1024) = 2 ids, but ceil(1500/512) = 3.
	if _, _, err := Read(strings.NewReader(in), "m.jsonl", Options{BlockTokens: 1024}); err != nil {
		t.Errorf("BlockTokens 1024: got %v, want no error", err)
	}
	if _, _, err := Read(strings.NewReader(in), "m.jsonl", Options{}); err == nil {
		t.Errorf("default BlockTokens 512: got no error, want a hash_ids count error")
	}
}

func TestReadMooncakeUnsortedKeepsHashes(t *testing.T) {
	in := `{"timestamp": 2000, "input_length": 1, "output_length": 1, "hash_ids": [20]}
{"timestamp": 500, "input_length": 600, "output_length": 2, "hash_ids": [5, 6]}
{"timestamp": 1000, "input_length": 3, "output_length": 3}
{"timestamp": 500.5, "input_length": 4, "output_length": 4, "hash_ids": [7]}
`
	tr, rep, err := Read(strings.NewReader(in), "m.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// 500 follows 2000 and 500.5 follows 1000.
	if rep.Unsorted != 2 {
		t.Errorf("Unsorted: got %d, want 2", rep.Unsorted)
	}
	want := []struct {
		arrival float64
		out     int32
		hash    []uint64
	}{{0.5, 2, []uint64{5, 6}}, {0.5005, 4, []uint64{7}}, {1, 3, nil}, {2, 1, []uint64{20}}}
	for i, w := range want {
		r := tr.At(i)
		if r.ArrivalS != w.arrival || r.Output != w.out || len(r.Hash) != len(w.hash) {
			t.Errorf("At(%d): got %+v, want {%v _ %d %v}", i, r, w.arrival, w.out, w.hash)
			continue
		}
		for k := range w.hash {
			if r.Hash[k] != w.hash[k] {
				t.Errorf("At(%d).Hash: got %v, want %v", i, r.Hash, w.hash)
			}
		}
	}
}

func TestReadMooncakeSkip(t *testing.T) {
	in := `{"timestamp": 0, "input_length": 1, "output_length": 1, "hash_ids": [1]}
{"timestamp": 1, "input_length": 1, "output_length": 1, "extra": true}
{"timestamp": 2, "input_length": 1, "output_length": 1, "hash_ids": [1]}
`
	tr, rep, err := Read(strings.NewReader(in), "m.jsonl", Options{OnError: Skip})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 2 || rep.Skipped != 1 || rep.Problems[0].Line != 2 {
		t.Errorf("got %d kept, report %+v, want 2 kept, line 2 skipped", tr.Len(), rep)
	}
	// The skipped row's hash ids must not leak into the shared slice.
	if h := tr.At(1).Hash; len(h) != 1 || h[0] != 1 {
		t.Errorf("At(1).Hash: got %v, want [1]", h)
	}
}

func TestReadWrongKind(t *testing.T) {
	if _, _, err := Read(strings.NewReader("{}"), "a.jsonl", Options{Format: Agent}); err == nil || !strings.Contains(err.Error(), "use ReadSessions") {
		t.Errorf("Read with Agent: got %v, want a pointer to ReadSessions", err)
	}
	if _, _, err := ReadSessions(strings.NewReader("{}"), "a.csv", Options{Format: Azure}); err == nil || !strings.Contains(err.Error(), "use Read") {
		t.Errorf("ReadSessions with Azure: got %v, want a pointer to Read", err)
	}
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     Format
	}{
		{"csv", hdr, Azure},
		{"jsonl", `{"timestamp": 0}`, Mooncake},
		{"blank then json", "\n \r\n\t{", Mooncake},
		{"bom json", "\xef\xbb\xbf{", Mooncake},
		{"bom csv", "\xef\xbb\xbfTIMESTAMP", Azure},
		{"empty", "", Azure},
	} {
		t.Run(c.name, func(t *testing.T) {
			lr := newLineReader(strings.NewReader(c.in))
			got, err := sniff(lr.r)
			if err != nil || got != c.want {
				t.Errorf("got %q, %v, want %q", got, err, c.want)
			}
		})
	}
}
