// Command schemagen writes the JSON Schema of fleetsim scenario files,
// reflected from the Go types of package scenarios with their doc comments
// as descriptions. Run it with `go generate ./scenarios/` (it must run in
// the scenarios directory, which go generate does).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/fleetsim/fleetsim/scenarios"
	"github.com/invopop/jsonschema"
)

// pkgPath is the import path of package scenarios: comments are keyed by it.
const pkgPath = "github.com/fleetsim/fleetsim/scenarios"

func main() {
	out := flag.String("o", "schema.json", "file to write")
	flag.Parse()
	b, err := generate(".")
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}

// generate returns the schema; dir is the scenarios directory, and must
// be "." (AddGoComments keys comments by the path it walks).
func generate(dir string) ([]byte, error) {
	if dir != "." {
		return nil, fmt.Errorf("generate: run in the scenarios directory, not %q", dir)
	}
	r := &jsonschema.Reflector{
		// The file is YAML: name properties by their yaml tags. A field
		// without omitempty is required, as the loader requires it.
		FieldNameTag: "yaml",
		// The $id would be a made-up URL; editors use the $schema comment.
		Anonymous: true,
	}
	if err := r.AddGoComments(pkgPath, dir); err != nil {
		return nil, fmt.Errorf("read doc comments: %w", err)
	}
	s := r.Reflect(&scenarios.Scenario{})
	s.Title = "fleetsim scenario"
	s.Description = "A fleetsim scenario file (apiVersion fleetsim/v1alpha1, kind Scenario). See docs/scenario-reference.md."
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("marshal schema: %w", err)
	}
	// Keep ">=" readable in descriptions: undo encoding/json's HTML
	// escapes, and make sure that changed nothing but the spelling.
	readable := []byte(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(b)))
	var before, after any
	if json.Unmarshal(b, &before) != nil || json.Unmarshal(readable, &after) != nil || !reflect.DeepEqual(before, after) {
		readable = b
	}
	return append(readable, '\n'), nil
}
