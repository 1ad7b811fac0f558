package scenarios

import (
	"embed"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Info names and describes a built-in scenario.
type Info struct {
	// Name is what Open and `fleetsim run` accept ("minimal").
	Name string
	// Description is the scenario's metadata.description.
	Description string
}

// Builtins lists the built-in scenarios, sorted by name.
func Builtins() []Info {
	entries, err := builtinFS.ReadDir("builtin")
	if err != nil {
		panic("scenarios: embedded builtin directory unreadable: " + err.Error()) // programmer error: the embed pattern guarantees it
	}
	var out []Info
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".yaml")
		if !ok {
			continue
		}
		data, _ := builtinFS.ReadFile(path.Join("builtin", e.Name()))
		var head struct {
			Metadata Metadata `yaml:"metadata"`
		}
		// A broken built-in still gets listed; its test reports the error.
		_ = yaml.Unmarshal(data, &head)
		out = append(out, Info{Name: name, Description: head.Metadata.Description})
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// BuiltinYAML returns the YAML text of the built-in scenario name, and
// whether there is one.
func BuiltinYAML(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return nil, false
	}
	data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	if err != nil {
		return nil, false
	}
	return data, true
}
