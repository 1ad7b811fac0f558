#!/usr/bin/env bash
# gen-replace.sh VERSION prints the replace block the Kubernetes tool
# modules (tools/controlplane/kube, tools/kubenode) need for
# k8s.io/kubernetes VERSION: each staging module its go.mod replaces with
# ./staging/src/... is mapped to its published v0.MINOR.PATCH instead
# (the staging folders are not in the module zip). sample-cli-plugin and
# sample-controller have no published versions and are not needed.
set -euo pipefail
v=${1:?usage: gen-replace.sh v1.37.2}
mod=$(go mod download -json "k8s.io/kubernetes@$v" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
staging="v0.${v#v1.}"
echo "replace ("
grep -E '^\s*k8s.io/[^ ]+ => ./staging' "$mod" | awk '{print $1}' |
	grep -v -E 'sample-cli-plugin|sample-controller' | sort |
	while read -r m; do printf '\t%s => %s %s\n' "$m" "$m" "$staging"; done
echo ")"
