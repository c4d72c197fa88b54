#!/bin/sh
# Installs NVRTC from Debian's non-free component so that CI can compile every
# embedded CUDA kernel (TestKernelsCompileNVRTC) without a GPU or a CUDA toolkit.
# Idempotent; run as root on Debian 12 (bookworm).
set -eu

if ldconfig -p 2>/dev/null | grep -q 'libnvrtc\.so'; then
	echo "install-nvrtc: NVRTC already installed:"
	ldconfig -p | grep 'libnvrtc\.so'
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
list=/etc/apt/sources.list.d/non-free.list
if [ ! -f "$list" ]; then
	# Mirror and suites follow the stock bookworm configuration. apt refuses two
	# entries for one source with different Signed-By values, so copy the key
	# option when the stock configuration sets one.
	opt=""
	key=/usr/share/keyrings/debian-archive-keyring.gpg
	if grep -qs "Signed-By: *$key" /etc/apt/sources.list.d/debian.sources; then
		opt="[signed-by=$key] "
	fi
	cat >"$list" <<LIST
deb ${opt}http://deb.debian.org/debian bookworm non-free
deb ${opt}http://deb.debian.org/debian bookworm-updates non-free
LIST
fi
apt-get update
apt-get install -y --no-install-recommends libnvrtc11.2
ldconfig -p | grep 'libnvrtc\.so'
