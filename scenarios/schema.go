package scenarios

import _ "embed"

//go:embed schema.json
var schemaJSON []byte

// JSONSchema returns the JSON Schema (draft 2020-12) of scenario files,
// generated from the Go types and their doc comments by
// internal/schemagen. Editors that speak yaml-language-server use it for
// completion and checks; see docs/scenario-reference.md.
func JSONSchema() []byte {
	return append([]byte(nil), schemaJSON...)
}
