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
docker build -t "${IMAGE:-fleetsim:local}" "$ctx"
echo "built ${IMAGE:-fleetsim:local} in $(( $(date +%s) - start ))s"
