package kindbackend

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/fleetsim/fleetsim/kubeplan"
)

// StopNodes stops the node containers of kind cluster name whose names
// are nodes (a kind node's Kubernetes name is its container's name), as
// when a site is lost: `docker stop`, so the kubelet inside stops and
// cannot register its Node again. Only a cluster this Kind created, and
// only its own containers, are touched: any other name is an error and
// nothing is stopped.
func (k *Kind) StopNodes(ctx context.Context, name string, nodes []string) error {
	if err := k.ownNodes(name, nodes); err != nil {
		return err
	}
	return dockerEach(ctx, "stop", nodes)
}

// StartNodes starts node containers StopNodes stopped (same checks). The
// kubelets then register their Nodes again, without fleetsim's labels and
// GPUs: Readopt puts those back.
func (k *Kind) StartNodes(ctx context.Context, name string, nodes []string) error {
	if err := k.ownNodes(name, nodes); err != nil {
		return err
	}
	return dockerEach(ctx, "start", nodes)
}

// ownNodes checks that this Kind created cluster name and that each of
// nodes is one of its node containers (kind's provider lists them).
func (k *Kind) ownNodes(name string, nodes []string) error {
	if !slices.Contains(k.Created(), name) {
		return fmt.Errorf("kind cluster %s: not created by this run; left alone", name)
	}
	list, err := k.provider.ListNodes(name)
	if err != nil {
		return fmt.Errorf("kind cluster %s: list nodes: %w", name, err)
	}
	var have []string
	for _, n := range list {
		have = append(have, n.String())
	}
	for _, n := range nodes {
		if !slices.Contains(have, n) {
			return fmt.Errorf("kind cluster %s: %s is not one of its node containers (%s)", name, n, strings.Join(have, ", "))
		}
	}
	return nil
}

// dockerEach runs `docker <verb> <container>` for each container in turn.
func dockerEach(ctx context.Context, verb string, containers []string) error {
	for _, c := range containers {
		if err := docker(ctx, verb, c); err != nil {
			return err
		}
	}
	return nil
}

// WaitNamedReady waits until every node named in names exists and is
// Ready, or timeout.
func WaitNamedReady(ctx context.Context, cs kubernetes.Interface, names []string, timeout time.Duration) error {
	return pollReady(ctx, timeout, func() (string, error) {
		var missing []string
		var lastErr error
		for _, name := range names {
			n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				missing = append(missing, name+" (not registered)")
			case err != nil:
				missing = append(missing, name)
				lastErr = err
			case !nodeReady(n):
				missing = append(missing, name+" (not Ready)")
			}
		}
		if len(missing) == 0 {
			return "", nil
		}
		sort.Strings(missing)
		return strings.Join(missing, ", "), lastErr
	})
}

// Readopt brings back nodes a site failure stopped: it waits until their
// kubelets have registered them again and they are Ready (up to timeout),
// then adopts them again (Adopt: labels and the nvidia.com/gpu status
// patch, read back after settle). A freshly registered node's first
// status updates may race the patch, so Adopt is tried up to three
// times.
func Readopt(ctx context.Context, cs kubernetes.Interface, nodes []kubeplan.Node, timeout, settle time.Duration) error {
	var names []string
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	if err := WaitNamedReady(ctx, cs, names, timeout); err != nil {
		return err
	}
	var err error
	for range 3 {
		if err = Adopt(ctx, cs, nodes, settle); err == nil {
			return nil
		}
	}
	return err
}
