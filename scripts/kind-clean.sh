#!/bin/sh
# kind-clean.sh removes the kind clusters that fleetsim runs left behind:
# every node container whose kind cluster name starts with "fleetsim-"
# (label io.x-k8s.kind.cluster), and their kubeconfigs in $TMPDIR (or /tmp).
# validate-plan --backend kind deletes its clusters itself, also on Ctrl-C;
# only a run that was killed (or kept with --keep) leaves one. Such leftovers
# take the CPU of the next kind test, so .ci/run removes them under CI=true.
# Other kind clusters and other containers are never touched.
#
#   scripts/kind-clean.sh            remove them
#   scripts/kind-clean.sh --list     only name them (exit 0 either way)
set -eu

list=0
case "${1:-}" in
--list) list=1 ;;
"") ;;
*)
	echo "usage: scripts/kind-clean.sh [--list]" >&2
	exit 2
	;;
esac
if ! docker info >/dev/null 2>&1; then
	echo "kind-clean: no Docker engine; nothing to clean"
	exit 0
fi
# name<TAB>cluster for each kind node container of a fleetsim-* cluster.
nodes=$(docker ps -a --filter label=io.x-k8s.kind.cluster \
	--format '{{.Names}}	{{.Label "io.x-k8s.kind.cluster"}}' | awk -F '\t' '$2 ~ /^fleetsim-/')
if [ -z "$nodes" ]; then
	echo "kind-clean: no fleetsim kind clusters left"
	exit 0
fi
clusters=$(printf '%s\n' "$nodes" | cut -f2 | sort -u | tr '\n' ' ')
if [ "$list" -eq 1 ]; then
	echo "kind-clean: fleetsim kind clusters left from earlier runs: $clusters(scripts/kind-clean.sh removes them)" >&2
	exit 0
fi
echo "kind-clean: removing fleetsim kind clusters $clusters"
printf '%s\n' "$nodes" | cut -f1 | xargs docker rm -f -v >/dev/null
for c in $clusters; do
	rm -f "${TMPDIR:-/tmp}/$c.kubeconfig"
done
