package kindbackend

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"
	"sigs.k8s.io/kind/pkg/log"
)

// Defaults and names.
const (
	// Prefix starts the name of every cluster fleetsim creates.
	Prefix = "fleetsim-"
	// DefaultNodeImage is the node image scripts/kind-node-image.sh builds.
	DefaultNodeImage = "fleetsim/kind-node:v1.37.2"
	// DefaultReplicaImage is the image scripts/build-image.sh builds.
	DefaultReplicaImage = "fleetsim:local"
	// WaitForReady bounds kind's wait for the control plane, and then
	// fleetsim's wait for every node to be Ready. docs/kind.md measured a
	// three-node cluster Ready in 23 s on this machine; 3 min leaves room
	// for a loaded 2-core host.
	WaitForReady = 3 * time.Minute
)

// baseConfig is a copy of kindimage/kind-config.yaml (a test keeps the two
// equal): one control-plane node, no default CNI, kube-proxy in nftables
// mode, kubelet failCgroupV1 false.
//
//go:embed kind-config.yaml
var baseConfig []byte

// Config is the kind cluster config for a cluster of one control-plane
// node and the given number of worker nodes. It panics if workers is
// negative (a programmer error).
func Config(workers int) []byte {
	if workers < 0 {
		panic(fmt.Sprintf("kindbackend.Config: workers = %d, want >= 0", workers))
	}
	var b strings.Builder
	b.Write(baseConfig)
	if !strings.HasSuffix(b.String(), "\n") {
		b.WriteByte('\n')
	}
	for range workers {
		b.WriteString("  - role: worker\n")
	}
	return []byte(b.String())
}

// NewName returns "fleetsim-" and six random hex digits, a name kind
// accepts (its node containers are named <name>-control-plane,
// <name>-worker, <name>-worker2, ...). The digits come from crypto/rand: the
// name only has to be unlikely to clash, not reproducible.
func NewName() (string, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("cluster name: %w", err)
	}
	return Prefix + hex.EncodeToString(b[:]), nil
}

// Kind creates and deletes fleetsim's kind clusters through kind's Docker
// provider. It remembers what it created: Delete and DeleteAll remove only
// those clusters. It is safe for concurrent use.
type Kind struct {
	provider *cluster.Provider
	log      io.Writer

	mu      sync.Mutex
	created []string
}

// New returns a Kind that writes kind's progress lines to w (nil: none).
func New(w io.Writer) *Kind {
	if w == nil {
		w = io.Discard
	}
	return &Kind{
		provider: cluster.NewProvider(cluster.ProviderWithDocker(), cluster.ProviderWithLogger(logger{w: w})),
		log:      w,
	}
}

// Create creates cluster name (which must start with Prefix) from the node
// image with one control-plane node and workers worker nodes, and waits
// until kind reports the control plane Ready; the node containers get no
// restart policy (a killed run's cluster stays stopped when Docker
// restarts; scripts/kind-clean.sh removes it). kind's create cannot be
// interrupted: ctx is only checked before it starts. On failure kind
// removes what it made; the name is remembered either way, so DeleteAll
// also covers a half-made cluster.
func (k *Kind) Create(ctx context.Context, name string, workers int, image string) error {
	if !strings.HasPrefix(name, Prefix) {
		return fmt.Errorf("kind cluster %q: fleetsim's cluster names start with %q", name, Prefix)
	}
	if workers < 0 {
		return fmt.Errorf("kind cluster %s: %d workers, want >= 0", name, workers)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	k.mu.Lock()
	k.created = append(k.created, name)
	k.mu.Unlock()
	err := k.provider.Create(name,
		cluster.CreateWithNodeImage(image),
		cluster.CreateWithRawConfig(Config(workers)),
		cluster.CreateWithWaitForReady(WaitForReady),
		// Keep the user's ~/.kube/config as it is: fleetsim reads the
		// kubeconfig from kind (KubeConfig), and a missing or read-only
		// home must not fail the run.
		cluster.CreateWithKubeconfigPath(filepath.Join(os.TempDir(), name+".kubeconfig")),
		cluster.CreateWithDisplayUsage(false),
		cluster.CreateWithDisplaySalutation(false),
	)
	if err != nil {
		return fmt.Errorf("kind create cluster %s: %w", name, err)
	}
	return k.noRestart(ctx, name)
}

// noRestart turns off the restart policy kind gives its node containers
// (on-failure:1, so that a cluster survives a host reboot). fleetsim's
// clusters live for one run: one whose run was killed must not come back
// with the next Docker engine and take the CPU of the runs after it.
func (k *Kind) noRestart(ctx context.Context, name string) error {
	nodes, err := k.provider.ListNodes(name)
	if err != nil {
		return fmt.Errorf("kind cluster %s: list nodes: %w", name, err)
	}
	args := []string{"update", "--restart=no"}
	for _, n := range nodes {
		args = append(args, n.String())
	}
	if err := docker(ctx, args...); err != nil {
		return fmt.Errorf("kind cluster %s: %w", name, err)
	}
	return nil
}

// docker runs the Docker CLI with args; its error names the command and
// carries what the CLI printed.
func docker(ctx context.Context, args ...string) error {
	if out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Created lists the clusters this Kind created (and has not deleted), in
// creation order.
func (k *Kind) Created() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.created)
}

