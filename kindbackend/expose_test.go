package kindbackend

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/fleetsim/fleetsim/kubeplan"
)

// TestExpose: the Service is a NodePort over the group's pods, in the
// strategy's namespace, and the URL is the first worker's InternalIP
// (IPv4 over IPv6; the control plane is never chosen) with the node port
// the API server allocated (the fake one does not, so a reactor plays it).
func TestExpose(t *testing.T) {
	ctx := context.Background()
	node := func(name string, cp bool, addrs ...corev1.NodeAddress) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}, Status: corev1.NodeStatus{Addresses: addrs}}
		if cp {
			n.Labels[labelControlPlane] = ""
		}
		return n
	}
	cs := fake.NewSimpleClientset(
		node("k-control-plane", true, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "172.18.0.2"}),
		node("k-worker2", false, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "172.18.0.4"}),
		node("k-worker", false,
			corev1.NodeAddress{Type: corev1.NodeHostName, Address: "k-worker"},
			corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "fc00:f853:ccd:e793::3"},
			corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "172.18.0.3"}),
	)
	cs.PrependReactor("create", "services", func(a k8stesting.Action) (bool, runtime.Object, error) {
		svc := a.(k8stesting.CreateAction).GetObject().(*corev1.Service)
		svc.Spec.Ports[0].NodePort = 30123
		return false, nil, nil // the tracker stores the changed object
	})
	g := kubeplan.Group{Strategy: "regional", Site: "us-east", Cluster: "us-east-use", Model: "llama-3.1-8b", GPU: "h100", TP: 1, Replicas: 2}
	got, err := Expose(ctx, cs, g)
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://172.18.0.3:30123"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	svc, err := cs.CoreV1().Services("fleetsim-regional").Get(ctx, g.Name(), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("service: %v", err)
	}
	if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Spec.Selector["fleetsim.io/group"] != g.Name() || len(svc.Spec.Selector) != 1 {
		t.Errorf("got type %s, selector %v; want NodePort over fleetsim.io/group=%s", svc.Spec.Type, svc.Spec.Selector, g.Name())
	}
	if p := svc.Spec.Ports; len(p) != 1 || p[0].Port != 8000 || p[0].TargetPort.StrVal != "http" {
		t.Errorf("got ports %+v, want 8000 to the replica's http port", p)
	}
}

// TestNodeAddressNone: a node without an InternalIP is an error.
func TestNodeAddressNone(t *testing.T) {
	cs := fake.NewSimpleClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeExternalIP, Address: "1.2.3.4"}}}})
	if ip, err := NodeAddress(context.Background(), cs, "n"); err == nil {
		t.Errorf("got %q, want an error", ip)
	}
}
