#!/usr/bin/env bash
# build-kube-node.sh builds the Kubernetes node binaries a kind node image
# needs, kubelet, kubeadm and kubectl v1.37.2 (module tools/kubenode, the
# same pins as the control plane), from the Go module proxy into
# ${FLEETSIM_KIND_DIR:-.cache/kind}/bin. Like build-controlplane.sh it
# reuses binaries built from the same go.mod/go.sum (stamp file) and prints
# what it built and how long it took.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")" # this script: part of the stamp
cd "$(dirname "$0")/.."
out=${FLEETSIM_KIND_DIR:-$(pwd)/.cache/kind}
bin=$out/bin
mkdir -p "$bin"
stamp=$(cat tools/kubenode/go.mod tools/kubenode/go.sum "$self" | sha256sum | cut -c1-16)
if [ "$(cat "$bin/.stamp" 2>/dev/null)" = "$stamp" ] && [ -x "$bin/kubelet" ] && [ -x "$bin/kubeadm" ] && [ -x "$bin/kubectl" ]; then
	echo "build-kube-node: binaries in $bin are up to date ($stamp)"
	exit 0
fi
# The binaries report their real version (kubectl version, node info),
# not the module build's v0.0.0-master.
kver=v1.37.2
ldv=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldv+=" -X $pkg.gitVersion=$kver -X $pkg.gitMajor=1 -X $pkg.gitMinor=37"
done
start=$(date +%s)
for c in kubelet kubeadm kubectl; do
	t0=$(date +%s)
	(cd tools/kubenode && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w$ldv" -o "$bin/$c.tmp" "k8s.io/kubernetes/cmd/$c")
	mv "$bin/$c.tmp" "$bin/$c"
	echo "build-kube-node: $c in $(($(date +%s) - t0))s"
done
echo "$stamp" >"$bin/.stamp"
echo "build-kube-node: built kubelet, kubeadm, kubectl v1.37.2 into $bin in $(($(date +%s) - start))s"
