#!/usr/bin/env bash
# make-old.sh REV [UPFIRDN_REV]: writes old_bias_act.cu and old_upfirdn2d.cu,
# the engine's kernel files as of git revision REV (upfirdn2d.cu as of
# UPFIRDN_REV if given) with their entry points renamed old_*, for variants.cu
# to time the engine's earlier versions beside its current ones. (36fbf5f
# holds the versions that first ran on a GPU; ac572f0 the first row-streaming
# upfirdn2d kernels, timed on an H100.)
set -euo pipefail
rev="${1:?usage: make-old.sh REV [UPFIRDN_REV]}"
uf_rev="${2:-$rev}"
here="$(cd "$(dirname "$0")" && pwd)"
git -C "$here" show "$rev:kernels/cuda/kernels/bias_act.cu" | sed 's/\bbias_act_f32\b/old_bias_act_f32/' >"$here/old_bias_act.cu"
(echo "#define OLD_UPFIRDN_REV \"$uf_rev\""
 git -C "$here" show "$uf_rev:kernels/cuda/kernels/upfirdn2d.cu" | sed 's/\bupfirdn2d_\([a-z0-9_]*f32\)\b/old_upfirdn2d_\1/g') >"$here/old_upfirdn2d.cu"
echo "wrote $here/old_bias_act.cu ($rev) and $here/old_upfirdn2d.cu ($uf_rev)"
