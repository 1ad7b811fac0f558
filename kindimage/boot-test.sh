#!/usr/bin/env bash
# boot-test.sh boots a fleetsim kind base image the way kind v0.33.0 starts a
# node container (pkg/cluster/internal/providers/docker/provision.go:
# --privileged, seccomp and apparmor unconfined, tmpfs /tmp and /run, an
# anonymous /var volume, /lib/modules read-only, --cgroupns=private,
# --init=false, --tty) and checks that
#   1. systemd (PID 1) reaches "running" (`systemctl is-system-running`),
#   2. containerd answers `ctr version` and its CRI plugin answers
#      `crictl version`,
#   3. nested runc works: the FROM-scratch image fleetsim/privtest:local
#      (built by scripts/kind-prepare.sh) is imported into the node's
#      containerd and run with `ctr run`.
# It prints each step's time and removes the container at the end
# (KEEP=1 keeps it). Exit status 0 only if all checks pass; it skips with
# status 0 and a "SKIP" line when no Docker engine answers.
#
# Usage: kindimage/boot-test.sh [IMAGE]   (default fleetsim/kind-base:v0.33.0-bookworm)
# Environment: TIMEOUT (seconds to wait for systemd, default 120).
set -euo pipefail
IMAGE=${1:-fleetsim/kind-base:v0.33.0-bookworm}
NAME=fleetsim-kind-boot-$$
TIMEOUT=${TIMEOUT:-120}

if ! docker info >/dev/null 2>&1; then
	echo "SKIP: no Docker engine answers (run scripts/docker-up.sh)"
	exit 0
fi
cleanup() {
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept container $NAME"
	else
		docker rm -f "$NAME" >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN{printf "%.1f s", a-b}'; }
fail() {
	echo "FAIL: $*" >&2
	echo "--- docker logs $NAME (last 40 lines)" >&2
	docker logs "$NAME" 2>&1 | tail -n 40 >&2 || true
	exit 1
}

args=(--detach --tty --name "$NAME" --hostname kind-boot
	--privileged
	--security-opt seccomp=unconfined --security-opt apparmor=unconfined
	--tmpfs /tmp --tmpfs /run --volume /var
	--init=false --cgroupns=private)
if [ -d /lib/modules ]; then
	args+=(--volume /lib/modules:/lib/modules:ro)
fi
echo "+ docker run ${args[*]} $IMAGE"
t0=$(now)
docker run "${args[@]}" "$IMAGE" >/dev/null || fail "docker run"

state=""
deadline=$(($(date +%s) + TIMEOUT))
while [ "$(date +%s)" -lt "$deadline" ]; do
	state=$(docker exec "$NAME" systemctl is-system-running 2>/dev/null || true)
	case "$state" in
	running | degraded) break ;;
	esac
	sleep 0.5
done
echo "systemd: is-system-running=$state after $(since "$t0")"
if [ "$state" != running ]; then
	docker exec "$NAME" systemctl --failed --no-pager >&2 || true
	fail "systemd state is '$state', want running"
fi
echo "PID 1: $(docker exec "$NAME" cat /proc/1/comm)"

t1=$(now)
ok=0
for _ in $(seq 1 60); do
	if docker exec "$NAME" ctr version >/tmp/$NAME.ctr 2>&1; then
		ok=1
		break
	fi
	sleep 0.5
done
[ "$ok" = 1 ] || fail "ctr version: $(cat /tmp/$NAME.ctr)"
echo "+ ctr version   ($(since "$t1"))"
cat /tmp/$NAME.ctr
rm -f /tmp/$NAME.ctr
echo "+ crictl version"
docker exec "$NAME" crictl version || fail "crictl version"

if docker image inspect fleetsim/privtest:local >/dev/null 2>&1; then
	t2=$(now)
	docker save fleetsim/privtest:local | docker exec -i "$NAME" ctr -n fleetsim images import - >/dev/null ||
		fail "ctr images import"
	echo "+ ctr run --rm docker.io/fleetsim/privtest:local nested /true"
	docker exec "$NAME" ctr -n fleetsim run --rm docker.io/fleetsim/privtest:local nested /true ||
		fail "nested ctr run"
	echo "nested runc: ok ($(since "$t2"))"
else
	echo "nested runc: not checked (no fleetsim/privtest:local; run scripts/kind-prepare.sh)"
fi
echo "PASS: $IMAGE boots (systemd running, containerd answers) in $(since "$t0")"
