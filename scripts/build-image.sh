#!/usr/bin/env bash
# Builds the fleetsim image (FROM scratch, no registry pull) as
# ${IMAGE:-fleetsim:local}: a static binary and the Dockerfile in a
# temporary build context. Needs Go and a running Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
start=$(date +%s)
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$ctx/fleetsim" ./cmd/fleetsim
cp Dockerfile "$ctx/"
old=$(docker image inspect --format '{{.Id}}' "${IMAGE:-fleetsim:local}" 2>/dev/null || true)
docker build -t "${IMAGE:-fleetsim:local}" "$ctx"
# The image this build replaced, now untagged: remove it unless a container
# still uses it, so that repeated builds (each CI run) do not pile up.
if [ -n "$old" ] && [ "$old" != "$(docker image inspect --format '{{.Id}}' "${IMAGE:-fleetsim:local}")" ]; then
	docker rmi "$old" >/dev/null 2>&1 || true
fi
echo "built ${IMAGE:-fleetsim:local} in $(( $(date +%s) - start ))s"
