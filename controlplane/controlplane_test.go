package controlplane

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func binDir(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real control plane")
	}
	dir := filepath.Join("..", ".cache", "controlplane", "bin")
	if d := os.Getenv("FLEETSIM_CONTROLPLANE_DIR"); d != "" {
		dir = filepath.Join(d, "bin")
	}
	if m := Missing(dir); len(m) > 0 {
		msg := "binaries missing in " + dir + ": " + strings.Join(m, ", ") + " (scripts/build-controlplane.sh)"
		if os.Getenv("FLEETSIM_REQUIRE_CONTROLPLANE") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// TestIntegrationStartStop starts a control plane, reaches it through the
// kubeconfig file it wrote, checks that the controller-manager and the
// scheduler work (a default service account exists; a pod is bound to a
// registered node), and stops it: no process and no folder remain.
func TestIntegrationStartStop(t *testing.T) {
	bin := binDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cp, err := Start(ctx, Options{BinDir: bin, Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	pids := cp.PIDs()
	defer cp.Stop()
	if len(pids) != len(Binaries) {
		t.Errorf("%d processes, want %d", len(pids), len(Binaries))
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", cp.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"kubernetes.io/hostname": "n1"}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourcePods: mustQ("10"), corev1.ResourceCPU: mustQ("4"), corev1.ResourceMemory: mustQ("8Gi")},
			Capacity:    corev1.ResourceList{corev1.ResourcePods: mustQ("10"), corev1.ResourceCPU: mustQ("4"), corev1.ResourceMemory: mustQ("8Gi")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now()}},
		},
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "none"}}}}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "p", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Spec.NodeName == "n1" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the scheduler did not bind the pod: %+v", p.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cp.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if _, err := os.Stat(filepath.Join("/proc", itoa(pid))); err == nil {
			if st, _ := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat")); !strings.Contains(string(st), ") Z ") {
				t.Errorf("process %d still runs after Stop", pid)
			}
		}
	}
	if _, err := os.Stat(cp.Dir); !os.IsNotExist(err) {
		t.Errorf("working folder %s left behind", cp.Dir)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func mustQ(s string) resource.Quantity { return resource.MustParse(s) }
