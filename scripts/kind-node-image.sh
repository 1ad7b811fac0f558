#!/usr/bin/env bash
# kind-node-image.sh builds the base of a kind node image locally, with no
# image registry: a Debian rootfs made by debootstrap from the Debian mirror
# apt uses here, with systemd, containerd, runc, crictl and the CNI plugins
# (built from the Go module proxy at the versions kind v0.33.0 pins) and
# kind's node files (from the sigs.k8s.io/kind v0.33.0 module,
# images/base/files/), `docker import`-ed as fleetsim/kind-base:$BASE_VERSION.
#
# Kubernetes (kubelet, kubeadm, kubectl, /kind/version and the control-plane
# images) is NOT built here: see kubernetes_hook below and docs/kind.md.
#
# Caches under .cache/kind/ (git-ignored) and reuses them:
#   rootfs-<suite>-<key>.tar   the debootstrap rootfs (key: mirror + packages)
#   bin/<name>-<version>/      Go-built binaries
# Prints what it built and how long each part took.
#
# Needs root, Go, apt-get (for debootstrap and libseccomp-dev) and a running
# Docker engine (scripts/docker-up.sh). To boot the result, the machine must
# run privileged containers (scripts/kind-prepare.sh).
#
# Environment (defaults in brackets):
#   BASE_VERSION  image tag                         [v0.33.0-bookworm]
#   SUITE         Debian suite                      [bookworm]
#   MIRROR        Debian mirror                     [first URIs in /etc/apt/sources.list*]
#   KIND_CACHE    cache folder                      [.cache/kind]
#   KUBE_BIN_DIR  if set, kubelet/kubeadm/kubectl are copied from here (untested hook)
#   KUBE_VERSION  written to /kind/version with KUBE_BIN_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

# Versions pinned by kind v0.33.0 images/base/Dockerfile (ARG lines).
KIND_VERSION=v0.33.0
CONTAINERD_VERSION=v2.3.4
RUNC_VERSION=v1.4.3
CRICTL_VERSION=v1.36.0
CNI_PLUGINS_VERSION=v1.9.1

SUITE=${SUITE:-bookworm}
BASE_VERSION=${BASE_VERSION:-$KIND_VERSION-$SUITE}
IMAGE=fleetsim/kind-base:$BASE_VERSION
CACHE=${KIND_CACHE:-$ROOT/.cache/kind}
BIN=$CACHE/bin
mkdir -p "$CACHE" "$BIN"
GOTMP=$(mktemp -d)
trap 'rm -rf "$GOTMP"' EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "kind-node-image: run as root (debootstrap and the rootfs need it)" >&2
	exit 1
fi

log() { echo "kind-node-image: $*"; }
declare -a SUMMARY=()
# step NAME CMD...: runs CMD and records how long it took.
step() {
	local name=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	"$@"
	t1=$(date +%s.%N)
	SUMMARY+=("$(printf '%-28s %7.1f s' "$name" "$(awk -v a="$t1" -v b="$t0" 'BEGIN{print a-b}')")")
}

apt_install() {
	local missing=()
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		log "apt-get install ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

# The Debian mirror apt uses here: the first URIs: line of a deb822 source,
# else the first "deb" line of sources.list.
detect_mirror() {
	local m=""
	m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)
	if [ -z "$m" ]; then
		m=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | grep -v security | head -n1 || true)
	fi
	echo "${m:-http://deb.debian.org/debian}"
}
MIRROR=${MIRROR:-$(detect_mirror)}
PACKAGES=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' kindimage/packages.txt | tr '\n' ',' | sed 's/,$//')
KEY=$(printf '%s\n%s\n%s\n' "$SUITE" "$MIRROR" "$PACKAGES" | sha256sum | cut -c1-12)
ROOTFS_TAR=$CACHE/rootfs-$SUITE-$KEY.tar

# --- 1. host tools --------------------------------------------------------
host_tools() {
	apt_install debootstrap libseccomp-dev pkg-config
	command -v jq >/dev/null || apt_install jq
	scripts/docker-up.sh >/dev/null
}

# --- 2. the Debian rootfs (cached) -----------------------------------------
debian_rootfs() {
	if [ -s "$ROOTFS_TAR" ]; then
		log "rootfs: reusing $ROOTFS_TAR"
		return
	fi
	local dir=$CACHE/debootstrap-$KEY
	rm -rf "$dir"
	log "rootfs: debootstrap --variant=minbase $SUITE from $MIRROR with $PACKAGES"
	debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$dir" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 || {
		tail -n 30 "$CACHE/debootstrap.log" >&2
		exit 1
	}
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
	tar -C "$dir" --numeric-owner -cf "$ROOTFS_TAR.tmp" .
	mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
	rm -rf "$dir"
	log "rootfs: wrote $ROOTFS_TAR ($(du -h "$ROOTFS_TAR" | cut -f1))"
}

