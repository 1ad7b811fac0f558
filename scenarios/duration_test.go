package scenarios

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want Duration // seconds, worked out by hand from the unit
	}{
		{"250ms", 0.25},
		{"1.5s", 1.5},
		{"30m", 1800},
		{"24h", 86400},
		{"7d", 7 * 86400},
		{".5s", 0.5},
		{"2.s", 2},
		{"0s", 0},
		{" 10m ", 600},
		{"365250d", 365250 * 86400},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v, nil", tt.in, float64(got), err, float64(tt.want))
			}
		})
	}
}

func TestParseDurationErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // the error must say what is wrong and show an example
	}{
		{"30", `missing unit: write "30s" or "250ms"`},
		{"1.5", `missing unit: write "30s" or "250ms"`},
		{"-5s", `must not be negative: write "30s"`},
		{"5y", `unknown unit "y", want ms, s, m, h or d`},
		{"5 min", `unknown unit " min"`},
		{"", `empty duration: write "30s"`},
		{"s", `want a number followed by a unit`},
		{"1.2.3s", `bad number "1.2.3"`},
		{"1e999d", `unknown unit "e999d"`},
		{"9" + strings.Repeat("9", 400) + "d", `number out of range`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseDuration(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseDuration(%q): got error %v, want one containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		d    Duration
		want string
	}{
		{0, "0s"},
		{0.25, "250ms"},
		{1.5, "1500ms"},
		{90, "90s"},
		{5400, "90m"},
		{86400, "1d"},
		{365250 * 86400, "365250d"},
		{36 * 3600, "36h"},
		{0.0005, "0.0005s"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("Duration(%v).String() = %q, want %q", float64(tt.d), got, tt.want)
		}
	}
	// Every string written reads back as the same value, and matches the
	// pattern the JSON schema gives.
	re := regexp.MustCompile(DurationPattern)
	for _, d := range []Duration{0, 0.001, 0.1, 0.25, 1, 1.5, 59.999, 61, 3599, 3600, 86399.5, 86400, 1e9, 123.456789} {
		s := d.String()
		back, err := ParseDuration(s)
		if err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v (round trip)", s, float64(back), err, float64(d))
		}
		if !re.MatchString(s) {
			t.Errorf("%q does not match DurationPattern", s)
		}
	}
}

func TestDurationYAML(t *testing.T) {
	var v struct {
		A Duration  `yaml:"a"`
		B *Duration `yaml:"b"`
	}
	if err := yaml.Unmarshal([]byte("a: 1.5s\nb: 2d\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 1.5 || v.B == nil || *v.B != 2*86400 {
		t.Errorf("got a=%v b=%v, want 1.5 and 172800", float64(v.A), v.B)
	}
	out, err := yaml.Marshal(v)
	if err != nil || string(out) != "a: 1500ms\nb: 2d\n" {
		t.Errorf("Marshal: got %q, %v; want %q", out, err, "a: 1500ms\nb: 2d\n")
	}

	// Two bad durations: both are reported, as type errors with lines.
	err = yaml.Unmarshal([]byte("a: 30\nb: -1s\n"), &v)
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) != 2 {
		t.Fatalf("got %v, want a *yaml.TypeError with 2 errors", err)
	}
	if !strings.HasPrefix(te.Errors[0], "line 1: ") || !strings.HasPrefix(te.Errors[1], "line 2: ") {
		t.Errorf("got %q, want errors on lines 1 and 2", te.Errors)
	}
}

func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(struct{ D Duration }{0.25})
	if err != nil || string(b) != `{"D":"250ms"}` {
		t.Errorf("Marshal: got %s, %v; want {\"D\":\"250ms\"}", b, err)
	}
	var d Duration
	if err := json.Unmarshal([]byte(`"24h"`), &d); err != nil || d != 86400 {
		t.Errorf("Unmarshal \"24h\": got %v, %v; want 86400", float64(d), err)
	}
	if err := json.Unmarshal([]byte(`30`), &d); err == nil {
		t.Errorf("Unmarshal 30: got no error, want one")
	}
	if s := d.JSONSchema(); s.Type != "string" || s.Pattern != DurationPattern {
		t.Errorf("JSONSchema: got type %q pattern %q, want string with DurationPattern", s.Type, s.Pattern)
	}
	if got := Duration(90).Seconds(); got != 90 {
		t.Errorf("Seconds() = %v, want 90", got)
	}
}
