package kindbackend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/fleetsim/fleetsim/kubeplan"
)

// labelControlPlane marks kubeadm's control-plane nodes.
const labelControlPlane = "node-role.kubernetes.io/control-plane"

// WaitNodesReady waits until the cluster has want nodes and every one of
// them is Ready, or timeout.
func WaitNodesReady(ctx context.Context, cs kubernetes.Interface, want int, timeout time.Duration) error {
	return pollReady(ctx, timeout, func() (string, error) {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return "the node list", err
		}
		var notReady []string
		for _, n := range nodes.Items {
			if !nodeReady(&n) {
				notReady = append(notReady, n.Name)
			}
		}
		if len(nodes.Items) >= want && len(notReady) == 0 {
			return "", nil
		}
		sort.Strings(notReady)
		return fmt.Sprintf("%d of %d registered, not Ready: %s", len(nodes.Items), want, strings.Join(notReady, ", ")), nil
	})
}

// pollReady calls check at once and then every second until it reports
// nothing left to wait for (""), ctx ends, or timeout passes; then the
// error names what check last reported waiting for, and its error.
func pollReady(ctx context.Context, timeout time.Duration, check func() (waiting string, err error)) error {
	deadline := time.Now().Add(timeout)
	for {
		waiting, err := check()
		if waiting == "" && err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("nodes not Ready after %v: %s", timeout, waiting), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// Workers lists the cluster's worker nodes (those without the
// control-plane role label), sorted by name.
func Workers(ctx context.Context, cs kubernetes.Interface) ([]string, error) {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var out []string
	for _, n := range nodes.Items {
		if _, cp := n.Labels[labelControlPlane]; !cp {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// MapNodes renames the scenario nodes of one cluster onto kind worker
// nodes: the i-th node (scenario order) becomes the i-th worker (sorted
// by name). It returns an error when there are fewer workers than nodes.
func MapNodes(nodes []kubeplan.Node, workers []string) error {
	if len(workers) < len(nodes) {
		return fmt.Errorf("%d kind worker nodes for %d scenario nodes", len(workers), len(nodes))
	}
	for i := range nodes {
		nodes[i].Name = workers[i]
	}
	return nil
}

// NodeLabels are the labels a real node gets for scenario node n: those
// kubeplan.NodeObject sets on a registered node, less
// kubernetes.io/hostname (the kubelet's own).
func NodeLabels(n kubeplan.Node) map[string]string {
	l := map[string]string{}
	for k, v := range kubeplan.NodeObject(n).Labels {
		if k != kubeplan.LabelHostname {
			l[k] = v
		}
	}
	return l
}

// gpuPatch is the JSON patch that advertises n GPUs as the extended
// resource nvidia.com/gpu on a node's status, as in the Kubernetes task
// "Advertise Extended Resources for a Node" (the "/" of the name is "~1"
// in a JSON pointer, RFC 6901). "add" replaces an existing value.
func gpuPatch(n int) []byte {
	key := strings.ReplaceAll(kubeplan.ResourceGPU, "/", "~1")
	ops := []map[string]string{
		{"op": "add", "path": "/status/capacity/" + key, "value": fmt.Sprint(n)},
		{"op": "add", "path": "/status/allocatable/" + key, "value": fmt.Sprint(n)},
	}
	b, err := json.Marshal(ops)
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return b
}

// Adopt makes real (kind) nodes the scenario's nodes: each node named
// n.Name gets NodeLabels(n), and its status advertises n.GPUs nvidia.com/gpu
// in capacity and allocatable. After settle it reads every node back and
// fails if a label or the GPU count did not stick (the kubelet keeps
// extended resources it does not manage, so they should).
func Adopt(ctx context.Context, cs kubernetes.Interface, nodes []kubeplan.Node, settle time.Duration) error {
	for _, n := range nodes {
		lp, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": NodeLabels(n)}})
		if err != nil {
			return err
		}
		if _, err := cs.CoreV1().Nodes().Patch(ctx, n.Name, types.StrategicMergePatchType, lp, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("label node %s: %w", n.Name, err)
		}
		if _, err := cs.CoreV1().Nodes().Patch(ctx, n.Name, types.JSONPatchType, gpuPatch(n.GPUs), metav1.PatchOptions{}, "status"); err != nil {
			return fmt.Errorf("advertise %d %s on node %s: %w", n.GPUs, kubeplan.ResourceGPU, n.Name, err)
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(settle):
	}
	for _, n := range nodes {
		got, err := cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
		for k, v := range NodeLabels(n) {
			if got.Labels[k] != v {
				return fmt.Errorf("node %s: label %s = %q, want %q", n.Name, k, got.Labels[k], v)
			}
		}
		for _, list := range []struct {
			what string
			rl   corev1.ResourceList
		}{{"capacity", got.Status.Capacity}, {"allocatable", got.Status.Allocatable}} {
			q := list.rl[kubeplan.ResourceGPU]
			if q.Value() != int64(n.GPUs) {
				return fmt.Errorf("node %s: %s %s = %d after %v, want %d", n.Name, list.what, kubeplan.ResourceGPU, q.Value(), settle, n.GPUs)
			}
		}
	}
	return nil
}