# --- 3. Go-built binaries (cached) -----------------------------------------
# gobuild NAME VERSION CGO TAGS PKG...: go install PKG@VERSION into bin/NAME-VERSION.
gobuild() {
	local name=$1 version=$2 cgo=$3 tags=$4 out
	shift 4
	out=$BIN/$name-$version
	if [ -f "$out/.done" ]; then
		log "$name $version: reusing $out"
		return
	fi
	rm -rf "$out"
	mkdir -p "$out"
	log "$name $version: go install $* (from the Go module proxy)"
	local pkgs=()
	for p in "$@"; do pkgs+=("$p@$version"); done
	# Run outside the repository so no go.mod/go.sum is read or touched.
	(cd "$GOTMP" && GOWORK=off GOBIN=$out CGO_ENABLED=$cgo GOFLAGS=-buildvcs=false \
		go install -trimpath -tags "$tags" -ldflags "-s -w $LDFLAGS_EXTRA" "${pkgs[@]}")
	touch "$out/.done"
}
go_binaries() {
	LDFLAGS_EXTRA="-X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
		step "containerd $CONTAINERD_VERSION" gobuild containerd "$CONTAINERD_VERSION" 0 "no_aufs no_zfs no_btrfs no_devmapper" \
		github.com/containerd/containerd/v2/cmd/containerd \
		github.com/containerd/containerd/v2/cmd/ctr \
		github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2
	# runc links libseccomp dynamically (libseccomp2 is in the rootfs).
	LDFLAGS_EXTRA="-X main.version=${RUNC_VERSION#v}" \
		step "runc $RUNC_VERSION" gobuild runc "$RUNC_VERSION" 1 "seccomp urfave_cli_no_docs" \
		github.com/opencontainers/runc
	LDFLAGS_EXTRA="-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" \
		step "crictl $CRICTL_VERSION" gobuild crictl "$CRICTL_VERSION" 0 "" \
		sigs.k8s.io/cri-tools/cmd/crictl
	LDFLAGS_EXTRA="" \
		step "cni-plugins $CNI_PLUGINS_VERSION" gobuild cni-plugins "$CNI_PLUGINS_VERSION" 0 "" \
		github.com/containernetworking/plugins/plugins/ipam/host-local \
		github.com/containernetworking/plugins/plugins/main/loopback \
		github.com/containernetworking/plugins/plugins/main/ptp \
		github.com/containernetworking/plugins/plugins/meta/portmap
}

# --- 4. kind's node files ---------------------------------------------------
KIND_FILES=""
kind_files() {
	local dir
	dir=$(cd "$GOTMP" && GOWORK=off go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | jq -r .Dir)
	KIND_FILES=$dir/images/base/files
	[ -d "$KIND_FILES" ] || {
		echo "kind-node-image: no $KIND_FILES" >&2
		exit 1
	}
	log "kind files: $KIND_FILES"
}

