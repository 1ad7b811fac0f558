package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// realRunc and dropCaps are the build-time defaults; see the package doc.
var (
	realRunc = "/usr/sbin/runc"
	dropCaps = "CAP_SYS_RESOURCE"
)

// globalValueFlags are runc's global options that take a separate value
// (runc --help, runc 1.1 to 1.4).
var globalValueFlags = map[string]bool{
	"--root": true, "--log": true, "--log-format": true, "--criu": true, "--rootless": true,
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "runc-fleetsim-wrapper: %v\n", err)
		os.Exit(1)
	}
}

// run rewrites the spec named by args, if any, and then replaces this process
// with the real runc.
func run(args []string) error {
	drop := splitCaps(envOr("FLEETSIM_DROP_CAPS", dropCaps))
	file, kind := specFile(args)
	if file != "" && len(drop) > 0 {
		if err := rewriteFile(file, kind, drop); err != nil {
			return err
		}
	}
	bin, err := findRunc()
	if err != nil {
		return err
	}
	return syscall.Exec(bin, append([]string{"runc"}, args...), os.Environ())
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func splitCaps(s string) []string {
	var caps []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			caps = append(caps, c)
		}
	}
	return caps
}

// specKind says which JSON document a spec file holds.
type specKind int

const (
	bundleSpec  specKind = iota // a full OCI spec; capabilities under .process.capabilities
	processSpec                 // an OCI process; capabilities under .capabilities
)

// specFile returns the spec file that the runc command line args will read,
// or "" when the command reads none. It understands the global options before
// the command and both "--flag value" and "--flag=value" forms.
func specFile(args []string) (string, specKind) {
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if globalValueFlags[args[i]] {
			i++
		}
		i++
	}
	if i >= len(args) {
		return "", bundleSpec
	}
	cmd, rest := args[i], args[i+1:]
	switch cmd {
	case "create", "run":
		bundle, ok := flagValue(rest, "--bundle", "-b")
		if !ok {
			bundle = "."
		}
		return filepath.Join(bundle, "config.json"), bundleSpec
	case "exec":
		if p, ok := flagValue(rest, "--process", "-p"); ok {
			return p, processSpec
		}
	}
	return "", bundleSpec
}

// flagValue returns the value of the first of the named flags in args. Like
// runc's flag parser (urfave/cli) it accepts one or two leading dashes and
// both "-f value" and "-f=value".
func flagValue(args []string, names ...string) (string, bool) {
	for i, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		key, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		for _, n := range names {
			if key != strings.TrimLeft(n, "-") {
				continue
			}
			if hasVal {
				return val, true
			}
			if i+1 < len(args) {
				return args[i+1], true
			}
		}
	}
	return "", false
}

// rewriteFile drops caps from the spec in file, rewriting it only if it
// changed and keeping its permissions.
func rewriteFile(file string, kind specKind, drop []string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	out, changed, err := dropFromSpec(data, kind, drop)
	if err != nil {
		return fmt.Errorf("spec %s: %w", file, err)
	}
	if !changed {
		return nil
	}
	st, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("stat spec: %w", err)
	}
	tmp := file + ".fleetsim-tmp"
	if err := os.WriteFile(tmp, out, st.Mode().Perm()); err != nil {
		return fmt.Errorf("write spec: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("replace spec: %w", err)
	}
	return nil
}

// dropFromSpec removes the capabilities in drop from every capability set of
// the process in data. Fields it does not know are kept as they are (numbers
// included). It reports whether anything was removed.
func dropFromSpec(data []byte, kind specKind, drop []string) ([]byte, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, false, fmt.Errorf("decode: %w", err)
	}
	proc := doc
	if kind == bundleSpec {
		p, ok := doc["process"].(map[string]any)
		if !ok {
			return data, false, nil
		}
		proc = p
	}
	caps, ok := proc["capabilities"].(map[string]any)
	if !ok {
		return data, false, nil
	}
	changed := false
	for _, set := range []string{"bounding", "effective", "inheritable", "permitted", "ambient"} {
		list, ok := caps[set].([]any)
		if !ok {
			continue
		}
		kept := make([]any, 0, len(list))
		for _, c := range list {
			if s, ok := c.(string); ok && contains(drop, s) {
				changed = true
				continue
			}
			kept = append(kept, c)
		}
		caps[set] = kept
	}
	if !changed {
		return data, false, nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, false, fmt.Errorf("encode: %w", err)
	}
	return out, true, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// findRunc returns the real runc: FLEETSIM_REAL_RUNC, the build-time default,
// or the first runc on PATH that is not this executable.
func findRunc() (string, error) {
	self, _ := os.Executable()
	self, _ = filepath.EvalSymlinks(self)
	cands := []string{os.Getenv("FLEETSIM_REAL_RUNC"), realRunc}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		cands = append(cands, filepath.Join(dir, "runc"))
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		p, err := filepath.EvalSymlinks(c)
		if err != nil || p == self {
			continue
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			if _, err := exec.LookPath(p); err == nil {
				return p, nil
			}
		}
	}
	return "", errors.New("no real runc found (set FLEETSIM_REAL_RUNC)")
}
