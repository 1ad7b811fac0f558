#!/usr/bin/env bash
# kind-node-image.sh builds a kind node image locally, with no image
# registry, in two parts:
#
# 1. the base, fleetsim/kind-base:$BASE_VERSION: a Debian rootfs made by
#    debootstrap from the Debian mirror apt uses here, with systemd,
#    containerd, runc, crictl and the CNI plugins (built from the Go module
#    proxy at the versions kind v0.33.0 pins) and kind's node files (from the
#    sigs.k8s.io/kind v0.33.0 module, images/base/files/), `docker import`-ed;
# 2. the Kubernetes layer, fleetsim/kind-node:$KUBE_VERSION, made the way
#    kind's node image builder does it (run the base, add files, preload
#    images into containerd, `docker commit`): kubelet, kubeadm, kubectl in
#    /usr/bin, /kind/version, a static CNI config service
#    (kindimage/node/) and the images kubeadm needs, built FROM scratch from
#    local static binaries and tagged as kubeadm names them: kube-apiserver,
#    kube-controller-manager, kube-scheduler, etcd, kube-proxy (with nft),
#    coredns and pause (kindimage/pause/).
#
# Create a cluster with it: kind create cluster --image fleetsim/kind-node:v1.37.2
# --config kindimage/kind-config.yaml (see docs/kind.md).
#
# Caches under .cache/kind/ (git-ignored) and reuses them:
#   rootfs-<suite>-<key>.tar   the debootstrap rootfs (key: mirror + packages)
#   bin/<name>-<version>/      Go-built binaries (also kube-proxy and coredns)
#   images-<version>.tar       the `docker save` of the control-plane images
# Does nothing when Docker has a node image built from the same inputs (its
# label io.fleetsim.inputs; see "up to date?" below). Prints what it built
# and how long each part took.
#
# Needs root, Go, apt-get (for debootstrap and libseccomp-dev) and a running
# Docker engine (scripts/docker-up.sh). To boot the result, the machine must
# run privileged containers (scripts/kind-prepare.sh). The Kubernetes layer
# needs kubelet, kubeadm, kubectl (scripts/build-kube-node.sh) and the
# control-plane binaries (scripts/build-controlplane.sh).
#
# Environment (defaults in brackets):
#   BASE_VERSION  base image tag                    [v0.33.0-bookworm]
#   SUITE         Debian suite                      [bookworm]
#   MIRROR        Debian mirror                     [first URIs in /etc/apt/sources.list*]
#   KIND_CACHE    cache folder                      [.cache/kind]
#   KUBE_LAYER    1: also build the node image; 0: base only  [1]
#   KUBE_VERSION  Kubernetes version                [v1.37.2]
#   KUBE_BIN_DIR  kubelet, kubeadm, kubectl         [.cache/kind/bin]
#   CP_BIN_DIR    kube-apiserver, kube-controller-manager, kube-scheduler, etcd
#                                                   [.cache/controlplane/bin]
#   NODE_IMAGE    node image tag                    [fleetsim/kind-node:$KUBE_VERSION]
#   FORCE         1: build even if the node image is up to date  [0]
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
trap 'rm -rf "$GOTMP"; if [ -n "${BUILD_CTR:-}" ]; then docker rm -f -v "$BUILD_CTR" >/dev/null 2>&1 || true; fi' EXIT

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
	cat >"$r/kind/fleetsim-base.txt" <<TXT
fleetsim kind base $BASE_VERSION
debian $SUITE from $MIRROR (rootfs key $KEY)
kind node files sigs.k8s.io/kind $KIND_VERSION images/base/files
containerd $CONTAINERD_VERSION, runc $RUNC_VERSION, crictl $CRICTL_VERSION, cni-plugins $CNI_PLUGINS_VERSION (Go module proxy)
TXT
}

