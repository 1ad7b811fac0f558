package sweep

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fleetsim/fleetsim/controlplane"
)

// TestIntegrationJobDryRunApply sends the emitted Indexed Job manifest to a
// real kube-apiserver (started from the binaries scripts/build-controlplane.sh
// builds) as a server-side dry run: the apiserver's own validation and
// defaulting accept it and keep what matters. A Job the apiserver must
// reject (a negative completion count) is rejected, so the check can fail.
func TestIntegrationJobDryRunApply(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real control plane")
	}
	bin := filepath.Join("..", ".cache", "controlplane", "bin")
	if d := os.Getenv("FLEETSIM_CONTROLPLANE_DIR"); d != "" {
		bin = filepath.Join(d, "bin")
	}
	if m := controlplane.Missing(bin); len(m) > 0 {
		msg := "control plane binaries missing (" + strings.Join(m, ", ") + "): scripts/build-controlplane.sh"
		if os.Getenv("FLEETSIM_REQUIRE_CONTROLPLANE") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cp, err := controlplane.Start(ctx, controlplane.Options{BinDir: bin, Name: "sweep-job"})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Stop()
	cs, err := kubernetes.NewForConfig(cp.RESTConfig)
	if err != nil {
		t.Fatal(err)
	}
	j, err := Job(JobOptions{Name: "sweep-test", Shards: 3, Image: "fleetsim:local", SweepConfigMap: "sweep", ResultsClaim: "results"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := JobYAML(j)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := DecodeJob(data) // exactly what `kubectl apply -f` would send
	if err != nil {
		t.Fatal(err)
	}
	got, err := cs.BatchV1().Jobs("default").Create(ctx, manifest, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatalf("the apiserver rejected the emitted Job: %v\n%s", err, data)
	}
	if *got.Spec.Completions != 3 || string(*got.Spec.CompletionMode) != "Indexed" || *got.Spec.Parallelism != 3 ||
		got.Spec.Template.Spec.Containers[0].Args[3] != "$(JOB_COMPLETION_INDEX)" {
		t.Errorf("the apiserver's Job differs from the manifest: %+v", got.Spec)
	}
	if _, err := cs.BatchV1().Jobs("default").Get(ctx, "sweep-test", metav1.GetOptions{}); err == nil {
		t.Error("a dry run created the Job")
	}
	bad := manifest.DeepCopy()
	neg := int32(-1)
	bad.Spec.Completions = &neg
	if _, err := cs.BatchV1().Jobs("default").Create(ctx, bad, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err == nil {
		t.Error("the apiserver accepted a Job with -1 completions: the dry run checks nothing")
	}
}
