#!/usr/bin/env bash
# kind-prepare.sh makes this machine able to run kind node containers
# (`docker run --privileged`). Safe to run twice.
#
# 1. Ensures a Docker engine runs (scripts/docker-up.sh).
# 2. Builds a tiny FROM-scratch test image, fleetsim/privtest:local, from a
#    static Go program (no registry is needed).
# 3. If `docker run --rm --privileged fleetsim/privtest:local` already works,
#    it changes nothing and exits: a machine where Docker runs normally is
#    never touched.
# 4. Otherwise (seen on Firecracker VMs whose capability bounding set lacks
#    CAP_SYS_RESOURCE: "unable to apply caps: operation not permitted") it
#    builds tools/runcwrap, installs it as /usr/local/bin/runc-fleetsim-wrapper,
#    merges {"runtimes": {"fleetsim-runc": ...}, "default-runtime":
#    "fleetsim-runc"} into /etc/docker/daemon.json (other keys are kept; the
#    old file is saved as daemon.json.fleetsim-bak), restarts dockerd the way
#    scripts/docker-up.sh starts it, and checks `docker run --privileged`
#    again.
#
# Needs root (or sudo), Go, and apt-get when Docker is missing.
# Environment: WRAPPER (install path), DROP_CAPS (default CAP_SYS_RESOURCE).
# `kind-prepare.sh --merge FILE` prints the daemon.json it would write for
# FILE and exits without touching anything.
set -euo pipefail
cd "$(dirname "$0")/.."

WRAPPER=${WRAPPER:-/usr/local/bin/runc-fleetsim-wrapper}
DROP_CAPS=${DROP_CAPS:-CAP_SYS_RESOURCE}
RUNTIME_NAME=fleetsim-runc
TEST_IMAGE=fleetsim/privtest:local
DAEMON_JSON=/etc/docker/daemon.json
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

log() { echo "kind-prepare: $*"; }

# Merge the runtime into daemon.json without touching other keys.
# It refuses a file whose default-runtime is another runtime than runc (an
# nvidia runtime, say): wrapping that one is not what this script does.
merge_daemon_json() {
	local in=$1 out=$2 def
	def=$(jq -r '."default-runtime" // ""' "$in" 2>/dev/null ||
		python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("default-runtime",""))' "$in")
	case "$def" in
	"" | runc | "$RUNTIME_NAME") ;;
	*)
		log "$in sets default-runtime \"$def\"; not replacing it (wrap that runtime by hand)" >&2
		return 1
		;;
	esac
	if command -v jq >/dev/null 2>&1; then
		jq --arg name "$RUNTIME_NAME" --arg path "$WRAPPER" \
			'.runtimes = ((.runtimes // {}) + {($name): {path: $path}}) | ."default-runtime" = $name' \
			"$in" >"$out"
	elif command -v python3 >/dev/null 2>&1; then
		python3 - "$in" "$out" "$RUNTIME_NAME" "$WRAPPER" <<'PY'
import json, sys
src, dst, name, path = sys.argv[1:5]
with open(src) as f:
    doc = json.load(f)
doc.setdefault("runtimes", {})[name] = {"path": path}
doc["default-runtime"] = name
with open(dst, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
PY
	else
		log "need jq or python3 to edit $DAEMON_JSON" >&2
		return 1
	fi
}

# --merge FILE: print FILE merged as daemon.json would be, change nothing
# (used by kindimage/prepare-test.sh).
if [ "${1:-}" = "--merge" ]; then
	merge_daemon_json "${2:?usage: kind-prepare.sh --merge FILE}" /dev/stdout
	exit
fi

scripts/docker-up.sh

# The test image: a static program that exits 0, FROM scratch.
build_test_image() {
	if docker image inspect "$TEST_IMAGE" >/dev/null 2>&1; then
		return
	fi
	local ctx
	ctx=$(mktemp -d)
	cat >"$ctx/main.go" <<'GO'
// Command true exits 0; it is the whole of the fleetsim/privtest image.
package main

func main() {}
GO
	printf 'module privtest\n\ngo 1.22\n' >"$ctx/go.mod"
	(cd "$ctx" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o true .)
	printf 'FROM scratch\nCOPY true /true\nENTRYPOINT ["/true"]\n' >"$ctx/Dockerfile"
	# The legacy builder needs nothing from a registry for FROM scratch; its
	# deprecation notice goes to stderr and is dropped unless the build fails.
	if ! DOCKER_BUILDKIT=0 docker build -q -t "$TEST_IMAGE" "$ctx" >"$ctx/build.log" 2>&1; then
		cat "$ctx/build.log" >&2
		rm -rf "$ctx"
		return 1
	fi
	rm -rf "$ctx"
	log "built test image $TEST_IMAGE"
}

