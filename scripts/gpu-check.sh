#!/usr/bin/env bash
# The GPU check of lafite @COMMIT@ (template: scripts/gpu-check.sh; `make
# gpu-check` writes it to .gpu/run.sh next to the static binaries it runs).
#
# Needs a machine with an NVIDIA GPU, its driver and NVRTC (CUDA toolkit, the
# nvidia-cuda-nvrtc wheel of a PyTorch install, or LAFITE_NVRTC=/path); no Go.
# Runs, each step under a time limit (15 s; 30 s a probe and a kernel test,
# each in a process of its own; 100+40+80 s; all take seconds on a card unless
# one hangs) so the whole check stays near 5 minutes:
#   1. lafite doctor               what the engine sees
#   1b. probes                     the paths no card had run when they were
#                                  written (the 16-k and 64x64 GEMM tiles,
#                                  tensor-core GEMMs, Winograd,
#                                  row-streaming upfirdn2d, multi-tensor Adam,
#                                  split-K, the phase kernel of strided input
#                                  gradients), each alone in a process: one
#                                  that fails is switched off for the rest
#                                  of the check (LAFITE_CUDA_TENSOR_CORES=0,
#                                  ...), which then fails but still measures
#                                  everything else
#   2. cuda.test -run ^TestGPU...  every kernel against float64 references,
#                                  one test a process
#   3. gpucheck.test conformance   every op, and the Lafite G and D, on the GPU
#                                  vs the host: forward, gradient, gradient of
#                                  gradient, outputs poisoned with NaN
#   4. lafite.test training        the first three steps of a fixed-seed
#                                  Lafite run (R1 and path length included) on
#                                  the GPU vs the host: same losses, no host
#                                  fallback, one download per step, no device
#                                  allocation after the first, no autotuned
#                                  candidate with a wrong result
#   5. gpucheck.test timing        CUDA-event medians vs the measured FMA peak
#                                  and copy bandwidth
#   6. optional benchmarks         LAFITE_GPU_BENCH=1: `lafite bench --device
#                                  cuda` (the bench/ workloads, CUDA-event
#                                  medians); LAFITE_GPU_BENCH=torch: the same
#                                  against PyTorch (compare_torch_gpu.py, needs
#                                  python3 with CUDA torch; ROUNDS=n, default 1).
#                                  LAFITE_GPU_BENCH_ONLY=a,b runs only those.
#                                  Runs in what is left of the 5 minutes (at
#                                  least 30 s), or LAFITE_GPU_BENCH_LIMIT=<s>.
#   7. optional profile            LAFITE_GPU_PROFILE=workload (default
#                                  lafite_train_step_64_b16 when set to 1):
#                                  `lafite bench --profile`, the GPU time per
#                                  kernel of one run (a whole cycle), top 15
#                                  printed, all in $LOGS/profile.log; then
#                                  `lafite bench --trace` of it: the host
#                                  side's time per run on this CPU.
#   8. optional kernel variants    LAFITE_GPU_VARIANTS=1 and nvcc on the PATH:
#                                  builds src/bench/cuda/variants.cu (candidate
#                                  kernels against the engine's, with the
#                                  engine's sources beside it) and runs it.
# and prints a short summary table last. Full logs: $LOGS (default
# <this folder>/logs). Exit status 0 only when every step passed.
# Autotuning is on (each shape's variants timed once, the fastest kept; the
# choices are in the bench JSON); LAFITE_CUDA_AUTOTUNE=0 turns it off.
# LAFITE_CUDA_WINOGRAD=0 keeps 3x3 stride-1 convs on the direct kernels (=2:
# Winograd F(2x2,3x3)), LAFITE_CUDA_UPFIRDN=tiled the 4x4 upfirdn2d cases on
# the shared-memory tile kernels, LAFITE_CUDA_GEMM=bk8, bk16 or t64 the GEMMs
# on that kernel (8- or 16-k stage 128x128 tile, 64x64 tile): A/B runs of the
# benchmarks.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
LOGS="${LOGS:-$here/logs}"
mkdir -p "$LOGS"
export LAFITE_KERNEL_CACHE="${LAFITE_KERNEL_CACHE:-$here/kernel-cache}"
start=$(date +%s)
status=0

