package kindbackend

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/fleetsim/fleetsim/kubeplan"
)

// TestConfigMatchesKindimage: the embedded config is kindimage's, byte for
// byte, so the two cannot drift.
func TestConfigMatchesKindimage(t *testing.T) {
	want, err := os.ReadFile("../kindimage/kind-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(baseConfig, want) {
		t.Errorf("kindbackend/kind-config.yaml differs from kindimage/kind-config.yaml; copy the latter over the former")
	}
}

// TestConfig: Config(n) is kindimage's config with n worker nodes after
// the control plane, and keeps its networking and kubelet settings.
func TestConfig(t *testing.T) {
	for _, workers := range []int{0, 1, 3} {
		var cfg struct {
			Kind       string `yaml:"kind"`
			APIVersion string `yaml:"apiVersion"`
			Networking struct {
				DisableDefaultCNI bool   `yaml:"disableDefaultCNI"`
				KubeProxyMode     string `yaml:"kubeProxyMode"`
			} `yaml:"networking"`
			Patches []string `yaml:"kubeadmConfigPatches"`
			Nodes   []struct {
				Role string `yaml:"role"`
			} `yaml:"nodes"`
		}
		if err := yaml.Unmarshal(Config(workers), &cfg); err != nil {
			t.Fatalf("workers %d: %v", workers, err)
		}
		if len(cfg.Nodes) != workers+1 || cfg.Nodes[0].Role != "control-plane" {
			t.Fatalf("workers %d: got nodes %+v, want a control plane and %d workers", workers, cfg.Nodes, workers)
		}
		for i, n := range cfg.Nodes[1:] {
			if n.Role != "worker" {
				t.Errorf("workers %d: node %d role %q, want worker", workers, i+1, n.Role)
			}
		}
		if cfg.Kind != "Cluster" || cfg.APIVersion != "kind.x-k8s.io/v1alpha4" || !cfg.Networking.DisableDefaultCNI ||
			cfg.Networking.KubeProxyMode != "nftables" || len(cfg.Patches) != 1 || !strings.Contains(cfg.Patches[0], "failCgroupV1: false") {
			t.Errorf("workers %d: got %+v, want kindimage's settings", workers, cfg)
		}
	}
}

// TestNewName: fleetsim-<6 hex>, distinct from call to call.
func TestNewName(t *testing.T) {
	re := regexp.MustCompile(`^fleetsim-[0-9a-f]{6}$`)
	seen := map[string]bool{}
	for range 20 {
		n, err := NewName()
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(n) {
			t.Errorf("got %q, want fleetsim- and 6 hex digits", n)
		}
		seen[n] = true
	}
	// 20 draws from 2^24 names: a repeat has probability about 1e-5.
	if len(seen) < 19 {
		t.Errorf("got %d distinct names of 20", len(seen))
	}
}

// TestDeleteRefusesOthers: a Kind never deletes a cluster it did not
// create, fleetsim-named or not (no Docker is asked: the refusal comes
// first).
func TestDeleteRefusesOthers(t *testing.T) {
	k := New(nil)
	for _, name := range []string{"kind", "fleetsim-abcdef", "fleetsim-ctest"} {
		if err := k.Delete(name); err == nil || !strings.Contains(err.Error(), "not created by this run") {
			t.Errorf("Delete(%s): got %v, want a refusal", name, err)
		}
	}
	if err := k.Create(context.Background(), "demo", 1, DefaultNodeImage); err == nil || !strings.Contains(err.Error(), Prefix) {
		t.Errorf("Create(demo): got %v, want a refusal naming %q", err, Prefix)
	}
	if len(k.Created()) != 0 {
		t.Errorf("got created %v after refusals, want none", k.Created())
	}
}

// TestMapNodes: scenario nodes take the workers' names in order; too few
// workers is an error.
func TestMapNodes(t *testing.T) {
	nodes := []kubeplan.Node{{Name: "a-0"}, {Name: "a-1"}}
	if err := MapNodes(nodes, []string{"c-worker", "c-worker2", "c-worker3"}); err != nil {
		t.Fatal(err)
	}
	if nodes[0].Name != "c-worker" || nodes[1].Name != "c-worker2" {
		t.Errorf("got %s, %s; want c-worker, c-worker2", nodes[0].Name, nodes[1].Name)
	}
	if err := MapNodes(nodes, []string{"c-worker"}); err == nil {
		t.Error("2 nodes on 1 worker: got no error")
	}
}

