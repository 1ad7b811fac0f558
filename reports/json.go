package reports

import (
	"encoding/json"
	"io"

	"github.com/fleetsim/fleetsim/results"
)

// JSON writes r as indented JSON followed by a newline. The layout is the
// stable schema documented in docs/results.md.
func JSON(w io.Writer, r results.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