elapsed() { echo $(( $(date +%s) - $1 ))s; }
# skipped LOG: the reason of the first skipped test in a verbose test log.
skipped() { grep -m1 -B1 -E '^--- SKIP' "$1" | head -1 | sed -E 's/^\s*\S+_test\.go:[0-9]+: //'; }

echo "== lafite gpu-check @COMMIT@: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname) =="

# 1. doctor
t=$(date +%s)
timeout 15 "$here/lafite" doctor | tee "$LOGS/doctor.log"
gpu_name=$(sed -n 's/^gpu 0: *\([^,]*\),.*/\1/p' "$LOGS/doctor.log" | head -1)
if grep -q '^GPU ready' "$LOGS/doctor.log"; then
  doctor_result="GPU ready: ${gpu_name}"
else
  doctor_result="NO GPU: $(tail -1 "$LOGS/doctor.log")"
  status=1
fi
doctor_time=$(elapsed "$t")

# 1b. probes: the paths written without a card (gpucheck/probe_test.go),
# each alone in a process of its own, so that a kernel fault (which leaves a
# CUDA context unusable, and autotuning tries every candidate) costs only
# that path: a probe that fails turns its path off, by its switch, for every
# later step, and fails the check.
t=$(date +%s)
probes_ok=0
probes_off=""
probes_skipped=""
probe() {
  local name=$1 switch=$2 log="$LOGS/probe-$1.log"
  timeout 30 "$here/gpucheck.test" -test.run "^TestGPUProbe\$/^${name}\$" -test.v -test.timeout 28s >"$log" 2>&1
  local rc=$?
  if [ $rc -eq 0 ] && grep -q -- "--- PASS: TestGPUProbe/${name} " "$log"; then
    probes_ok=$((probes_ok + 1))
  elif [ $rc -eq 0 ] && grep -q -- "--- SKIP: TestGPUProbe/${name} " "$log"; then
    probes_skipped="$probes_skipped $name"
  else
    export "$switch"
    probes_off="$probes_off $name ($switch)"
    status=1
    echo "probe $name FAILED (exit $rc): $switch for the rest of the check"
    grep -E '^gpu FAIL|panic|error' "$log" | head -5
  fi
}
if grep -q '^GPU ready' "$LOGS/doctor.log"; then
  probe gemm-tiles LAFITE_CUDA_GEMM=bk8
  probe tensor-cores LAFITE_CUDA_TENSOR_CORES=0
  probe skinny-gemm LAFITE_CUDA_SKINNY_GEMM=0
  probe winograd LAFITE_CUDA_WINOGRAD=0
  probe upfirdn-streaming LAFITE_CUDA_UPFIRDN=tiled
  probe multi-tensor LAFITE_CUDA_MULTI_TENSOR=0
  probe split-k LAFITE_CUDA_SPLITK=0
  probe phase-dgrad LAFITE_CUDA_PHASE_DGRAD=0
  probe_result="$probes_ok passed"
  [ -n "$probes_skipped" ] && probe_result="$probe_result; nothing to probe:$probes_skipped"
  [ -n "$probes_off" ] && probe_result="$probe_result; FAILED, switched off:$probes_off"
else
  probe_result="skipped: no GPU (see doctor)"
fi
probe_time=$(elapsed "$t")

# 2. kernel tests, each in a process of its own (a kernel fault leaves the
# CUDA context unusable: it would fail every test after it); one that dies
# without a verdict (a fault, a hang) counts as failed.
t=$(date +%s)
: >"$LOGS/cuda.log"
rc=0
kdied=0
for name in $("$here/cuda.test" -test.list '^TestGPU' 2>/dev/null | grep '^TestGPU'); do
  timeout 30 "$here/cuda.test" -test.run "^${name}\$" -test.v -test.timeout 28s >"$LOGS/cuda-one.log" 2>&1
  one=$?
  cat "$LOGS/cuda-one.log" >>"$LOGS/cuda.log"
  if ! grep -q -E "^--- (PASS|FAIL|SKIP): ${name} " "$LOGS/cuda-one.log"; then
    kdied=$((kdied + 1))
    echo "--- FAIL: ${name} (no verdict: exit ${one})" >>"$LOGS/cuda.log"
  fi
  [ $one -ne 0 ] && rc=$one