# --- 6. docker import
OLD_BASE=""  # the replaced base image, if an older node image still used it -------------------------------------------------------
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
		docker rmi "$old" >/dev/null 2>&1 || OLD_BASE=$old
	fi
	rm -rf "$ctx" "$WORK"
}

# --- 7. Kubernetes layer: control-plane images (FROM scratch) ----------------
# kind's node image builder (sigs.k8s.io/kind v0.33.0 pkg/build/nodeimage)
# puts kubelet, kubeadm and kubectl in /usr/bin, writes /kind/version and
# imports the images `kubeadm config images list` names into containerd's
# k8s.io namespace (ctr images import --no-unpack), then commits the build
# container. The same is done here with local binaries and images built
# FROM scratch, since no registry is reachable.
KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
KUBE_BIN_DIR_SET=${KUBE_BIN_DIR:-}${CP_BIN_DIR:-}
KUBE_BIN_DIR=${KUBE_BIN_DIR:-$ROOT/.cache/kind/bin}
CP_BIN_DIR=${CP_BIN_DIR:-$ROOT/.cache/controlplane/bin}
NODE_IMAGE=${NODE_IMAGE:-fleetsim/kind-node:$KUBE_VERSION}
KUBE_LAYER=${KUBE_LAYER:-1}
IMAGES_TAR=$CACHE/images-$KUBE_VERSION.tar
declare -a KUBE_IMAGES=()

# image_ref NAME: the image kubeadm expects for NAME (kube-apiserver, etcd, pause, ...).
image_ref() {
	"$KUBE_BIN_DIR/kubeadm" config images list --kubernetes-version "$KUBE_VERSION" 2>/dev/null |
		grep -E "/$1:" | head -n1
}

# drop_replaced OLD_ID TAG: removes image OLD_ID if TAG now names another
# image and nothing else names OLD_ID (docker refuses otherwise).
drop_replaced() {
	if [ -n "$1" ] && [ "$1" != "$(docker image inspect --format '{{.Id}}' "$2")" ]; then
		docker rmi "$1" >/dev/null 2>&1 || true
	fi
}

# scratch_image BINARY PATH TAG...: a FROM scratch image holding the static
# BINARY at PATH (also its entrypoint), an empty /tmp and a PATH variable,
# tagged with every TAG. If SCRATCH_ROOT names a folder, its tree is copied
# to / first. Legacy builder: nothing is pulled.
scratch_image() {
	local bin=$1 dest=$2 ctx t
	shift 2
	ctx=$(mktemp -d)
	mkdir "$ctx/tmp" "$ctx/root"
	ln "$bin" "$ctx/bin" 2>/dev/null || cp "$bin" "$ctx/bin"
	echo 'FROM scratch' >"$ctx/Dockerfile"
	# (An empty COPY makes Docker 20.10's legacy builder fail with "failed
	# to get layer ...: layer does not exist", so root is copied only if set.)
	if [ -n "${SCRATCH_ROOT:-}" ]; then
		cp -a "$SCRATCH_ROOT/." "$ctx/root/"
		echo 'COPY root /' >>"$ctx/Dockerfile"
	fi
	printf 'COPY bin %s\nCOPY tmp /tmp\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nENTRYPOINT ["%s"]\n' \
		"$dest" "$dest" >>"$ctx/Dockerfile"
	local tags=() old
	for t in "$@"; do tags+=(-t "$t"); done
	old=$(docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true)
	if ! DOCKER_BUILDKIT=0 docker build -q "${tags[@]}" "$ctx" >"$ctx/build.log" 2>&1; then
		cat "$ctx/build.log" >&2
		rm -rf "$ctx"
		exit 1
	fi
	rm -rf "$ctx"
	drop_replaced "$old" "$1"
	KUBE_IMAGES+=("$@")
	log "image $* <- $bin"
}

