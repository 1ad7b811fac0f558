#!/bin/bash
# fleetsim-cni.sh writes the static pod network of a fleetsim kind node, in
# place of kindnetd (which cannot be pulled here). Run at boot by
# fleetsim-cni.service, before kubelet.
#
# Each node takes the pod range POD_PREFIX.<n>.0/24, where n is the last
# octet of its eth0 IPv4 address on the kind Docker network (so node
# 172.18.0.3 gets 10.244.3.0/24), and routes every other /24 of that form
# to the node address with the same last octet. Pods get addresses from
# host-local over ptp veths; portmap serves hostPort.
# Limits: the kind network must be a /24 or the last octets of the nodes
# must differ; POD_PREFIX must match networking.podSubnet (default
# 10.244.0.0/16 in kindimage/kind-config.yaml).
set -euo pipefail
POD_PREFIX=${POD_PREFIX:-10.244}
CONF=/etc/cni/net.d/10-fleetsim-ptp.conflist

cidr=$(ip -4 -o addr show dev eth0 | awk '{print $4}' | head -n1)
if [ -z "$cidr" ]; then
	echo "fleetsim-cni: eth0 has no IPv4 address" >&2
	exit 1
fi
addr=${cidr%/*}
n=${addr##*.}
net3=${addr%.*}

mkdir -p /etc/cni/net.d
cat >"$CONF.tmp" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "fleetsim",
  "plugins": [
    {
      "type": "ptp",
      "ipMasq": true,
      "mtu": 1500,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_PREFIX.$n.0/24"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
mv "$CONF.tmp" "$CONF"

# Routes to the pod ranges of the other nodes on the same /24 (not via
# this node or the Docker gateway, the host).
gw=$(ip -4 route show default | awk '{print $3; exit}')
for i in $(seq 1 254); do
	[ "$i" = "$n" ] && continue
	[ "$net3.$i" = "$gw" ] && continue
	ip route replace "$POD_PREFIX.$i.0/24" via "$net3.$i" dev eth0 2>/dev/null || true
done
echo "fleetsim-cni: node $addr, pods $POD_PREFIX.$n.0/24, wrote $CONF"