// TestGPUPatch: the JSON patch adds nvidia.com/gpu (escaped as
// nvidia.com~1gpu, RFC 6901) to capacity and allocatable.
func TestGPUPatch(t *testing.T) {
	var ops []map[string]string
	if err := json.Unmarshal(gpuPatch(8), &ops); err != nil {
		t.Fatal(err)
	}
	want := []string{"/status/capacity/nvidia.com~1gpu", "/status/allocatable/nvidia.com~1gpu"}
	if len(ops) != 2 {
		t.Fatalf("got %d ops, want 2", len(ops))
	}
	for i, op := range ops {
		if op["op"] != "add" || op["path"] != want[i] || op["value"] != "8" {
			t.Errorf("op %d: got %v, want add %s 8", i, op, want[i])
		}
	}
}

// TestAdopt: a real node gets the scenario node's labels (not the
// kubelet's hostname label) and its GPUs in capacity and allocatable.
func TestAdopt(t *testing.T) {
	ctx := context.Background()
	real := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "c-worker", Labels: map[string]string{kubeplan.LabelHostname: "c-worker"}},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
		},
	}
	cs := fake.NewSimpleClientset(real)
	n := kubeplan.Node{Name: "c-worker", Region: "us-east", Cluster: "us-east-use", Residency: "us", GPU: "h100", GPUs: 8}
	if err := Adopt(ctx, cs, []kubeplan.Node{n}, 0); err != nil {
		t.Fatal(err)
	}
	got, err := cs.CoreV1().Nodes().Get(ctx, "c-worker", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		kubeplan.LabelRegion: "us-east", kubeplan.LabelZone: "us-east-use", kubeplan.LabelGPU: "h100",
		kubeplan.LabelResidency: "us", kubeplan.LabelManaged: kubeplan.ManagedBy, kubeplan.LabelHostname: "c-worker",
	}
	for k, v := range want {
		if got.Labels[k] != v {
			t.Errorf("label %s: got %q, want %q", k, got.Labels[k], v)
		}
	}
	c, a := got.Status.Capacity[kubeplan.ResourceGPU], got.Status.Allocatable[kubeplan.ResourceGPU]
	if c.Value() != 8 || a.Value() != 8 {
		t.Errorf("got capacity %d, allocatable %d GPUs; want 8 and 8", c.Value(), a.Value())
	}
	if cpu := got.Status.Capacity[corev1.ResourceCPU]; cpu.Value() != 2 {
		t.Errorf("got capacity cpu %v, want the node's own 2 kept", cpu.String())
	}
	if err := Adopt(ctx, cs, []kubeplan.Node{{Name: "missing", GPUs: 1}}, 0); err == nil {
		t.Error("adopting a node that does not exist: got no error")
	}
}

// TestStopStartRefuseOthers: StopNodes and StartNodes touch only clusters
// this Kind created (no docker call is made for any other).
func TestStopStartRefuseOthers(t *testing.T) {
	k := New(nil)
	ctx := context.Background()
	for _, f := range []func(context.Context, string, []string) error{k.StopNodes, k.StartNodes} {
		if err := f(ctx, "fleetsim-abcdef", []string{"fleetsim-abcdef-worker"}); err == nil || !strings.Contains(err.Error(), "not created by this run") {
			t.Errorf("got %v, want a refusal", err)
		}
	}
}

// TestReadopt: WaitNamedReady names each node that is not registered or
// not Ready, and not the Ready ones; once all are Ready, Readopt labels
// them and advertises their GPUs again.
func TestReadopt(t *testing.T) {
	ctx := context.Background()
	node := func(name string, ready corev1.ConditionStatus) *corev1.Node {
		return &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Status: corev1.NodeStatus{
				Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}},
				Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
			},
		}
	}
	cs := fake.NewSimpleClientset(node("a", corev1.ConditionTrue), node("b", corev1.ConditionFalse))
	err := WaitNamedReady(ctx, cs, []string{"a", "b", "c"}, 0)
	if err == nil {
		t.Fatal("b not Ready and c missing: got no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "b (not Ready)") || !strings.Contains(msg, "c (not registered)") || strings.Contains(msg, "a ") {
		t.Errorf("got %q, want b not Ready and c not registered, and a not named", msg)
	}
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, node("b", corev1.ConditionTrue), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	nodes := []kubeplan.Node{
		{Name: "a", Region: "us-east", Cluster: "us-east-use", GPU: "h100", GPUs: 8},
		{Name: "b", Region: "us-east", Cluster: "us-east-use", GPU: "h100", GPUs: 4},
	}
	if err := Readopt(ctx, cs, nodes, 0, 0); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		got, err := cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		gpus := got.Status.Allocatable[kubeplan.ResourceGPU]
		if got.Labels[kubeplan.LabelZone] != n.Cluster || gpus.Value() != int64(n.GPUs) {
			t.Errorf("%s: zone label %q, %d GPUs allocatable; want %s and %d", n.Name, got.Labels[kubeplan.LabelZone], gpus.Value(), n.Cluster, n.GPUs)
		}
	}
}
