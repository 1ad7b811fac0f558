#!/usr/bin/env bash
# cluster-test.sh creates a kind cluster from fleetsim's local node image
# (scripts/kind-node-image.sh) and checks that it works as a Kubernetes
# cluster, with no registry:
#   1. `kind create cluster` succeeds and every node is Ready;
#   2. kube-proxy (DaemonSet) and CoreDNS (Deployment) roll out;
#   3. a Deployment of the locally loaded fleetsim image
#      (`kind load docker-image`) running `fleetsim emulate` rolls out, with
#      a Service in front;
#   4. from every node: each emulator pod answers GET /v1/models with 200
#      (pod routes, also across nodes), the Service's ClusterIP answers 200
#      ten times in a row (kube-proxy), and CoreDNS (10.96.0.10) resolves
#      fleetsim-emulate.default.svc.cluster.local to that ClusterIP as read
#      from the API server.
# It prints each step's time and deletes the cluster at the end (KEEP=1
# keeps it). Exit status 0 only if all checks pass; it skips with status 0
# and a "SKIP" line when no Docker engine answers or the images are missing.
#
# Usage: kindimage/cluster-test.sh [CONFIG]   (default kindimage/kind-config-3nodes.yaml)
# Environment (defaults in brackets):
#   NAME        cluster name                       [fleetsim-ctest]
#   NODE_IMAGE  node image                         [fleetsim/kind-node:v1.37.2]
#   APP_IMAGE   image with /fleetsim               [fleetsim:local] (scripts/build-image.sh)
#   REPLICAS    emulator pods                      [4]
#   KIND        kind command                       [kind on PATH, else $(go env GOPATH)/bin/kind]
#   KUBECTL     kubectl command                    [kubectl on PATH, else .cache/kind/bin/kubectl]
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-kindimage/kind-config-3nodes.yaml}
NAME=${NAME:-fleetsim-ctest}
NODE_IMAGE=${NODE_IMAGE:-fleetsim/kind-node:v1.37.2}
APP_IMAGE=${APP_IMAGE:-fleetsim:local}
REPLICAS=${REPLICAS:-4}
KIND=${KIND:-$(command -v kind || echo "$(go env GOPATH)/bin/kind")}
KUBECTL=${KUBECTL:-$(command -v kubectl || echo .cache/kind/bin/kubectl)}
# The address kubeadm gives the cluster DNS Service: the tenth address of
# the default Service range 10.96.0.0/12 (kubeadm's DefaultServicesSubnet).
DNS_IP=10.96.0.10

if ! docker info >/dev/null 2>&1; then
	echo "SKIP: no Docker engine answers (run scripts/docker-up.sh)"
	exit 0
fi
for img in "$NODE_IMAGE" "$APP_IMAGE"; do
	if ! docker image inspect "$img" >/dev/null 2>&1; then
		echo "SKIP: no image $img (scripts/kind-node-image.sh, scripts/build-image.sh)"
		exit 0
	fi
done
[ -x "$KIND" ] || { echo "FAIL: no kind at $KIND (go install sigs.k8s.io/kind@v0.33.0)" >&2; exit 1; }

