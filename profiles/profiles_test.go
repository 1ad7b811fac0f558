package profiles

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fleetsim/fleetsim/serving"
)

// coefBlock is a valid coefficients block of one entry: 10 lines, the
// coefficients key then 9 values, mbu on the 4th line of the block. MBU
// replaces the mbu value.
const coefBlock = `    coefficients:
      linearMFU: 0.5
      attentionMFU: 0.5
      mbu: MBU
      kvMBU: 0.7
      stepOverheadS: 0.001
      seqOverheadS: 0.00002
      activationReserveFraction: 0.05
      idlePowerFraction: 0.12
      memoryBoundPowerFraction: 0.6
`

func coef(mbu string) string { return strings.Replace(coefBlock, "MBU", mbu, 1) }

const head = "kind: Profile\nname: t\nentries:\n" // lines 1-3; the first entry starts on line 4

// TestParseErrors: each invalid profile is rejected with a message naming
// the file, the line and the field path. Line numbers are counted by hand
// in the documents below.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the error, all required
	}{
		{
			name: "unknown top-level field",
			doc:  "kind: Profile\nname: t\nbogus: 1\nentries:\n  - gpu: h100\n" + coef("0.7"),
			want: []string{"bad.yaml", "line 3", "bogus"},
		},
		{
			name: "unknown coefficient",
			// line 4 gpu, 5 coefficients, 6 linearMFU, 7 attentionMFU, 8 mbu, 9 mfu
			doc:  head + "  - gpu: h100\n" + strings.Replace(coef("0.7"), "      kvMBU: 0.7\n", "      mfu: 0.7\n", 1),
			want: []string{"bad.yaml", "line 9", "mfu"},
		},
		{
			name: "wrong kind",
			doc:  "kind: Scenario\nname: t\nentries:\n  - gpu: h100\n" + coef("0.7"),
			want: []string{"bad.yaml:1: kind:", `"Scenario"`},
		},
		{
			name: "wrong value type",
			doc:  head + "  - gpu: h100\n" + coef("fast"),
			want: []string{"bad.yaml", "line 8", "fast"},
		},
		{
			name: "unknown gpu",
			doc:  head + "  - gpu: h1000\n" + coef("0.7"),
			want: []string{"bad.yaml:4: entries[0].gpu:", "h1000"},
		},
		{
			name: "unknown model",
			doc:  head + "  - gpu: h100\n    model: llama-9-9b\n" + coef("0.7"),
			want: []string{"bad.yaml:5: entries[0].model:", "llama-9-9b"},
		},
		{
			name: "bad precision",
			doc:  head + "  - gpu: h100\n    precision: fp4\n" + coef("0.7"),
			want: []string{"bad.yaml:5: entries[0].precision:", "fp4"},
		},
		{
			name: "model on the fallback entry",
			doc:  head + "  - gpu: \"*\"\n    model: llama-3.1-8b\n" + coef("0.7"),
			want: []string{"bad.yaml:5: entries[0].model:"},
		},
		{
			// The second entry is the same GPU under an alias; it starts on line 4 + 11 = 15.
			name: "duplicate entry",
			doc:  head + "  - gpu: h100\n" + coef("0.7") + "  - gpu: H100-SXM\n" + coef("0.8"),
			want: []string{"bad.yaml:15: entries[1]:", "duplicate", "h100"},
		},
		{
			name: "coefficient out of range",
			doc:  head + "  - gpu: h100\n" + coef("1.5"),
			want: []string{"bad.yaml:8: entries[0].coefficients.mbu:", "1.5"},
		},
		{
			// Second entry starts on line 15; its mbu is line 15 + 4 = 19.
			name: "coefficient of a later entry",
			doc:  head + "  - gpu: h100\n" + coef("0.7") + "  - gpu: h200\n" + coef("-1"),
			want: []string{"bad.yaml:19: entries[1].coefficients.mbu:"},
		},
		{
			name: "every problem reported",
			doc:  head + "  - gpu: h1000\n" + coef("1.5"),
			want: []string{"bad.yaml:4: entries[0].gpu:", "bad.yaml:8: entries[0].coefficients.mbu:"},
		},
		{
			name: "missing coefficients",
			doc:  head + "  - gpu: h100\n",
			want: []string{"bad.yaml:4: entries[0].coefficients.linearMFU:", "entries[0].coefficients.mbu:"},
		},
		{
			name: "missing name",
			doc:  "kind: Profile\nentries:\n  - gpu: h100\n" + coef("0.7"),
			want: []string{"bad.yaml:1: name:"},
		},
		{
			name: "no entries",
			doc:  "kind: Profile\nname: t\nentries: []\n",
			want: []string{"bad.yaml:3: entries:"},
		},
		{name: "empty file", doc: "", want: []string{"bad.yaml", "empty"}},
		{name: "comments only", doc: "# nothing here\n", want: []string{"bad.yaml", "empty"}},
		{name: "not yaml", doc: "kind: [Profile\n", want: []string{"bad.yaml"}},
		{name: "a list, not a profile", doc: "- gpu: h100\n", want: []string{"bad.yaml"}},
		{
			name: "oversize file",
			doc:  head + "  - gpu: h100\n" + coef("0.7") + "# " + strings.Repeat("x", 4<<20) + "\n",
			want: []string{"bad.yaml", "bytes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.doc), "bad.yaml")
			if err == nil {
				t.Fatalf("Parse: got %+v and no error, want an error", p)
			}
			if p != nil {
				t.Errorf("Parse: got a profile with the error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestParseCanonicalises: aliases of GPUs, models and precisions are
// stored as catalog ids.
func TestParseCanonicalises(t *testing.T) {
	p, err := Parse(mustRead(t, "testdata/valid-lookup.yaml"), "valid-lookup.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range p.Entries {
		keys = append(keys, e.key())
	}
	want := []string{"*", "*/fp8", "h100", "h100/fp8", "h100/llama-3.1-8b", "h100/llama-3.1-8b/fp8"}
	if !slices.Equal(keys, want) {
		t.Errorf("entry keys: got %v, want %v", keys, want)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLookupOrder: the most specific entry wins, in the documented order
// gpu+model+precision > gpu+model > gpu+precision > gpu > "*" (same order)
// > default. Each entry of testdata/valid-lookup.yaml has its own mbu.
func TestLookupOrder(t *testing.T) {
	p, err := Parse(mustRead(t, "testdata/valid-lookup.yaml"), "valid-lookup.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		gpu, model string
		prec       serving.Precision
		wantMBU    float64
		wantEntry  string
	}{
		{"h100", "llama-3.1-8b", serving.FP8, 0.24, "h100/llama-3.1-8b/fp8"},
		{"h100", "llama-3.1-8b", serving.BF16, 0.23, "h100/llama-3.1-8b"},
		{"h100", "llama-3.1-70b", serving.FP8, 0.22, "h100/fp8"},
		{"h100", "llama-3.1-70b", serving.BF16, 0.21, "h100"},
		{"h100", "", serving.BF16, 0.21, "h100"},
		{"a100-80gb", "llama-3.1-8b", serving.FP8, 0.12, "*/fp8"},
		{"a100-80gb", "llama-3.1-8b", serving.BF16, 0.11, "*"},
		{"mi300x", "", "", 0.11, "*"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s", tt.gpu, tt.model, tt.prec), func(t *testing.T) {
			c, e := p.Lookup(tt.gpu, tt.model, tt.prec)
			if c.MBU != tt.wantMBU || e != tt.wantEntry {
				t.Errorf("Lookup: got mbu %g entry %q, want %g %q", c.MBU, e, tt.wantMBU, tt.wantEntry)
			}
		})
	}
	t.Run("no fallback entry", func(t *testing.T) {
		q := *p
		q.Entries = slices.DeleteFunc(slices.Clone(p.Entries), func(e Entry) bool { return e.GPU == "*" })
		c, e := q.Lookup("l40s", "llama-3.1-8b", serving.BF16)
		if e != "default" || c != serving.DefaultCoefficients() {
			t.Errorf("Lookup: got entry %q %+v, want default coefficients", e, c)
		}
	})
	t.Run("nil profile", func(t *testing.T) {
		var q *Profile
		if c, e := q.Lookup("h100", "", serving.BF16); e != "default" || c != serving.DefaultCoefficients() {
			t.Errorf("Lookup: got entry %q, want default", e)
		}
	})
}

// TestBuiltins: every built-in profile parses, has a fallback entry, and
// the default profile exists.
func TestBuiltins(t *testing.T) {
	names := Builtins()
	for _, want := range []string{"default", "mlperf", "trtllm", "vllm"} {
		if !slices.Contains(names, want) {
			t.Errorf("Builtins %v: missing %s", names, want)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("Builtins %v: not sorted", names)
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			p, err := Builtin(n)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != n {
				t.Errorf("name: got %q, want %q (the file name)", p.Name, n)
			}
			if !slices.ContainsFunc(p.Entries, func(e Entry) bool { return e.GPU == "*" && e.Model == "" && e.Precision == "" }) {
				t.Error("no \"*\" entry")
			}
			// Every GPU of the catalog gets coefficients a replica can be built with.
			for _, g := range serving.GPUs() {
				c, _ := p.Lookup(g.ID, "llama-3.1-8b", serving.BF16)
				if err := c.Validate(); err != nil {
					t.Errorf("%s: %v", g.ID, err)
				}
			}
		})
	}
	if p, err := Builtin("default"); err == nil {
		if c, _ := p.Lookup("h100", "", serving.BF16); c != serving.DefaultCoefficients() {
			t.Errorf("default profile: got %+v, want serving.DefaultCoefficients()", c)
		}
	}
	if _, err := Builtin("nope"); err == nil || !strings.Contains(err.Error(), "vllm") {
		t.Errorf("Builtin(nope): got %v, want an error listing the built-ins", err)
	}
}

// TestMarshalRoundTrip: Marshal then Parse gives the same profile (entries
// in Marshal's order), and marshalling again gives the same bytes.
func TestMarshalRoundTrip(t *testing.T) {
	var ps []*Profile
	for _, n := range Builtins() {
		p, err := Builtin(n)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	hand, err := Parse(mustRead(t, "testdata/valid-lookup.yaml"), "hand")
	if err != nil {
		t.Fatal(err)
	}
	// Reverse the entries so that Marshal has to sort them.
	slices.Reverse(hand.Entries)
	ps = append(ps, hand)
	for _, p := range ps {
		t.Run(p.Name, func(t *testing.T) {
			data, err := Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			q, err := Parse(data, p.Name)
			if err != nil {
				t.Fatalf("Parse(Marshal): %v\n%s", err, data)
			}
			want := *p
			want.Entries = slices.Clone(p.Entries)
			slices.SortStableFunc(want.Entries, func(a, b Entry) int { return strings.Compare(a.key(), b.key()) })
			if !reflect.DeepEqual(*q, want) {
				t.Errorf("round trip: got %+v, want %+v", *q, want)
			}
			again, err := Marshal(q)
			if err != nil || !bytes.Equal(again, data) {
				t.Errorf("Marshal(Parse(Marshal(p))) differs from Marshal(p) (err %v)", err)
			}
			// Same coefficients from every lookup.
			for _, g := range []string{"h100", "a100-80gb", "mi300x", "l40s"} {
				for _, pr := range []serving.Precision{serving.BF16, serving.FP8} {
					c1, e1 := p.Lookup(g, "llama-3.1-8b", pr)
					c2, e2 := q.Lookup(g, "llama-3.1-8b", pr)
					if c1 != c2 || e1 != e2 {
						t.Errorf("Lookup(%s, %s): %q vs %q after the round trip", g, pr, e1, e2)
					}
				}
			}
		})
	}
}

// TestResolve: built-in names, the default, and files relative to a
// directory or absolute.
func TestResolve(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "profiles")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(mustRead(t, "testdata/valid-lookup.yaml")), "name: lookup", "name: mine", 1)
	if err := os.WriteFile(filepath.Join(sub, "mine.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(sub, "mine.yaml")
	tests := []struct {
		ref, dir, wantName string
	}{
		{"", "", DefaultName},
		{"trtllm", dir, "trtllm"},
		{"profiles/mine.yaml", dir, "mine"},
		{"mine.yaml", sub, "mine"},
		{abs, "/nonexistent", "mine"},
		{"testdata/valid-lookup.yaml", "", "lookup"}, // relative to the working directory
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			p, err := Resolve(tt.ref, tt.dir)
			if err != nil {
				t.Fatalf("Resolve(%q, %q): %v", tt.ref, tt.dir, err)
			}
			if p.Name != tt.wantName {
				t.Errorf("Resolve(%q, %q): got profile %q, want %q", tt.ref, tt.dir, p.Name, tt.wantName)
			}
		})
	}
	for _, bad := range [][2]string{{"nope", dir}, {"profiles/missing.yaml", dir}, {"mine.yaml", dir}} {
		if _, err := Resolve(bad[0], bad[1]); err == nil {
			t.Errorf("Resolve(%q, %q): got no error", bad[0], bad[1])
		}
	}
	// A file that does not parse is an error naming the file and line.
	if err := os.WriteFile(filepath.Join(sub, "bad.yaml"), []byte(head+"  - gpu: h1000\n"+coef("0.7")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve("profiles/bad.yaml", dir); err == nil || !strings.Contains(err.Error(), "bad.yaml:4: entries[0].gpu") {
		t.Errorf("Resolve(bad): got %v, want an error naming bad.yaml:4: entries[0].gpu", err)
	}
}

// FuzzParse: Parse never panics; it returns an error, or a profile that
// satisfies its own rules and survives Marshal and Parse again.
func FuzzParse(f *testing.F) {
	for _, n := range Builtins() {
		data, err := builtinFS.ReadFile("builtin/" + n + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	if data, err := os.ReadFile("testdata/valid-lookup.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(head + "  - gpu: h100\n" + coef("1.5")))
	f.Add([]byte(""))
	f.Add([]byte("kind: Profile\nname: &a x\nentries: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if p != nil {
				t.Fatal("profile returned with an error")
			}
			return
		}
		if p == nil || p.Kind != Kind || strings.TrimSpace(p.Name) == "" || len(p.Entries) == 0 {
			t.Fatalf("accepted an invalid profile: %+v", p)
		}
		for i, e := range p.Entries {
			if err := e.Coefficients.Validate(); err != nil {
				t.Fatalf("entry %d accepted with invalid coefficients: %v", i, err)
			}
		}
		out, err := Marshal(p)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		if _, err := Parse(out, "again.yaml"); err != nil {
			t.Fatalf("Parse(Marshal(p)): %v\n%s", err, out)
		}
	})
}
