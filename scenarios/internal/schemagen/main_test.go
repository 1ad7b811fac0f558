package main

import (
	"bytes"
	"os"
	"testing"
)

// TestSchemaUpToDate regenerates the schema and fails when the committed
// scenarios/schema.json differs: run `go generate ./scenarios/`.
func TestSchemaUpToDate(t *testing.T) {
	t.Chdir("../..")
	got, err := generate(".")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("scenarios/schema.json is stale: run `go generate ./scenarios/` and commit the result")
	}
	if !bytes.Contains(got, []byte(`"description": "Count is the number of nodes in the pool (>= 0)."`)) {
		t.Errorf("schema lacks the doc comment of GPUPool.Count as its description")
	}
}
