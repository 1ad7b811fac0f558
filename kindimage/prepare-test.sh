#!/usr/bin/env bash
# prepare-test.sh checks scripts/kind-prepare.sh:
#   1. the daemon.json merge (kind-prepare.sh --merge), with no Docker needed:
#      other keys and runtimes are kept, the runtime is added and made the
#      default, a second merge changes nothing, and a file whose
#      default-runtime is another runtime is refused;
#   2. when a Docker engine answers: kind-prepare.sh succeeds, a second run
#      reports "nothing to change", and `docker run --privileged` works.
# Exit status 0 only if every check passes.
set -euo pipefail
cd "$(dirname "$0")/.."
P=scripts/kind-prepare.sh
W=${WRAPPER:-/usr/local/bin/runc-fleetsim-wrapper}
fails=0
check() { # check NAME GOT WANT
	if [ "$2" = "$3" ]; then
		echo "ok   $1"
	else
		echo "FAIL $1: got $2, want $3"
		fails=$((fails + 1))
	fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Expected outputs are written by hand from the rule "keep every key, add
# runtimes.fleetsim-runc.path = wrapper, set default-runtime".
echo '{}' >"$tmp/empty.json"
check "empty file" "$($P --merge "$tmp/empty.json" | jq -cS .)" \
	"{\"default-runtime\":\"fleetsim-runc\",\"runtimes\":{\"fleetsim-runc\":{\"path\":\"$W\"}}}"

echo '{"log-level":"warn","data-root":"/srv/docker","runtimes":{"crun":{"path":"/usr/bin/crun"}}}' >"$tmp/other.json"
check "other keys kept" "$($P --merge "$tmp/other.json" | jq -cS .)" \
	"{\"data-root\":\"/srv/docker\",\"default-runtime\":\"fleetsim-runc\",\"log-level\":\"warn\",\"runtimes\":{\"crun\":{\"path\":\"/usr/bin/crun\"},\"fleetsim-runc\":{\"path\":\"$W\"}}}"

$P --merge "$tmp/other.json" >"$tmp/once.json"
check "second merge is a no-op" "$($P --merge "$tmp/once.json" | jq -cS .)" "$(jq -cS . "$tmp/once.json")"

echo '{"default-runtime":"nvidia","runtimes":{"nvidia":{"path":"nvidia-container-runtime"}}}' >"$tmp/nvidia.json"
if $P --merge "$tmp/nvidia.json" >/dev/null 2>&1; then rc=0; else rc=1; fi
check "other default runtime refused" "$rc" 1

if docker info >/dev/null 2>&1; then
	check "first run" "$($P >/dev/null 2>&1 && echo 0 || echo $?)" 0
	check "second run changes nothing" "$($P 2>&1 | grep -c 'nothing to change')" 1
	check "docker run --privileged" "$(docker run --rm --privileged fleetsim/privtest:local >/dev/null 2>&1 && echo 0 || echo 1)" 0
else
	echo "skip Docker checks: no Docker engine answers"
fi
if [ "$fails" != 0 ]; then
	echo "FAIL: $fails check(s)"
	exit 1
fi
echo PASS