done
rm -f "$LOGS/cuda-one.log"
kpass=$(grep -c '^--- PASS' "$LOGS/cuda.log")
kfail=$(grep -c '^--- FAIL' "$LOGS/cuda.log")
kskip=$(grep -c '^--- SKIP' "$LOGS/cuda.log")
kernel_result="$kpass passed, $kfail failed, $kskip skipped"
[ $kdied -ne 0 ] && kernel_result="$kernel_result ($kdied died without a verdict)"
[ $rc -ne 0 ] && kernel_result="$kernel_result (exit $rc)"
if [ $((kpass + kfail + kskip)) -eq 0 ]; then
  kernel_result="no kernel test ran (see $LOGS/cuda.log)"
  status=1
fi
if [ "$kfail" -ne 0 ] || [ $rc -ne 0 ]; then
  status=1
  grep -E -A8 '^--- FAIL' "$LOGS/cuda.log" | head -40
fi
if [ "$kskip" -ne 0 ]; then
  status=1
  echo "kernel tests skipped: $(skipped "$LOGS/cuda.log")"
fi
kernel_time=$(elapsed "$t")

# 3. conformance
t=$(date +%s)
timeout 100 "$here/gpucheck.test" -test.run 'TestGPUConformance$' -test.v -test.timeout 95s >"$LOGS/conformance.log" 2>&1
rc=$?
grep -E '^gpu (FAIL|conformance|host fallbacks)' "$LOGS/conformance.log"
conf_line=$(grep -E '^gpu: [0-9]+ passed, [0-9]+ failed' "$LOGS/conformance.log" | tail -1)
if [ -z "$conf_line" ]; then
  if grep -q '^--- SKIP' "$LOGS/conformance.log"; then
    conf_line="skipped: $(skipped "$LOGS/conformance.log")"
  else
    conf_line="no result (exit $rc; see $LOGS/conformance.log)"
    tail -5 "$LOGS/conformance.log"
  fi
  status=1
elif [ $rc -ne 0 ]; then
  status=1
fi
conf_time=$(elapsed "$t")

# 4. training steps, GPU vs host
t=$(date +%s)
timeout 40 "$here/lafite.test" -test.run '^TestTrainStepOnGPUMatchesCPU$' -test.v -test.timeout 35s >"$LOGS/train.log" 2>&1
rc=$?
grep -E 'step [0-9]+: [0-9]+ loss values|^--- ' "$LOGS/train.log" | sed 's/^ *//'
if grep -q '^--- PASS' "$LOGS/train.log" && [ $rc -eq 0 ]; then
  train_result="losses match the host ($(grep -o 'worst difference [^ ]*' "$LOGS/train.log" | tail -1))"
elif grep -q '^--- SKIP' "$LOGS/train.log"; then
  train_result="skipped: $(skipped "$LOGS/train.log")"
  status=1
else
  train_result="FAILED (exit $rc; see $LOGS/train.log)"
  grep -E -A12 '^--- FAIL' "$LOGS/train.log" | head -20
  status=1
fi
train_time=$(elapsed "$t")

# 5. timing table
t=$(date +%s)
LAFITE_GPU_TIMING=1 timeout 80 "$here/gpucheck.test" -test.run 'TestGPUTiming$' -test.v -test.timeout 75s >"$LOGS/timing.log" 2>&1
rc=$?
sed -n '/^gpu timing:/,/^--- /p' "$LOGS/timing.log" | grep -v '^--- '
if grep -q '^--- SKIP' "$LOGS/timing.log"; then
  timing_result="skipped: $(skipped "$LOGS/timing.log")"
  status=1
elif [ $rc -ne 0 ] || ! grep -q '^gpu timing:' "$LOGS/timing.log"; then
  timing_result="failed (exit $rc; see $LOGS/timing.log)"
  tail -5 "$LOGS/timing.log"
  status=1
else
  timing_result="$(grep -c -E '^[a-z_].* [0-9]+\.[0-9]{4} ' "$LOGS/timing.log") ops timed (table above)"
