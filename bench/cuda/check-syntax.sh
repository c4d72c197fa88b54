#!/usr/bin/env bash
# check-syntax.sh: type-checks variants.cu (host and device code) with g++
# where nvcc is missing: launches lose their <<<...>>>, dynamic shared memory
# becomes hostsim's buffer, CUDA runtime calls are host_shim.h's
# declarations. Writes the old_*.cu files first when missing (make-old.sh
# $OLD_KERNELS, default 36fbf5f). It cannot check what
# only nvcc knows (launch syntax, __launch_bounds__ limits).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ ! -f "$here/old_bias_act.cu" ] || [ ! -f "$here/old_upfirdn2d.cu" ]; then
  "$here/make-old.sh" "${OLD_KERNELS:-36fbf5f}" >/dev/null
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bench/cuda" "$tmp/kernels/cuda/kernels"
cp "$root/kernels/cuda/hostsim/csrc/runtime.h" "$here/host_shim.h" "$tmp/"
for f in "$root"/kernels/cuda/kernels/*.cu "$here"/*.cu "$here"/*.cuh; do
  rel="${f#"$root"/}"
  sed -E 's/<<<[^;]*>>>//g; s/extern __shared__ float ([a-z_0-9]+)\[\];/float* \1 = (float*)sim::dynamic_shared;/' "$f" >"$tmp/$rel"
done
(echo '#include "../../host_shim.h"'; cat "$tmp/bench/cuda/variants.cu") >"$tmp/bench/cuda/v.cpp"
g++ -std=c++17 -fsyntax-only -w -I"$tmp" "$tmp/bench/cuda/v.cpp"
echo "variants.cu: g++ syntax check passed"
