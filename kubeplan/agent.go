package kubeplan

import (
	"context"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// Agent plays the kubelet of a set of registered nodes: it renews their
// leases and Ready heartbeats, and moves pods the scheduler bound to them
// from Pending to Running (phase, conditions, pod IP, a running container
// status). It runs no containers.
type Agent struct {
	cs kubernetes.Interface
	// Heartbeat is how often leases and node status are renewed (default 10 s,
	// well inside the node controller's 40 s grace period).
	Heartbeat time.Duration
	// Poll is how often bound pods are looked for (default 200 ms).
	Poll time.Duration

	mu    sync.Mutex
	nodes map[string]bool
	ip    int
}

// NewAgent returns an agent for no nodes yet.
func NewAgent(cs kubernetes.Interface) *Agent {
	return &Agent{cs: cs, Heartbeat: 10 * time.Second, Poll: 200 * time.Millisecond, nodes: map[string]bool{}}
}

// Register creates the nodes (and their leases) and adopts them.
func (a *Agent) Register(ctx context.Context, nodes []Node) error {
	for _, n := range nodes {
		if _, err := a.cs.CoreV1().Nodes().Create(ctx, NodeObject(n), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("register node %s: %w", n.Name, err)
		}
		// A Node is created with its status (as a kubelet registers); the
		// first heartbeat makes its lease.
		if err := a.heartbeat(ctx, n.Name); err != nil {
			return err
		}
		a.mu.Lock()
		a.nodes[n.Name] = true
		a.mu.Unlock()
	}
	return nil
}

// Forget stops serving the named nodes (before they are deleted).
func (a *Agent) Forget(names ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, n := range names {
		delete(a.nodes, n)
	}
}

// Run serves the nodes until ctx ends.
func (a *Agent) Run(ctx context.Context) {
	beat := time.NewTicker(a.Heartbeat)
	poll := time.NewTicker(a.Poll)
	defer beat.Stop()
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			for _, n := range a.names() {
				_ = a.heartbeat(ctx, n) // a missed beat is retried on the next tick
			}
		case <-poll.C:
			_ = a.startPods(ctx)
		}
	}
}

func (a *Agent) names() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, 0, len(a.nodes))
	for n := range a.nodes {
		out = append(out, n)
	}
	return out
}

func (a *Agent) serves(node string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.nodes[node]
}

// heartbeat renews the node's lease and Ready condition.
func (a *Agent) heartbeat(ctx context.Context, name string) error {
	now := metav1.NowMicro()
	dur := int32(40)
	leases := a.cs.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: corev1.NamespaceNodeLease},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: &name, LeaseDurationSeconds: &dur, RenewTime: &now},
		}, metav1.CreateOptions{})
	case err == nil:
		l.Spec.RenewTime = &now
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("node %s lease: %w", name, err)
	}
	// The node controller writes the node too: retry on conflict with a
	// fresh copy.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := a.cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		want := NodeObject(Node{Name: name}).Status.Conditions[0]
		found := false
		for i := range n.Status.Conditions {
			if c := &n.Status.Conditions[i]; c.Type == corev1.NodeReady {
				found = true
				c.LastHeartbeatTime = metav1.Now()
				if c.Status != corev1.ConditionTrue {
					*c = want
				}
			}
		}
		if !found {
			n.Status.Conditions = append(n.Status.Conditions, want)
		}
		_, err = a.cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("node %s status: %w", name, err)
	}
	return nil
}

// startPods moves Pending pods bound to the agent's nodes to Running.
func (a *Agent) startPods(ctx context.Context) error {
	pods, err := a.cs.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "status.phase=Pending"})
	if err != nil {
		return err
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Spec.NodeName == "" || !a.serves(p.Spec.NodeName) || p.DeletionTimestamp != nil {
			continue
		}
		a.mu.Lock()
		a.ip++
		ip := fmt.Sprintf("10.244.%d.%d", a.ip/250, a.ip%250+1)
		a.mu.Unlock()
		now := metav1.Now()
		p.Status.Phase = corev1.PodRunning
		p.Status.PodIP, p.Status.HostIP = ip, "127.0.0.1"
		p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
		p.Status.StartTime = &now
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}
		p.Status.ContainerStatuses = nil
		for _, c := range p.Spec.Containers {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
				Name: c.Name, Image: c.Image, Ready: true, Started: ptr(true),
				State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
			})
		}
		if _, err := a.cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return err
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
