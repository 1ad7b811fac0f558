package kindbackend

import (
	"context"
	"fmt"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fleetsim/fleetsim/kubeplan"
)

// Expose makes group g's replica pods reachable from this host: it creates
// kubeplan.ServiceObject(g), a NodePort Service over the group's pods, and
// returns "http://<node address>:<node port>", the node being the
// cluster's first worker (sorted by name) and its address the node's
// InternalIP, which for a kind node is its container's address on the
// Docker network (reachable from the host; pod addresses are not).
// kube-proxy on that node forwards each connection to one ready pod of the
// group, chosen at random. The Service goes when its namespace is deleted
// (Validator.Cleanup).
func Expose(ctx context.Context, cs kubernetes.Interface, g kubeplan.Group) (string, error) {
	return ExposeService(ctx, cs, kubeplan.ServiceObject(g))
}

// ExposeService is Expose for any NodePort Service of one port, such as
// kubeplan.PoolServiceObject's over several groups: it creates svc and
// returns the URL of its node port at the first worker's address.
func ExposeService(ctx context.Context, cs kubernetes.Interface, svc *corev1.Service) (string, error) {
	got, err := cs.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	if len(got.Spec.Ports) != 1 || got.Spec.Ports[0].NodePort == 0 {
		return "", fmt.Errorf("service %s/%s: no node port allocated", svc.Namespace, svc.Name)
	}
	workers, err := Workers(ctx, cs)
	if err != nil {
		return "", err
	}
	if len(workers) == 0 {
		return "", fmt.Errorf("service %s/%s: the cluster has no worker node", svc.Namespace, svc.Name)
	}
	ip, err := NodeAddress(ctx, cs, workers[0])
	if err != nil {
		return "", err
	}
	return "http://" + net.JoinHostPort(ip, strconv.Itoa(int(got.Spec.Ports[0].NodePort))), nil
}

// NodeAddress is node's InternalIP (IPv4 preferred) from its status.
func NodeAddress(ctx context.Context, cs kubernetes.Interface, node string) (string, error) {
	n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("node %s: %w", node, err)
	}
	return internalIP(n)
}

// internalIP picks a node's InternalIP address, an IPv4 one first.
func internalIP(n *corev1.Node) (string, error) {
	var v6 string
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		ip := net.ParseIP(a.Address)
		switch {
		case ip == nil:
		case ip.To4() != nil:
			return a.Address, nil
		case v6 == "":
			v6 = a.Address
		}
	}
	if v6 != "" {
		return v6, nil
	}
	return "", fmt.Errorf("node %s: no InternalIP address", n.Name)
}
