#!/usr/bin/env bash
# install-nvcc.sh [PREFIX]: unpacks Debian's CUDA 11.8 compiler (nvcc, ptxas,
# cuobjdump, nvdisasm) into PREFIX (default ~/.cache/lafite/nvcc-11.8) on a
# machine without a GPU, and prints the PATH line to use it.
#
# Why: the kernels' SASS (registers, spills, local memory, the instruction mix
# of a main loop) can be read without a card: e.g.
#   nvcc -ccbin g++-12 -allow-unsupported-compiler -std=c++17 -cubin -arch=sm_90 \
#        -O3 -Xptxas -v -o /tmp/k.cubin kernels/cuda/kernels/upfirdn2d.cu
#   cuobjdump -sass -fun upfirdn2d_up2_f4_f32 /tmp/k.cubin
# and bench/cuda/variants.cu can be compiled before a GPU session.
#
# apt cannot install nvidia-cuda-toolkit here (it depends on the driver's
# libcuda1), so the packages are downloaded and unpacked, not installed. They
# are in Debian's non-free component: add it first, e.g. as .ci/run does.
set -euo pipefail
prefix="${1:-$HOME/.cache/lafite/nvcc-11.8}"
if [ -x "$prefix/bin/nvcc" ]; then
  echo "export PATH=$prefix/bin:\$PATH"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 777 "$work" # apt downloads as its own user
(cd "$work" && apt-get download nvidia-cuda-toolkit nvidia-cuda-dev libcudart11.0 >/dev/null)
mkdir -p "$prefix"
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$prefix/root"; done
tk="$prefix/root/usr/lib/nvidia-cuda-toolkit"
# nvcc reads nvcc.profile beside itself; Debian's is a link to /etc with
# absolute paths, so write one relative to this tree.
rm -f "$tk/bin/nvcc.profile"
cat >"$tk/bin/nvcc.profile" <<'EOF'
TOP = $(_HERE_)/../../../..
NVVMIR_LIBRARY_DIR = $(TOP)/usr/lib/nvidia-cuda-toolkit/libdevice
PATH += $(_HERE_):$(TOP)/usr/bin:
INCLUDES += "-I$(TOP)/usr/include" $(_SPACE_)
LIBRARIES =+ $(_SPACE_) "-L$(TOP)/usr/lib/x86_64-linux-gnu/stubs" "-L$(TOP)/usr/lib/x86_64-linux-gnu"
EOF
mkdir -p "$prefix/bin"
# nvcc 11.8 accepts g++ up to 11; newer ones work with the flags below.
host="$(command -v g++-11 || command -v g++-12 || command -v g++)"
cat >"$prefix/bin/nvcc" <<EOF
#!/bin/sh
exec "$tk/bin/nvcc" -ccbin "$host" -allow-unsupported-compiler "\$@"
EOF
chmod +x "$prefix/bin/nvcc"
for tool in ptxas cuobjdump nvdisasm fatbinary nvlink cu++filt; do
  ln -sf "$prefix/root/usr/bin/$tool" "$prefix/bin/$tool"
done
"$prefix/bin/nvcc" --version | tail -1 >&2
echo "export PATH=$prefix/bin:\$PATH"
