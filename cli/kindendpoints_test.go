package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/fleetsim/fleetsim/kubeplan"
	"github.com/fleetsim/fleetsim/measure"
	"github.com/fleetsim/fleetsim/planner"
)

// fakeKind is a client-go fake of one kind cluster: a worker at ip, and
// node ports allocated from 30000 on as the API server would.
func fakeKind(ip string) *fake.Clientset {
	cs := fake.NewSimpleClientset(&corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "w-" + ip, Labels: map[string]string{}},
		Status:     corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}},
	})
	next := int32(30000)
	cs.PrependReactor("create", "services", func(a k8stesting.Action) (bool, runtime.Object, error) {
		svc := a.(k8stesting.CreateAction).GetObject().(*corev1.Service)
		svc.Spec.Ports[0].NodePort = next
		next++
		return false, nil, nil
	})
	return cs
}

// TestKindEndpoints: us-east's 10 replicas are split over its two scenario
// clusters (8 GPUs each). On one shared kind cluster they get one pool
// Service over both groups' planned pods; on one kind cluster per
// scenario cluster no single Service reaches them, so the pool is left to
// in-process emulators with a line saying so, while eu-west's pool, in one
// scenario cluster, gets its group's Service either way.
func TestKindEndpoints(t *testing.T) {
	node := func(region string) []kubeplan.Node {
		return []kubeplan.Node{{Name: region, Region: region, GPU: "h100", GPUs: 8}}
	}
	topo := &kubeplan.Topology{Clusters: []kubeplan.Cluster{
		{Region: "us-east", Name: "a", Nodes: node("us-east")},
		{Region: "us-east", Name: "b", Nodes: node("us-east")},
		{Region: "eu-west", Name: "a", Nodes: node("eu-west")},
	}}
	ps := planner.PlannedStrategy{Name: "regional", Deployments: []planner.PlannedDeployment{
		{Model: "llama-3.1-8b", GPU: "h100", TensorParallel: 1, Replicas: map[string]int{"us-east": 10, "eu-west": 1}},
	}}
	east, west := measure.PoolKey("us-east", "llama-3.1-8b"), measure.PoolKey("eu-west", "llama-3.1-8b")
	ctx := context.Background()

	t.Run("shared", func(t *testing.T) {
		cs := fakeKind("172.18.0.2")
		targets := []*kubeplan.Target{{Name: "k", CS: cs, Clusters: []string{"us-east-a", "us-east-b", "eu-west-a"}}}
		var log bytes.Buffer
		eps, err := kindEndpoints(ctx, topo, targets, ps, &log)
		if err != nil {
			t.Fatal(err)
		}
		if len(eps) != 2 || eps[east] == "" || eps[west] == "" || eps[east] == eps[west] {
			t.Fatalf("got endpoints %v, want one each for %s and %s\n%s", eps, east, west, log.String())
		}
		svcs, err := cs.CoreV1().Services("fleetsim-regional").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var pool *corev1.Service
		for i := range svcs.Items {
			if svcs.Items[i].Labels["fleetsim.io/pool"] != "" {
				pool = &svcs.Items[i]
			}
		}
		if len(svcs.Items) != 2 || pool == nil || pool.Spec.Selector[kubeplan.LabelSite] != "us-east" || pool.Spec.Selector["fleetsim.io/group"] != "" {
			t.Fatalf("got %d Services, pool Service %+v; want 2, one a pool Service over us-east's planned pods", len(svcs.Items), pool)
		}
		if !strings.Contains(log.String(), "10 pods of llama-3-1-8b-h100-us-east-a, llama-3-1-8b-h100-us-east-b") {
			t.Errorf("the log does not name the pool's 10 pods and both groups:\n%s", log.String())
		}
	})

	t.Run("per-cluster", func(t *testing.T) {
		var targets []*kubeplan.Target
		for i, c := range []string{"us-east-a", "us-east-b", "eu-west-a"} {
			targets = append(targets, &kubeplan.Target{Name: c, CS: fakeKind("172.18.0." + string(rune('2'+i))), Clusters: []string{c}})
		}
		var log bytes.Buffer
		eps, err := kindEndpoints(ctx, topo, targets, ps, &log)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := eps[east]; ok || eps[west] != "http://172.18.0.4:30000" {
			t.Errorf("got endpoints %v, want only %s at eu-west's worker", eps, west)
		}
		if !strings.Contains(log.String(), "pool "+east+" spans 2 scenario clusters on different kind clusters") {
			t.Errorf("no line says why %s is measured in-process:\n%s", east, log.String())
		}
	})
}
