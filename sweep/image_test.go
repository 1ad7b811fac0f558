package sweep

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImageRunsJobShards builds the FROM-scratch image with
// scripts/build-image.sh, runs each pod of the emitted Indexed Job as a
// container (the Job's own args, with $(JOB_COMPLETION_INDEX) expanded as
// the kubelet does and its volume mounts bound to host folders), collects
// the shards and compares the CSV with the same sweep run in-process: the
// image, the Job's command line and collect must give the sweep's result
// byte for byte. It needs a running Docker engine and is skipped without
// one (and under -short).
func TestImageRunsJobShards(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skip("no running Docker engine (docker info failed)")
	}
	const image = "fleetsim:sweep-test"
	build := exec.Command("bash", "../scripts/build-image.sh")
	build.Env = append(os.Environ(), "IMAGE="+image)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build-image.sh: %v\n%s", err, out)
	}
	defer exec.Command("docker", "rmi", "-f", image).Run()

	dir := t.TempDir()
	sweepDir, resultsDir := filepath.Join(dir, "sweep"), filepath.Join(dir, "results")
	for _, d := range []string{sweepDir, resultsDir} {
		if err := os.MkdirAll(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	src := `apiVersion: fleetsim/v1alpha1
kind: Sweep
metadata: {name: image-test}
scenario: minimal
parameters:
  - path: spec.workloads[chat].usersScale
    values: [0.5, 2]
  - path: spec.run.seed
    values: [1, 2, 3]
`
	sweepFile := filepath.Join(sweepDir, "sweep.yaml")
	if err := os.WriteFile(sweepFile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	const shards = 2
	job, err := Job(JobOptions{Name: "t", Shards: shards, Image: image, SweepConfigMap: "s", ResultsClaim: "r"})
	if err != nil {
		t.Fatal(err)
	}
	c := job.Spec.Template.Spec.Containers[0]
	host := map[string]string{"sweep": sweepDir, "results": resultsDir}
	for i := 0; i < shards; i++ {
		args := []string{"run", "--rm", "--user", strconv.Itoa(os.Getuid())}
		for _, m := range c.VolumeMounts {
			v := host[m.Name] + ":" + m.MountPath
			if m.ReadOnly {
				v += ":ro"
			}
			args = append(args, "-v", v)
		}
		args = append(args, c.Image)
		for _, a := range c.Args {
			args = append(args, strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", strconv.Itoa(i)))
		}
		if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
			t.Fatalf("shard %d: docker %s: %v\n%s", i, strings.Join(args, " "), err, out)
		}
	}
	var collected bytes.Buffer
	if _, err := Collect([]string{resultsDir}, &collected); err != nil {
		t.Fatal(err)
	}

	f, err := Parse(sweepFile, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(dir, "local")
	if _, err := Run(f, sweepFile, Options{Out: local, Workers: 1, Shards: 1}, nil); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if _, err := Collect([]string{local}, &want); err != nil {
		t.Fatal(err)
	}
	// Every point file, byte for byte: the shards wrote the same results
	// under the same names as the in-process run.
	files, _ := filepath.Glob(filepath.Join(local, "points", "*.json"))
	if len(files) != 6 {
		t.Fatalf("in-process run wrote %d point files, want 6", len(files))
	}
	for _, fn := range files {
		a, _ := os.ReadFile(fn)
		b, err := os.ReadFile(filepath.Join(resultsDir, "points", filepath.Base(fn)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: the shards' file differs or is missing (%v)", filepath.Base(fn), err)
		}
	}
	if collected.String() != want.String() {
		t.Errorf("collected shards differ from the in-process sweep:\ngot:\n%s\nwant:\n%s", collected.String(), want.String())
	}
	if n := strings.Count(want.String(), "\n"); n < 1+6 {
		t.Errorf("sweep.csv has %d lines, want a header and at least a row per point (6)", n)
	}
}