# kube-proxy is not in tools/kubenode's tools.go, so its go.sum lacks a few
# modules (knftables, netlink, ipvs). It is built from a copy of that module
# in the cache with -mod=mod, which adds the missing go.sum lines there and
# leaves tools/kubenode untouched.
build_kube_proxy() {
	local out=$BIN/kube-proxy-$KUBE_VERSION mod=$CACHE/kube-proxy-mod
	if [ -f "$out/.done" ]; then
		log "kube-proxy $KUBE_VERSION: reusing $out"
		return
	fi
	rm -rf "$out" "$mod"
	mkdir -p "$out" "$mod"
	cp tools/kubenode/go.mod tools/kubenode/go.sum "$mod/"
	log "kube-proxy $KUBE_VERSION: go build k8s.io/kubernetes/cmd/kube-proxy (module tools/kubenode, copied)"
	# The version variables upstream's hack/lib/version.sh sets; without them
	# the binary reports v0.0.0-master+$Format:%H$.
	local major minor x=""
	major=${KUBE_VERSION#v}
	major=${major%%.*}
	minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		x+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
	done
	(cd "$mod" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w$x" \
		-o "$out/kube-proxy" k8s.io/kubernetes/cmd/kube-proxy)
	touch "$out/.done"
}

# kube_binaries: kube-proxy and CoreDNS (at the version kubeadm names).
COREDNS_VERSION=""
kube_binaries() {
	COREDNS_VERSION=$(image_ref coredns | sed 's/.*://')
	step "kube-proxy $KUBE_VERSION" build_kube_proxy
	LDFLAGS_EXTRA="" step "coredns $COREDNS_VERSION" gobuild coredns "$COREDNS_VERSION" 0 "" github.com/coredns/coredns
}

kube_images() {
	local c ref sandbox
	for c in kube-apiserver kube-controller-manager kube-scheduler etcd; do
		[ -x "$CP_BIN_DIR/$c" ] || {
			echo "kind-node-image: no $CP_BIN_DIR/$c (run scripts/build-controlplane.sh)" >&2
			exit 1
		}
		ref=$(image_ref "$c")
		[ -n "$ref" ] || {
			echo "kind-node-image: kubeadm lists no image for $c" >&2
			exit 1
		}
		scratch_image "$CP_BIN_DIR/$c" "/usr/local/bin/$c" "$ref"
	done
	# kube-proxy (nftables mode, see kindimage/kind-config.yaml): the static
	# binary plus the nft command and its shared libraries from the base
	# image, which is all kube-proxy's nftables mode runs.
	local proot
	proot=$(mktemp -d)
	docker run --rm --entrypoint bash "$IMAGE" -c \
		'tar -chf - /usr/sbin/nft $(ldd /usr/sbin/nft | grep -o "/[^ ]*") 2>/dev/null' |
		tar -C "$proot" -xf -
	SCRATCH_ROOT=$proot scratch_image "$BIN/kube-proxy-$KUBE_VERSION/kube-proxy" /usr/local/bin/kube-proxy "$(image_ref kube-proxy)"
	rm -rf "$proot"
	# CoreDNS at the version kubeadm names, entrypoint /coredns as upstream.
	scratch_image "$BIN/coredns-$COREDNS_VERSION/coredns" /coredns "$(image_ref coredns)"
	# pause: kubeadm's tag and the sandbox_image of kind's containerd config
	# (which is what containerd actually runs).
	local pctx
	pctx=$(mktemp -d)
	(cd kindimage/pause && GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$pctx/pause" .)
	sandbox=$(sed -n 's/^[[:space:]]*sandbox_image[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' "$KIND_FILES/etc/containerd/config.toml" | head -n1)
	ref=$(image_ref pause)
	if [ -n "$sandbox" ] && [ "$sandbox" != "$ref" ]; then
		scratch_image "$pctx/pause" /pause "$ref" "$sandbox"
	else
		scratch_image "$pctx/pause" /pause "$ref"
	fi
	rm -rf "$pctx"
	docker save -o "$IMAGES_TAR.tmp" "${KUBE_IMAGES[@]}"
	mv "$IMAGES_TAR.tmp" "$IMAGES_TAR"
	log "saved ${#KUBE_IMAGES[@]} tags to $IMAGES_TAR ($(du -h "$IMAGES_TAR" | cut -f1))"
}

# --- 8. Kubernetes layer: the node image -----------------------------------
BUILD_CTR=""
node_layer() {
	local id=fleetsim-kind-build-$$ b
	BUILD_CTR=$id
	docker run -d --name "$id" --entrypoint=sleep --security-opt seccomp=unconfined "$IMAGE" infinity >/dev/null
	for b in kubelet kubeadm kubectl; do
		[ -x "$KUBE_BIN_DIR/$b" ] || {
			echo "kind-node-image: no $KUBE_BIN_DIR/$b (run scripts/build-kube-node.sh)" >&2
			exit 1
		}
		docker cp "$KUBE_BIN_DIR/$b" "$id:/usr/bin/$b"
	done
	docker exec "$id" sh -c 'chown root:root /usr/bin/kubelet /usr/bin/kubeadm /usr/bin/kubectl &&
		chmod 0755 /usr/bin/kubelet /usr/bin/kubeadm /usr/bin/kubectl'
	docker exec "$id" sh -c "echo '$KUBE_VERSION' >/kind/version"
	printf 'fleetsim kind node %s on %s\nimages (FROM scratch, local binaries): %s\n' \
		"$KUBE_VERSION" "$IMAGE" "${KUBE_IMAGES[*]}" | docker exec -i "$id" sh -c 'cat >/kind/fleetsim-node.txt'
	# Static pod network in place of kindnetd (see kindimage/node/).
	docker cp kindimage/node/fleetsim-cni.sh "$id:/kind/bin/fleetsim-cni.sh"
	docker cp kindimage/node/fleetsim-cni.service "$id:/etc/systemd/system/fleetsim-cni.service"
	docker exec "$id" sh -c 'chown root:root /kind/bin/fleetsim-cni.sh /etc/systemd/system/fleetsim-cni.service &&
		chmod 0755 /kind/bin/fleetsim-cni.sh && chmod 0644 /etc/systemd/system/fleetsim-cni.service &&
		mkdir -p /etc/systemd/system/multi-user.target.wants &&
		ln -sfn /etc/systemd/system/fleetsim-cni.service /etc/systemd/system/multi-user.target.wants/fleetsim-cni.service'
	# No process on this VM holds CAP_SYS_RESOURCE, so none may lower its
	# oom_score_adj below 0, and runc fails to start a sandbox (kubelet asks
	# for -998) with "nsexec: failed to update /proc/self/oom_score_adj:
	# Permission denied". containerd's restrict_oom_score_adj (which kind's
	# entrypoint turns on for rootless nodes) clamps the value to
	# containerd's own instead.
	docker exec "$id" sed -i 's/^\([[:space:]]*restrict_oom_score_adj[[:space:]]*=[[:space:]]*\)false/\1true/' \
		/etc/containerd/config.toml
	docker exec "$id" grep -q '^[[:space:]]*restrict_oom_score_adj[[:space:]]*=[[:space:]]*true' /etc/containerd/config.toml || {
		echo "kind-node-image: could not set restrict_oom_score_adj = true in /etc/containerd/config.toml" >&2
		exit 1
	}
	# Preload the images as kind's builder does (containerdImporter).
	docker exec "$id" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
	for _ in $(seq 1 50); do
		docker exec "$id" test -S /run/containerd/containerd.sock && break
		sleep 0.2
	done
	docker exec "$id" ctr info >/dev/null
	docker exec -i "$id" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned \
		--all-platforms --no-unpack --digests - <"$IMAGES_TAR" >/dev/null
	log "containerd k8s.io images in the node:"
	docker exec "$id" ctr --namespace=k8s.io images list -q | grep -v '@sha256:' | sed 's/^/kind-node-image:   /'
	docker exec "$id" pkill containerd
	for _ in $(seq 1 50); do
		docker exec "$id" pgrep -x containerd >/dev/null || break
		sleep 0.2
	done
	docker exec "$id" rm -f /tmp/containerd.log
	local old
	old=$(docker image inspect --format '{{.Id}}' "$NODE_IMAGE" 2>/dev/null || true)
	docker commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'CMD []' \
		--change "LABEL $INPUTS_LABEL=$INPUTS" "$id" "$NODE_IMAGE" >/dev/null
	drop_replaced "$old" "$NODE_IMAGE"
	# The base the replaced node image was built on, now unused.
	if [ -n "$OLD_BASE" ]; then
		docker rmi "$OLD_BASE" >/dev/null 2>&1 || true
	fi
	docker rm -f -v "$id" >/dev/null
	BUILD_CTR=""
}

# --- 0. up to date? -------------------------------------------------------
# The node image is labelled with a hash of what it is built from: this
# script, the scripts and Go modules of the binaries, kindimage/, the
# pinned versions, the Debian mirror and packages, and the Go version. When
# Docker already has a node image with the same hash, nothing is built
# (FORCE=1 builds anyway; so does a KUBE_BIN_DIR or CP_BIN_DIR of your own,
# whose binaries the hash cannot vouch for). CI starts each run from a fresh
# clone with an empty .cache/ but the same Docker engine: this keeps it from
# rebuilding the image, and from needing the Debian mirror, every run.
inputs_hash() {
	{
		echo "$KIND_VERSION $CONTAINERD_VERSION $RUNC_VERSION $CRICTL_VERSION $CNI_PLUGINS_VERSION"
		echo "$SUITE $MIRROR $PACKAGES $BASE_VERSION $KUBE_VERSION $NODE_IMAGE"
		go version
		find scripts/kind-node-image.sh scripts/build-kube-node.sh scripts/build-controlplane.sh \
			kindimage tools/kubenode tools/controlplane -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
	} | sha256sum | cut -c1-16
}
INPUTS=$(inputs_hash)
INPUTS_LABEL=io.fleetsim.inputs
if [ "$KUBE_LAYER" = 1 ] && [ "${FORCE:-0}" != 1 ] && [ -z "${KUBE_BIN_DIR_SET:-}" ] &&
	[ "$(docker image inspect --format "{{index .Config.Labels \"$INPUTS_LABEL\"}}" "$NODE_IMAGE" 2>/dev/null || true)" = "$INPUTS" ] &&
	docker image inspect "$IMAGE" >/dev/null 2>&1; then
	log "$NODE_IMAGE is up to date (inputs $INPUTS); nothing to build (FORCE=1 rebuilds)"
	exit 0
fi

t_start=$(date +%s.%N)
step "host tools" host_tools
step "debian rootfs" debian_rootfs
go_binaries
step "kind node files" kind_files
step "assemble tree" assemble
step "docker import" import_image
if [ "$KUBE_LAYER" = 1 ]; then
	kube_binaries
	step "control-plane images" kube_images
	step "node layer" node_layer
fi
t_end=$(date +%s.%N)

log "built $IMAGE ($(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
log "  rootfs:     $ROOTFS_TAR"
log "  containerd $CONTAINERD_VERSION, runc $RUNC_VERSION, crictl $CRICTL_VERSION, cni-plugins $CNI_PLUGINS_VERSION"
log "  kind files: sigs.k8s.io/kind $KIND_VERSION images/base/files"
if [ "$KUBE_LAYER" = 1 ]; then
	log "built $NODE_IMAGE ($(docker image inspect --format '{{.Size}}' "$NODE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')): Kubernetes $KUBE_VERSION, images: ${KUBE_IMAGES[*]}"
fi
log "timings:"
for s in "${SUMMARY[@]}"; do log "  $s"; done
log "  $(printf '%-28s %7.1f s' total "$(awk -v a="$t_end" -v b="$t_start" 'BEGIN{print a-b}')")"