fi
timing_time=$(elapsed "$t")
row() { grep -E "^$1 " "$LOGS/timing.log" | head -1 | awk '{print $(NF-1)}'; }  # "63%" of "63% fma" 
gemm=$(row 'matmul  ')
biasact=$(row 'bias_act lrelu clamp')
# upfirdn2d: the better of the streaming and shared-tile kernels per case, as
# autotuning runs whichever is faster on the card.
best() { printf '%s\n%s\n' "$(row "$1")" "$(row "$2")" | tr -d '%' | grep -E '^[0-9]+$' | sort -n | tail -1 | sed 's/$/%/'; }
upfirdn="$(best 'upfirdn2d up2 4x4' 'upfirdn2d up2 tiled')/$(best 'upfirdn2d down2 4x4' 'upfirdn2d down2 tiled')/$(best 'upfirdn2d filter 4x4' 'upfirdn2d filter tiled')"
conv=$(grep -E '^(conv2d 3x3 +\[|conv2d 3x3 winograd4 |conv2d 3x3 s2 +\[|conv2d 3x3 s2 phases |conv_transpose2d s2 +\[)' "$LOGS/timing.log" | awk '{printf "%s%s", sep, $(NF-1); sep="/"}')

# 6. optional benchmarks
bench_result="off (LAFITE_GPU_BENCH=1, or =torch for Go vs PyTorch)"
bench_time=-
if [ -n "${LAFITE_GPU_BENCH:-}" ] && [ "${LAFITE_GPU_BENCH}" != 0 ]; then
  t=$(date +%s)
  left=$(( 295 - (t - start) ))
  limit="${LAFITE_GPU_BENCH_LIMIT:-$left}"
  if ! grep -q '^GPU ready' "$LOGS/doctor.log"; then
    bench_result="skipped: no GPU (see doctor)"
  elif [ "$limit" -lt 30 ]; then
    bench_result="skipped: ${left}s left of the 5 minutes (LAFITE_GPU_BENCH_LIMIT=<s> runs it anyway)"
  elif [ "$LAFITE_GPU_BENCH" = torch ]; then
    if python3 -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
      timeout "$limit" python3 "$here/compare_torch_gpu.py" --go "$here/lafite" --rounds "${ROUNDS:-1}" --only "${LAFITE_GPU_BENCH_ONLY:-}" >"$LOGS/bench.log" 2>&1
      rc=$?
      sed -n '/^GPU: /,$p' "$LOGS/bench.log"
      rows=$(sed -n '/^workload /,$p' "$LOGS/bench.log" | tail -n +2 | grep -c -E '^[a-z]')
      if [ $rc -eq 124 ]; then
        bench_result="Go vs PyTorch: time limit (${limit}s) reached; see $LOGS/bench.log"
      elif [ $rc -ne 0 ] || [ "$rows" -eq 0 ]; then
        bench_result="Go vs PyTorch failed (exit $rc; see $LOGS/bench.log)"
        tail -5 "$LOGS/bench.log"
        status=1
      else
        bench_result="Go vs PyTorch: $rows workloads (table above)"
      fi
    else
      bench_result="skipped: no python3 with a CUDA build of torch"
    fi
  else
    timeout "$limit" "$here/lafite" bench --device cuda ${LAFITE_GPU_BENCH_ONLY:+--only "$LAFITE_GPU_BENCH_ONLY"} >"$LOGS/bench.log" 2>&1
    rc=$?
    cat "$LOGS/bench.log"
    rows=$(grep -c -E '^[a-z0-9_]+ +[0-9]+\.[0-9]{3} ' "$LOGS/bench.log")
    if [ $rc -eq 124 ]; then
      bench_result="$rows workloads timed before the time limit (${limit}s)"
    elif [ $rc -ne 0 ]; then
      bench_result="failed after $rows workloads (exit $rc; see $LOGS/bench.log)"
      status=1
    else
      bench_result="$rows workloads timed (table above)"
    fi
  fi
  bench_time=$(elapsed "$t")
fi

# 7. optional per-kernel profile
profile_result="off (LAFITE_GPU_PROFILE=1 or =<workload>)"
if [ "${LAFITE_GPU_PROFILE:-0}" = 0 ]; then
  :
elif ! grep -q '^GPU ready' "$LOGS/doctor.log"; then
  profile_result="skipped: no GPU (see doctor)"