// Delete deletes cluster name if this Kind created it; any other name is
// refused with an error and left alone.
func (k *Kind) Delete(name string) error {
	k.mu.Lock()
	i := slices.Index(k.created, name)
	k.mu.Unlock()
	if i < 0 || !strings.HasPrefix(name, Prefix) {
		return fmt.Errorf("kind cluster %s: not created by this run; left alone", name)
	}
	kubeconfig := filepath.Join(os.TempDir(), name+".kubeconfig")
	if err := k.provider.Delete(name, kubeconfig); err != nil {
		return fmt.Errorf("kind delete cluster %s: %w", name, err)
	}
	_ = os.Remove(kubeconfig)
	k.mu.Lock()
	k.created = slices.DeleteFunc(k.created, func(s string) bool { return s == name })
	k.mu.Unlock()
	return nil
}

// DeleteAll deletes every cluster this Kind created, newest first.
func (k *Kind) DeleteAll() error {
	names := k.Created()
	var errs []error
	for i := len(names) - 1; i >= 0; i-- {
		errs = append(errs, k.Delete(names[i]))
	}
	return errors.Join(errs...)
}

// KubeConfig is the kubeconfig of cluster name for a client on this host.
func (k *Kind) KubeConfig(name string) (string, error) {
	cfg, err := k.provider.KubeConfig(name, false)
	if err != nil {
		return "", fmt.Errorf("kind cluster %s: kubeconfig: %w", name, err)
	}
	return cfg, nil
}

// RESTConfig is a client-go config for cluster name, with a request rate
// high enough not to pace the validator (client-go's default is 5/s).
func (k *Kind) RESTConfig(name string) (*rest.Config, error) {
	kc, err := k.KubeConfig(name)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(kc))
	if err != nil {
		return nil, fmt.Errorf("kind cluster %s: kubeconfig: %w", name, err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	return cfg, nil
}

// LoadImage loads a local Docker image into every node of cluster name,
// as `kind load docker-image` does: `docker save` to a temporary archive,
// then kind's nodeutils.LoadImageArchive (ctr import) on each node.
func (k *Kind) LoadImage(ctx context.Context, name, image string) error {
	nodes, err := k.provider.ListInternalNodes(name)
	if err != nil {
		return fmt.Errorf("kind cluster %s: list nodes: %w", name, err)
	}
	if len(nodes) == 0 {
		return fmt.Errorf("kind cluster %s: no nodes", name)
	}
	dir, err := os.MkdirTemp("", "fleetsim-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tar := filepath.Join(dir, "image.tar")
	if err := docker(ctx, "save", "-o", tar, image); err != nil {
		return err
	}
	for _, n := range nodes {
		f, err := os.Open(tar)
		if err != nil {
			return err
		}
		err = nodeutils.LoadImageArchive(n, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("load %s into %s: %w", image, n.String(), err)
		}
	}
	return nil
}

// List lists every kind cluster on this host's Docker (fleetsim's and
// others'), sorted by name.
func (k *Kind) List() ([]string, error) {
	names, err := k.provider.List()
	if err != nil {
		return nil, fmt.Errorf("kind get clusters: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

// ImageExists reports whether Docker has the image locally; the error says
// why not (including "docker: not found" when there is no Docker CLI).
func ImageExists(ctx context.Context, image string) error {
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", image).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("docker image inspect %s: %s", image, msg)
	}
	return nil
}

// logger adapts an io.Writer to kind's log.Logger: warnings, errors and
// verbosity-0 messages are written, one per line; debug levels are not.
type logger struct{ w io.Writer }

func (l logger) Warn(m string)                { fmt.Fprintln(l.w, "kind: WARNING:", m) }
func (l logger) Warnf(f string, a ...any)     { l.Warn(fmt.Sprintf(f, a...)) }
func (l logger) Error(m string)               { fmt.Fprintln(l.w, "kind: ERROR:", m) }
func (l logger) Errorf(f string, a ...any)    { l.Error(fmt.Sprintf(f, a...)) }
func (l logger) V(v log.Level) log.InfoLogger { return infoLogger{w: l.w, on: v <= 0} }
func (i infoLogger) Info(m string)            { i.Infof("%s", m) }
func (i infoLogger) Enabled() bool            { return i.on }
func (i infoLogger) Infof(f string, a ...any) {
	if i.on {
		fmt.Fprintln(i.w, "kind: "+strings.TrimRight(fmt.Sprintf(f, a...), "\n"))
	}
}

type infoLogger struct {
	w  io.Writer
	on bool
}
