package scenarios

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestSchemaStrict checks that the embedded schema rejects unknown
// properties on every object (as the loader's KnownFields does) and that
// its required lists are the fields without omitempty (as the loader's
// "required field missing" check is).
func TestSchemaStrict(t *testing.T) {
	var doc struct {
		Defs map[string]struct {
			Type                 string                     `json:"type"`
			Properties           map[string]json.RawMessage `json:"properties"`
			AdditionalProperties *bool                      `json:"additionalProperties"`
			Required             []string                   `json:"required"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(JSONSchema(), &doc); err != nil {
		t.Fatalf("JSONSchema() is not JSON: %v", err)
	}
	types := map[string]reflect.Type{}
	var collect func(reflect.Type)
	collect = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || types[t.Name()] != nil {
			return
		}
		types[t.Name()] = t
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				collect(t.Field(i).Type)
			}
		}
	}
	collect(reflect.TypeFor[Scenario]())
	for name, typ := range types {
		def, ok := doc.Defs[name]
		if !ok {
			t.Errorf("schema has no definition of %s", name)
			continue
		}
		if def.AdditionalProperties == nil || *def.AdditionalProperties {
			t.Errorf("%s: additionalProperties is not false", name)
		}
		var wantReq, wantProps []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := strings.Split(f.Tag.Get("yaml"), ",")
			wantProps = append(wantProps, tag[0])
			if !slices.Contains(tag[1:], "omitempty") {
				wantReq = append(wantReq, tag[0])
			}
		}
		var gotProps []string
		for p := range def.Properties {
			gotProps = append(gotProps, p)
		}
		slices.Sort(gotProps)
		slices.Sort(wantProps)
		if !slices.Equal(gotProps, wantProps) {
			t.Errorf("%s: schema properties %v, want the yaml names %v", name, gotProps, wantProps)
		}
		got := slices.Sorted(slices.Values(def.Required))
		slices.Sort(wantReq)
		if !slices.Equal(got, wantReq) {
			t.Errorf("%s: schema requires %v, want %v", name, got, wantReq)
		}
	}
	if d := doc.Defs["Duration"]; d.Type != "string" {
		t.Errorf("Duration: schema type %q, want string", d.Type)
	}
}

// TestJSONTagsMatchYAML keeps the json tags (used by the schema's readers
// and by JSON output) equal to the yaml tags.
func TestJSONTagsMatchYAML(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			if y, j := f.Tag.Get("yaml"), f.Tag.Get("json"); y != j {
				t.Errorf("%s.%s: yaml tag %q, json tag %q, want equal", typ.Name(), f.Name, y, j)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[Scenario]())
}
