package scenarios

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse asserts only that Parse does not panic and returns either an
// error or a scenario that passes Validate. The seed corpus is every file
// in testdata and every built-in scenario.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, b := range Builtins() {
		data, _ := BuiltinYAML(b.Name)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			if s != nil {
				t.Errorf("Parse returned a scenario with the error %v", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Errorf("Parse accepted a scenario that Validate rejects:\n%v", err)
		}
	})
}
