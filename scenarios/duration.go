package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/invopop/jsonschema"
	"gopkg.in/yaml.v3"
)

// Duration is a span of time written with a unit in scenario files
// ("250ms", "1.5s", "30m", "24h", "7d"), held in seconds.
type Duration float64

// DurationPattern is the regular expression a duration string must match:
// a non-negative decimal number (fraction allowed, no exponent) directly
// followed by one of the units ms, s, m, h or d. The JSON schema uses it too.
const DurationPattern = `^([0-9]+(\.[0-9]*)?|\.[0-9]+)(ms|s|m|h|d)$`

var durationRE = regexp.MustCompile(DurationPattern)

// durationUnits are the units a duration may carry, in seconds, largest
// first (the order Duration.String tries them in).
var durationUnits = []struct {
	name    string
	seconds float64
}{
	{"d", 86400},
	{"h", 3600},
	{"m", 60},
	{"s", 1},
	{"ms", 0.001},
}

// durationExample is shown in every duration error so that the user sees a
// form that works.
const durationExample = `write "30s" or "250ms"`

// ParseDuration reads a duration such as "250ms", "1.5s", "30m", "24h" or
// "7d". A bare number, a missing or unknown unit, a negative or non-finite
// value is an error that says what is wrong and shows an example.
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty duration: %s", durationExample)
	}
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("invalid duration %q: must not be negative: %s", s, durationExample)
	}
	if m := durationRE.FindStringSubmatch(t); m != nil {
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return 0, fmt.Errorf("invalid duration %q: number out of range", s)
		}
		for _, u := range durationUnits {
			if u.name == m[3] {
				sec := v * u.seconds
				if math.IsInf(sec, 0) {
					return 0, fmt.Errorf("invalid duration %q: number out of range", s)
				}
				return Duration(sec), nil
			}
		}
	}
	// Say why it does not match.
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return 0, fmt.Errorf("invalid duration %q: missing unit: %s", s, durationExample)
	}
	i := strings.IndexFunc(t, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
	if i <= 0 {
		return 0, fmt.Errorf("invalid duration %q: want a number followed by a unit (ms, s, m, h or d): %s", s, durationExample)
	}
	if _, err := strconv.ParseFloat(t[:i], 64); err != nil {
		return 0, fmt.Errorf("invalid duration %q: bad number %q: %s", s, t[:i], durationExample)
	}
	return 0, fmt.Errorf("invalid duration %q: unknown unit %q, want ms, s, m, h or d: %s", s, t[i:], durationExample)
}

// Seconds returns the duration in seconds.
func (d Duration) Seconds() float64 { return float64(d) }

// String returns the duration in the shortest exact form among the units
// d, h, m, s and ms ("1d", "90s", "250ms"); values that no unit divides
// evenly are written in seconds with as many digits as needed.
func (d Duration) String() string {
	v := float64(d)
	if v == 0 {
		return "0s"
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%vs", v)
	}
	for _, u := range durationUnits {
		n, back := v/u.seconds, 0.0
		if u.seconds < 1 {
			// Multiply by 1000 rather than divide by 0.001, which is inexact.
			n = v * (1 / u.seconds)
			back = n / (1 / u.seconds)
		} else {
			back = n * u.seconds
		}
		// Integral in this unit, and exact when converted back.
		if n == math.Trunc(n) && math.Abs(n) < 1e15 && back == v {
			return strconv.FormatFloat(n, 'f', -1, 64) + u.name
		}
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + "s"
}

// UnmarshalYAML reads a duration string. Errors are *yaml.TypeError values
// that carry the line, so that yaml.v3 collects them with its other type
// errors instead of stopping at the first.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: invalid duration: want a string such as \"30s\", got a %s", n.Line, nodeKindName(n))}}
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration as a short string such as "250ms".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON writes the duration as a short JSON string such as "250ms".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string such as "250ms".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`invalid duration: want a string such as "30s"`)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// JSONSchema describes a duration in the JSON schema: a string matching
// DurationPattern.
func (Duration) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:        "string",
		Pattern:     DurationPattern,
		Description: `A duration: a non-negative number followed by a unit ms, s, m, h or d ("250ms", "1.5s", "30m", "24h", "7d").`,
		Examples:    []any{"250ms", "1.5s", "30m", "24h", "7d"},
	}
}

// nodeKindName names a YAML node kind the way error messages speak of it.
func nodeKindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	case yaml.DocumentNode:
		return "document"
	}
	return "scalar"
}
