// Package controlplane starts a real Kubernetes control plane as local
// processes on loopback: etcd, kube-apiserver, kube-scheduler and
// kube-controller-manager, built from source by scripts/build-controlplane.sh
// (Kubernetes v1.37.2, etcd v3.7.3). It generates the certificates (a CA,
// the apiserver's serving certificate, an admin client certificate and the
// service-account key), picks free ports, waits until the apiserver is ready
// and the controller-manager has made the default service account, and
// stops everything again (etcd last), removing its working folder.
//
// Start returns a ControlPlane whose RESTConfig and Kubeconfig reach the
// apiserver as cluster admin. The processes run in their own process group
// and are killed if fleetsim dies (Linux parent-death signal), so an
// interrupted run leaves no process behind. Their logs are files in the
// working folder until Stop removes it (KeepLogs keeps them).
package controlplane
