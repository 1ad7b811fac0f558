#!/usr/bin/env bash
# build-controlplane.sh builds the local Kubernetes control plane that
# `fleetsim validate-plan` starts: kube-apiserver, kube-scheduler and
# kube-controller-manager v1.37.2 (module tools/controlplane/kube) and etcd
# v3.7.3 (module tools/controlplane/etcd), from the Go module proxy, into
# ${FLEETSIM_CONTROLPLANE_DIR:-.cache/controlplane}/bin. It reuses the
# binaries when they were built from the same go.mod/go.sum (a stamp file
# holds their hash), so a second run takes a second; a cold build takes
# about 25 minutes on 2 cores (docs/validate-plan.md), a warm Go build cache
# about 30 s. Prints what it built and how long it took.
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")" # this script: part of the stamp
cd "$(dirname "$0")/.."
root=$(pwd)
out=${FLEETSIM_CONTROLPLANE_DIR:-$root/.cache/controlplane}
bin=$out/bin
mkdir -p "$bin"
stamp=$(cat tools/controlplane/kube/go.mod tools/controlplane/kube/go.sum \
	tools/controlplane/etcd/go.mod tools/controlplane/etcd/go.sum tools/controlplane/etcd/main.go "$self" | sha256sum | cut -c1-16)
have=""
[ -f "$bin/.stamp" ] && have=$(cat "$bin/.stamp")
if [ "$have" = "$stamp" ] && [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kube-scheduler" ] &&
	[ -x "$bin/kube-controller-manager" ] && [ -x "$bin/etcd" ]; then
	echo "build-controlplane: binaries in $bin are up to date ($stamp)"
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
build() { # module dir, package, output name
	local t0=$(date +%s)
	(cd "$1" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w$ldv" -o "$bin/$3.tmp" "$2")
	mv "$bin/$3.tmp" "$bin/$3"
	echo "build-controlplane: $3 in $(($(date +%s) - t0))s"
}
build tools/controlplane/etcd . etcd
build tools/controlplane/kube k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver
build tools/controlplane/kube k8s.io/kubernetes/cmd/kube-scheduler kube-scheduler
build tools/controlplane/kube k8s.io/kubernetes/cmd/kube-controller-manager kube-controller-manager
echo "$stamp" >"$bin/.stamp"
echo "build-controlplane: built etcd v3.7.3 and Kubernetes v1.37.2 into $bin in $(($(date +%s) - start))s"