privileged_works() {
	docker run --rm --privileged "$TEST_IMAGE" >/dev/null 2>"${1:-/dev/null}"
}

build_test_image
if privileged_works; then
	log "docker run --privileged already works; nothing to change"
	exit 0
fi
errf=$(mktemp)
privileged_works "$errf" || true
log "docker run --privileged fails: $(tr '\n' ' ' <"$errf")"
rm -f "$errf"

# The real runc the wrapper calls: the one dockerd uses now.
real_runc=$(command -v runc || true)
if [ -z "$real_runc" ]; then
	log "no runc on PATH; cannot install the wrapper" >&2
	exit 1
fi
real_runc=$(readlink -f "$real_runc")
if [ "$real_runc" = "$(readlink -f "$WRAPPER" 2>/dev/null || true)" ]; then
	log "runc on PATH is the wrapper itself; set PATH so the real runc comes first" >&2
	exit 1
fi

tmpbin=$(mktemp)
(cd tools/runcwrap && CGO_ENABLED=0 go build -trimpath \
	-ldflags="-s -w -X main.realRunc=$real_runc -X main.dropCaps=$DROP_CAPS" -o "$tmpbin" .)
if ! cmp -s "$tmpbin" "$WRAPPER" 2>/dev/null; then
	$SUDO install -m 0755 "$tmpbin" "$WRAPPER"
	log "installed $WRAPPER (real runc: $real_runc, drops: $DROP_CAPS)"
else
	log "$WRAPPER is up to date (real runc: $real_runc, drops: $DROP_CAPS)"
fi
rm -f "$tmpbin"

cur=$(mktemp)
new=$(mktemp)
if [ -s "$DAEMON_JSON" ]; then
	cat "$DAEMON_JSON" >"$cur"
else
	echo '{}' >"$cur"
fi
merge_daemon_json "$cur" "$new"
changed=0
if ! cmp -s <(jq -S . "$cur" 2>/dev/null || cat "$cur") <(jq -S . "$new" 2>/dev/null || cat "$new"); then
	$SUDO mkdir -p "$(dirname "$DAEMON_JSON")"
	if [ -e "$DAEMON_JSON" ] && [ ! -e "$DAEMON_JSON.fleetsim-bak" ]; then
		$SUDO cp -p "$DAEMON_JSON" "$DAEMON_JSON.fleetsim-bak"
	fi
	$SUDO install -m 0644 "$new" "$DAEMON_JSON"
	changed=1
	log "wrote $DAEMON_JSON: runtime $RUNTIME_NAME -> $WRAPPER, default-runtime $RUNTIME_NAME"
fi
rm -f "$cur" "$new"

current_default=$(docker info --format '{{.DefaultRuntime}}' 2>/dev/null || true)
if [ "$changed" = 1 ] || [ "$current_default" != "$RUNTIME_NAME" ]; then
	# Restart dockerd the way docker-up.sh starts it (no init system here).
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker 2>/dev/null; then
		log "restarting docker.service"
		$SUDO systemctl restart docker
	else
		pid=$(pgrep -x dockerd || true)
		if [ -n "$pid" ]; then
			log "stopping dockerd (pid $pid)"
			$SUDO kill -TERM "$pid"
			i=0
			while kill -0 "$pid" 2>/dev/null; do
				i=$((i + 1))
				if [ "$i" -ge 60 ]; then
					log "dockerd (pid $pid) did not stop within 60 s" >&2
					exit 1
				fi
				sleep 1
			done
		fi
	fi
	scripts/docker-up.sh
fi

if ! docker info --format '{{.DefaultRuntime}}' | grep -qx "$RUNTIME_NAME"; then
	log "dockerd did not take $RUNTIME_NAME as default runtime; see /var/log/fleetsim-dockerd.log" >&2
	exit 1
fi
errf=$(mktemp)
if ! privileged_works "$errf"; then
	log "docker run --privileged still fails: $(cat "$errf")" >&2
	rm -f "$errf"
	exit 1
fi
rm -f "$errf"
log "docker run --privileged works (default runtime $RUNTIME_NAME)"