# --- 5. assemble the tree ---------------------------------------------------
WORK=$CACHE/work-$BASE_VERSION
assemble() {
	rm -rf "$WORK"
	mkdir -p "$WORK"
	tar -C "$WORK" --numeric-owner -xf "$ROOTFS_TAR"
	local f=$KIND_FILES r=$WORK
	# Same files and modes as the COPY lines of kind's images/base/Dockerfile.
	install -d -m 0755 "$r/kind" "$r/kind/bin" "$r/LICENSES" "$r/usr/local/bin" "$r/usr/local/sbin" \
		"$r/etc/containerd" "$r/etc/default" "$r/etc/sysctl.d" "$r/etc/systemd/system/kubelet.service.d" "$r/opt/cni/bin"
	install -m 0755 "$f"/usr/local/bin/* "$r/usr/local/bin/"
	install -m 0644 "$f"/kind/README.txt "$r/kind/"
	install -m 0755 "$f"/kind/bin/* "$r/kind/bin/"
	install -m 0644 "$f"/LICENSES/* "$r/LICENSES/"
	install -m 0644 "$f"/etc/crictl.yaml "$r/etc/"
	install -m 0644 "$f"/etc/containerd/* "$r/etc/containerd/"
	install -m 0644 "$f"/etc/default/* "$r/etc/default/"
	install -m 0644 "$f"/etc/sysctl.d/* "$r/etc/sysctl.d/"
	find "$f/etc/systemd/system" -maxdepth 1 -type f -exec install -m 0644 {} "$r/etc/systemd/system/" \;
	install -m 0644 "$f"/etc/systemd/system/kubelet.service.d/* "$r/etc/systemd/system/kubelet.service.d/"
	# The clean-up of kind's "Installing Packages" RUN step.
	find "$r/lib/systemd/system/sysinit.target.wants/" -name "systemd-tmpfiles-setup.service" -delete
	rm -f "$r"/lib/systemd/system/multi-user.target.wants/* "$r"/etc/systemd/system/*.wants/* \
		"$r"/lib/systemd/system/local-fs.target.wants/* "$r"/lib/systemd/system/sockets.target.wants/*udev* \
		"$r"/lib/systemd/system/sockets.target.wants/*initctl* "$r"/lib/systemd/system/basic.target.wants/*
	echo "ReadKMsg=no" >>"$r/etc/systemd/journald.conf"
	ln -sfn /usr/lib/systemd/systemd "$r/sbin/init"
	# Binaries, at the paths kind's image uses.
	install -m 0755 "$BIN/containerd-$CONTAINERD_VERSION"/{containerd,ctr,containerd-shim-runc-v2} "$r/usr/local/bin/"
	install -m 0755 "$BIN/runc-$RUNC_VERSION/runc" "$r/usr/local/sbin/runc"
	install -m 0755 "$BIN/crictl-$CRICTL_VERSION/crictl" "$r/usr/local/bin/"
	install -m 0755 "$BIN/cni-plugins-$CNI_PLUGINS_VERSION"/{host-local,loopback,ptp,portmap} "$r/opt/cni/bin/"
	# kind's base_runtime_spec: `ctr oci spec` plus its product-files hook, no rlimits.
	"$BIN/containerd-$CONTAINERD_VERSION/ctr" oci spec |
		jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
		jq 'del(.process.rlimits)' >"$r/etc/containerd/cri-base.json"
	# kind enables kubelet (it has ConditionPathExists=/var/lib/kubelet/config.yaml,
	# so it stays inactive until kubeadm writes that), containerd and undo-mount-hacks.
	systemctl --root="$r" enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
	systemctl --root="$r" mask systemd-binfmt.service >/dev/null 2>&1
	mkdir -p "$r/etc/kubernetes/manifests"
	kubernetes_hook "$r"
	cat >"$r/kind/fleetsim-base.txt" <<TXT
fleetsim kind base $BASE_VERSION
debian $SUITE from $MIRROR (rootfs key $KEY)
kind node files sigs.k8s.io/kind $KIND_VERSION images/base/files
containerd $CONTAINERD_VERSION, runc $RUNC_VERSION, crictl $CRICTL_VERSION, cni-plugins $CNI_PLUGINS_VERSION (Go module proxy)
TXT
}

# kubernetes_hook ROOT: where the Kubernetes part of a kind node image goes.
# TODO(kind-kubernetes): build kubelet, kubeadm, kubectl v1.37.2 from the same
# module as scripts/build-controlplane.sh (tools/controlplane/kube), install
# them in ROOT/usr/bin, write ROOT/kind/version (e.g. v1.37.2), set
# failCgroupV1: false for kubelet on cgroup-v1 hosts, and import the
# control-plane images (kube-apiserver, kube-controller-manager,
# kube-scheduler, kube-proxy, etcd, coredns, pause) into ROOT/kind/images as
# OCI tarballs. Until then only KUBE_BIN_DIR is honoured (untested).
kubernetes_hook() {
	local r=$1
	if [ -z "${KUBE_BIN_DIR:-}" ]; then
		log "kubernetes: skipped (TODO(kind-kubernetes) in kubernetes_hook; set KUBE_BIN_DIR)"
		return
	fi
	for b in kubelet kubeadm kubectl; do
		install -m 0755 "$KUBE_BIN_DIR/$b" "$r/usr/bin/$b"
	done
	echo "${KUBE_VERSION:?KUBE_VERSION must be set with KUBE_BIN_DIR}" >"$r/kind/version"
	log "kubernetes: installed kubelet, kubeadm, kubectl from $KUBE_BIN_DIR ($KUBE_VERSION)"
}

# --- 6. docker import -------------------------------------------------------
import_image() {
	# ENV, STOPSIGNAL and ENTRYPOINT as at the end of kind's Dockerfile.
	# Docker 20.10's `import --change` refuses STOPSIGNAL, so it is added by a
	# one-line build on the imported image (FROM a local image: no pull).
	local ctx old
	ctx=$(mktemp -d)
	old=$(docker image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
	tar -C "$WORK" --numeric-owner -c . | docker import \
		--change 'ENV container=docker' \
		--change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
		- "$IMAGE-import" >/dev/null
	printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$IMAGE-import" >"$ctx/Dockerfile"
	if ! DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" "$ctx" >"$ctx/build.log" 2>&1; then
		cat "$ctx/build.log" >&2
		exit 1
	fi
	docker rmi "$IMAGE-import" >/dev/null
	# Drop the image this build replaced, if nothing else names it (docker
	# refuses to remove an image that is still tagged or used).
	if [ -n "$old" ] && [ "$old" != "$(docker image inspect --format '{{.Id}}' "$IMAGE")" ]; then
		docker rmi "$old" >/dev/null 2>&1 || true
	fi
	rm -rf "$ctx" "$WORK"
}

t_start=$(date +%s.%N)
step "host tools" host_tools
step "debian rootfs" debian_rootfs
go_binaries
step "kind node files" kind_files
step "assemble tree" assemble
step "docker import" import_image
t_end=$(date +%s.%N)

log "built $IMAGE ($(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
log "  rootfs:     $ROOTFS_TAR"
log "  containerd $CONTAINERD_VERSION, runc $RUNC_VERSION, crictl $CRICTL_VERSION, cni-plugins $CNI_PLUGINS_VERSION"
log "  kind files: sigs.k8s.io/kind $KIND_VERSION images/base/files"
log "timings:"
for s in "${SUMMARY[@]}"; do log "  $s"; done
log "  $(printf '%-28s %7.1f s' total "$(awk -v a="$t_end" -v b="$t_start" 'BEGIN{print a-b}')")"