else
  w="$LAFITE_GPU_PROFILE"
  [ "$w" = 1 ] && w=lafite_train_step_64_b16
  t=$(date +%s)
  timeout 120 "$here/lafite" bench --device cuda --only "$w" --runs 2 --min-time 1ms --profile >"$LOGS/profile.log" 2>&1
  rc=$?
  cat "$LOGS/profile.log"
  if [ $rc -ne 0 ]; then
    profile_result="failed (exit $rc; see $LOGS/profile.log)"
    status=1
  else
    # The engine's host side of the same run on this machine's CPU (a
    # dry-run device, no GPU): set against the kernel time and the measured
    # step, it says whether the card waits for the host.
    timeout 60 "$here/lafite" bench --trace --only "$w" >"$LOGS/trace.log" 2>&1
    host=$(grep -m1 -o 'host side: median [0-9.]* ms' "$LOGS/trace.log")
    profile_result="$w: $(grep -m1 -o '[0-9]* launches per run, [0-9.]* ms of kernel time per run' "$LOGS/profile.log"); ${host:-host side ?} ($(elapsed "$t"))"
  fi
fi

# 8. optional kernel variants (bench/cuda/variants.cu, needs nvcc)
variants_result="off (LAFITE_GPU_VARIANTS=1, needs nvcc)"
if [ "${LAFITE_GPU_VARIANTS:-0}" != 0 ]; then
  t=$(date +%s)
  if ! command -v nvcc >/dev/null; then
    variants_result="skipped: no nvcc on the PATH"
  elif ! grep -q '^GPU ready' "$LOGS/doctor.log"; then
    variants_result="skipped: no GPU (see doctor)"
  elif ! (cd "$here/src/bench/cuda" && nvcc -O3 -arch=sm_90 -o "$here/variants" variants.cu) >"$LOGS/variants.log" 2>&1; then
    variants_result="nvcc failed (see $LOGS/variants.log)"
    tail -5 "$LOGS/variants.log"
    status=1
  else
    timeout 120 "$here/variants" >>"$LOGS/variants.log" 2>&1
    rc=$?
    cat "$LOGS/variants.log"
    variants_result="exit $rc ($(elapsed "$t")); see $LOGS/variants.log"
    [ $rc -ne 0 ] && status=1
  fi
fi

# torch_ratio W: the Go / PyTorch ratio of workload W in the comparison table
# (and, after a slash, its cycle mean's where it has one), or "?".
torch_ratio() {
  local r=""
  [ -f "$LOGS/bench.log" ] && r=$(awk -v w="$1" 'found && $1 == "(mean" { print $7 } { found = 0 } $1 == w && NF >= 4 { print $4; found = 1 }' "$LOGS/bench.log" | head -2 | paste -sd/ -)
  echo "${r:-?}"
}

result=PASS
[ $status -ne 0 ] && result=FAIL
echo
echo "== gpu-check summary: ${gpu_name:-no GPU}, commit @COMMIT@ =="
printf '%-22s %-52s %s\n' step result time
printf '%-22s %-52s %s\n' doctor "$doctor_result" "$doctor_time"
printf '%-22s %-52s %s\n' probes "$probe_result" "$probe_time"
printf '%-22s %-52s %s\n' "kernel tests" "$kernel_result" "$kernel_time"
printf '%-22s %-52s %s\n' conformance "$conf_line" "$conf_time"
printf '%-22s %-52s %s\n' "training steps" "$train_result" "$train_time"
printf '%-22s %-52s %s\n' timing "$timing_result" "$timing_time"
printf '%-22s %-52s %s\n' benchmarks "$bench_result" "$bench_time"
printf '%-22s %-52s\n' profile "$profile_result"
printf '%-22s %-52s\n' variants "$variants_result"
printf '%-22s %-52s\n' "GEMM 4096^3" "${gemm:-?} of FP32 peak (goal >= 50%)"
printf '%-22s %-52s\n' "bias_act, upfirdn2d" "${biasact:-?}, ${upfirdn:-?} (up2/down2/filter, best kernel) of copy bw (goal >= 80%)"
printf '%-22s %-52s\n' "conv 3x3" "${conv:-?} of FP32 peak (s1 direct/F4, s2 direct/phases, transposed s2)"
printf '%-22s %-52s\n' "Go / PyTorch" "modconv N16 fwd+bwd $(torch_ratio modconv_n16_c512_32_fwdbwd), 64x64 train step $(torch_ratio lafite_train_step_64_b16) (median/cycle mean; goal <= 1)"
printf '%-22s %-52s %s\n' overall "$result" "$(elapsed "$start")"
exit $status
