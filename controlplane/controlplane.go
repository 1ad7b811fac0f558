package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const (
	serviceCIDR = "10.0.0.0/24"
	serviceIP   = "10.0.0.1" // the kubernetes Service's address: the first of serviceCIDR
)

// Binaries are the control plane's executables, in the order they start.
var Binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// Options configure Start.
type Options struct {
	// BinDir holds the binaries named in Binaries (scripts/build-controlplane.sh
	// builds them into .cache/controlplane/bin).
	BinDir string
	// Name labels the control plane in messages and its folder's name.
	Name string
	// Log receives one line per step (started, ready, stopped); nil: none.
	Log io.Writer
	// KeepLogs keeps the working folder (process logs) after Stop.
	KeepLogs bool
	// Timeout bounds the start (default 90 s).
	Timeout time.Duration
}

// ControlPlane is a running local control plane.
type ControlPlane struct {
	// Name is Options.Name.
	Name string
	// Dir is the working folder: certificates, etcd data, process logs.
	Dir string
	// Kubeconfig is the path of an admin kubeconfig file.
	Kubeconfig string
	// RESTConfig reaches the apiserver as cluster admin.
	RESTConfig *rest.Config
	// APIServerURL is https://127.0.0.1:PORT.
	APIServerURL string

	opt   Options
	mu    sync.Mutex
	procs []*proc
	done  bool
}

type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	exit chan error
}

// Missing returns the binaries not found in dir.
func Missing(dir string) []string {
	var out []string
	for _, b := range Binaries {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			out = append(out, b)
		}
	}
	return out
}

