#!/bin/sh
# install-browser.sh installs headless Chromium for the report browser test
# (reports: TestBrowserHTML). It installs the Debian package `chromium` only
# when no Chromium is on PATH, so running it twice is safe. Needs root and
# apt-get (Debian or Ubuntu); prints what it did.
set -eu

for b in chromium chromium-browser google-chrome google-chrome-stable; do
	if p=$(command -v "$b" 2>/dev/null); then
		echo "install-browser: $b already installed at $p; nothing to do"
		"$p" --version 2>/dev/null || true
		exit 0
	fi
done

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-browser: no chromium on PATH and no apt-get; install Chromium with your package manager" >&2
	exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

echo "install-browser: no chromium on PATH; installing the Debian package chromium"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
echo "install-browser: installed $(command -v chromium)"
chromium --version 2>/dev/null || true
