#!/bin/sh
# docker-up.sh makes a Docker engine available for the tests that build and
# run the fleetsim image (sweep: TestImageRunsJobShards). If `docker info`
# already works it does nothing, so it never touches a machine where Docker
# runs normally; otherwise it installs the Debian packages docker.io,
# containerd and runc when missing and starts dockerd in the background
# (log: /var/log/fleetsim-dockerd.log). Safe to run twice. Needs root and
# apt-get. No image registry is needed: the image is FROM scratch.
set -eu

if docker info >/dev/null 2>&1; then
	echo "docker-up: a Docker engine is already running; nothing to do"
	exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
if ! command -v dockerd >/dev/null 2>&1; then
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "docker-up: no dockerd and no apt-get; install Docker with your package manager" >&2
		exit 1
	fi
	echo "docker-up: installing the Debian packages docker.io containerd runc"
	$SUDO apt-get update
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends docker.io containerd runc
fi
if ! pgrep -x dockerd >/dev/null 2>&1; then
	echo "docker-up: starting dockerd"
	# In a session of its own, so that it outlives the shell (or CI step) that
	# started it.
	$SUDO sh -c 'setsid nohup dockerd >/var/log/fleetsim-dockerd.log 2>&1 </dev/null &'
fi
i=0
until docker info >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -ge 60 ]; then
		echo "docker-up: dockerd did not answer within 60 s; see /var/log/fleetsim-dockerd.log" >&2
		exit 1
	fi
	sleep 1
done
echo "docker-up: $(docker version --format 'Docker engine {{.Server.Version}}') is running"