// Start starts etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler and waits until the apiserver answers /readyz and the
// default service account exists. On any failure it stops what it started
// and returns an error that names the failing component and the tail of its
// log.
func Start(ctx context.Context, opt Options) (cp *ControlPlane, err error) {
	if m := Missing(opt.BinDir); len(m) > 0 {
		return nil, fmt.Errorf("control plane binaries missing in %s: %v (run scripts/build-controlplane.sh)", opt.BinDir, m)
	}
	if abs, err := filepath.Abs(opt.BinDir); err == nil {
		opt.BinDir = abs // the processes run in the working folder
	}
	if opt.Name == "" {
		opt.Name = "fleetsim"
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 90 * time.Second
	}
	dir, err := os.MkdirTemp("", "fleetsim-cp-"+opt.Name+"-")
	if err != nil {
		return nil, err
	}
	cp = &ControlPlane{Name: opt.Name, Dir: dir, opt: opt}
	defer func() {
		if err != nil {
			cp.Stop()
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	p, err := makePKI(dir)
	if err != nil {
		return cp, fmt.Errorf("certificates: %w", err)
	}
	ports, err := freePorts(5)
	if err != nil {
		return cp, err
	}
	etcdClient, etcdPeer, apiPort, cmPort, schedPort := ports[0], ports[1], ports[2], ports[3], ports[4]
	cp.APIServerURL = "https://127.0.0.1:" + strconv.Itoa(apiPort)

	cp.RESTConfig = &rest.Config{
		Host: cp.APIServerURL,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: p.caPEM, CertData: p.adminCertPEM, KeyData: p.adminKeyPEM,
		},
		QPS: 200, Burst: 400,
		UserAgent: "fleetsim",
	}
	cp.Kubeconfig = filepath.Join(dir, "admin.kubeconfig")
	if err := writeKubeconfig(cp.Kubeconfig, cp.APIServerURL, p); err != nil {
		return cp, err
	}

	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(etcdPeer)
	if err := cp.spawn("etcd", "--name=default", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL, "--log-level=warn"); err != nil {
		return cp, err
	}
	if err := cp.waitHTTP(ctx, "etcd", etcdURL+"/health", nil); err != nil {
		return cp, err
	}
	cp.logf("etcd ready on %s", etcdURL)

	if err := cp.spawn("kube-apiserver",
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(apiPort),
		// With a loopback advertise address the endpoint reconciler makes the
		// apiserver exit; one apiserver needs none.
		"--endpoint-reconciler-type=none",
		"--cert-dir="+dir, "--tls-cert-file="+p.APICert, "--tls-private-key-file="+p.APIKey,
		"--client-ca-file="+p.CACert,
		"--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file="+p.SAPub,
		"--service-account-signing-key-file="+p.SAKey,
		"--service-cluster-ip-range="+serviceCIDR,
		"--authorization-mode=RBAC", "--allow-privileged=true", "--v=0"); err != nil {
		return cp, err
	}
	cs, err := kubernetes.NewForConfig(cp.RESTConfig)
	if err != nil {
		return cp, err
	}
	if err := cp.waitReady(ctx, cs); err != nil {
		return cp, err
	}
	cp.logf("kube-apiserver ready on %s", cp.APIServerURL)

	if err := cp.spawn("kube-controller-manager", "--kubeconfig="+cp.Kubeconfig,
		"--authentication-kubeconfig="+cp.Kubeconfig, "--authorization-kubeconfig="+cp.Kubeconfig,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(cmPort), "--leader-elect=false",
		"--service-account-private-key-file="+p.SAKey, "--root-ca-file="+p.CACert,
		"--use-service-account-credentials=false", "--v=0"); err != nil {
		return cp, err
	}
	if err := cp.spawn("kube-scheduler", "--kubeconfig="+cp.Kubeconfig,
		"--authentication-kubeconfig="+cp.Kubeconfig, "--authorization-kubeconfig="+cp.Kubeconfig,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(schedPort), "--leader-elect=false", "--v=0"); err != nil {
		return cp, err
	}
	// The controller-manager is up when it has made the default namespace's
	// service account; pods cannot be admitted before that.
	if err := cp.poll(ctx, "kube-controller-manager", func() (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		return cp, err
	}
	if err := cp.waitHTTP(ctx, "kube-scheduler", "https://127.0.0.1:"+strconv.Itoa(schedPort)+"/healthz", insecureClient()); err != nil {
		return cp, err
	}
	cp.logf("control plane %s ready (scheduler, controller-manager running)", opt.Name)
	return cp, nil
}

// Stop stops the processes (scheduler and controller-manager first, etcd
// last: an apiserver whose etcd is gone hangs) and removes the working
// folder unless Options.KeepLogs. It is safe to call twice.
func (cp *ControlPlane) Stop() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.done {
		return nil
	}
	cp.done = true
	var errs []error
	for i := len(cp.procs) - 1; i >= 0; i-- {
		pr := cp.procs[i]
		if err := stopProc(pr); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", pr.name, err))
		}
		pr.log.Close()
	}
	cp.procs = nil
	if !cp.opt.KeepLogs && cp.Dir != "" {
		if err := os.RemoveAll(cp.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	cp.logf("control plane %s stopped", cp.Name)
	return errors.Join(errs...)
}

// PIDs are the process ids of the running components.
func (cp *ControlPlane) PIDs() []int {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	var out []int
	for _, p := range cp.procs {
		out = append(out, p.cmd.Process.Pid)
	}
	return out
}

func stopProc(pr *proc) error {
	select {
	case <-pr.exit:
		return nil // already gone
	default:
	}
	_ = syscall.Kill(-pr.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-pr.exit:
		return nil
	case <-time.After(10 * time.Second):
	}
	_ = syscall.Kill(-pr.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-pr.exit:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("process %d did not exit after SIGKILL", pr.cmd.Process.Pid)
	}
}

func (cp *ControlPlane) spawn(name string, args ...string) error {
	lf, err := os.Create(filepath.Join(cp.Dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(cp.opt.BinDir, name), args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Dir = cp.Dir
	// Own process group (Stop signals the group), killed when fleetsim dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("start %s: %w", name, err)
	}
	pr := &proc{name: name, cmd: cmd, log: lf, exit: make(chan error, 1)}
	go func() { pr.exit <- cmd.Wait(); close(pr.exit) }()
	cp.mu.Lock()
	cp.procs = append(cp.procs, pr)
	cp.mu.Unlock()
	return nil
}

// exited returns an error naming the first component that has exited.
func (cp *ControlPlane) exited() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for _, pr := range cp.procs {
		select {
		case err := <-pr.exit:
			return fmt.Errorf("%s exited (%v); last log lines:\n%s", pr.name, err, tail(pr.log.Name(), 15))
		default:
		}
	}
	return nil
}

func (cp *ControlPlane) poll(ctx context.Context, what string, ok func() (bool, error)) error {
	for {
		if err := cp.exited(); err != nil {
			return err
		}
		done, err := ok()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %v: %w; log: %s", what, cp.opt.Timeout, ctx.Err(), filepath.Join(cp.Dir, what+".log"))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (cp *ControlPlane) waitHTTP(ctx context.Context, what, url string, c *http.Client) error {
	if c == nil {
		c = &http.Client{Timeout: 2 * time.Second}
	}
	return cp.poll(ctx, what, func() (bool, error) {
		resp, err := c.Get(url)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

func (cp *ControlPlane) waitReady(ctx context.Context, cs *kubernetes.Clientset) error {
	return cp.poll(ctx, "kube-apiserver", func() (bool, error) {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
}

func (cp *ControlPlane) logf(format string, args ...any) {
	if cp.opt.Log != nil {
		fmt.Fprintf(cp.opt.Log, format+"\n", args...)
	}
}

func writeKubeconfig(path, server string, p *pki) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["fleetsim"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: p.caPEM}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: p.adminCertPEM, ClientKeyData: p.adminKeyPEM}
	cfg.Contexts["fleetsim"] = &clientcmdapi.Context{Cluster: "fleetsim", AuthInfo: "admin"}
	cfg.CurrentContext = "fleetsim"
	return clientcmd.WriteToFile(*cfg, path)
}

// freePorts reserves n distinct loopback ports by listening on port 0 and
// closing the listeners together, so that no two are the same.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := splitLines(string(data))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := ""
	for _, l := range lines {
		out += "  " + l + "\n"
	}
	return out
}