cleanup() {
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept cluster $NAME (kind delete cluster --name $NAME)"
	else
		"$KIND" delete cluster --name "$NAME" >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN{printf "%.1f s", a-b}'; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
k() { "$KUBECTL" --context "kind-$NAME" "$@"; }

# dns_a NODE NAME: the IPv4 address in CoreDNS's answer to an A query for
# NAME, sent from NODE with bash's /dev/udp (the node has no dig); empty if
# no answer or an error. The query is built by hand: header id 0x1234, RD,
# one question. It goes through dd so that it leaves in one datagram (bash's
# printf flushes at a 0x0a byte, a label of length 10).
dns_a() {
	local node=$1 qname=$2 q="" label labels
	IFS=. read -r -a labels <<<"$qname"
	for label in "${labels[@]}"; do q+=$(printf '\\x%02x%s' "${#label}" "$label"); done
	docker exec "$node" bash -c "exec 3<>/dev/udp/$DNS_IP/53
printf '\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00${q}\\x00\\x00\\x01\\x00\\x01' |
	dd bs=512 count=1 iflag=fullblock 2>/dev/null >&3
timeout 3 dd bs=512 count=1 <&3 2>/dev/null | od -An -tu1" |
		tr -s ' \n' ' ' | awk '{ if ($4 % 16 == 0 && $7 + $8 > 0) print $(NF-3) "." $(NF-2) "." $(NF-1) "." $NF }'
}

"$KIND" delete cluster --name "$NAME" >/dev/null 2>&1 || true
t0=$(now)
"$KIND" create cluster --name "$NAME" --image "$NODE_IMAGE" --config "$CONFIG" --wait 3m >/tmp/"$NAME".create.log 2>&1 ||
	{ tail -n 30 /tmp/"$NAME".create.log >&2; fail "kind create cluster (log /tmp/$NAME.create.log)"; }
echo "kind create cluster: ok ($(since "$t0"))"

k wait --for=condition=Ready node --all --timeout=120s >/dev/null || fail "nodes not Ready: $(k get nodes --no-headers)"
mapfile -t NODES < <(k get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
echo "nodes Ready: ${NODES[*]} ($(since "$t0"))"

t1=$(now)
k -n kube-system rollout status daemonset/kube-proxy --timeout=120s >/dev/null || fail "kube-proxy did not roll out"
k -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null || fail "coredns did not roll out"
echo "kube-proxy and coredns rolled out ($(since "$t1"))"

t1=$(now)
"$KIND" load docker-image "$APP_IMAGE" --name "$NAME" >/dev/null 2>&1
k create deployment fleetsim-emulate --image="$APP_IMAGE" --replicas="$REPLICAS" --port=8000 -- \
	/fleetsim emulate --gpu h100 --model llama-3.1-8b --listen 0.0.0.0:8000 >/dev/null
k expose deployment fleetsim-emulate --port=80 --target-port=8000 >/dev/null
k rollout status deployment/fleetsim-emulate --timeout=120s >/dev/null || fail "fleetsim-emulate did not roll out: $(k get pods --no-headers)"
echo "kind load + $REPLICAS emulator pods Ready ($(since "$t1"))"

mapfile -t PODS < <(k get pods -l app=fleetsim-emulate -o jsonpath='{range .items[*]}{.status.podIP} {.spec.nodeName}{"\n"}{end}')
SVC=$(k get service fleetsim-emulate -o jsonpath='{.spec.clusterIP}')
# kube-proxy programs a new Service asynchronously; give it a few seconds.
for _ in $(seq 1 20); do
	docker exec "${NODES[0]}" curl -s -m 2 -o /dev/null "http://$SVC/v1/models" && break
	sleep 0.5
done
for node in "${NODES[@]}"; do
	for p in "${PODS[@]}"; do
		ip=${p% *}
		code=$(docker exec "$node" curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$ip:8000/v1/models" || true)
		[ "$code" = 200 ] || fail "$node -> pod $ip on ${p#* }: got HTTP $code, want 200"
	done
	for _ in $(seq 1 10); do
		code=$(docker exec "$node" curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$SVC/v1/models" || true)
		[ "$code" = 200 ] || fail "$node -> Service $SVC: got HTTP $code, want 200"
	done
	got=$(dns_a "$node" fleetsim-emulate.default.svc.cluster.local)
	[ "$got" = "$SVC" ] || fail "$node: DNS fleetsim-emulate.default.svc.cluster.local = '$got', want $SVC"
	echo "$node: ${#PODS[@]} pods 200, Service $SVC 10x 200, DNS -> $got"
done
echo "PASS: kind cluster $NAME from $NODE_IMAGE (${#NODES[@]} nodes) in $(since "$t0")"
