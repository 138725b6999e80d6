#!/usr/bin/env bash
# The one script a GPU session runs (issue 15). From the repository root, with .gpu/ carried:
#
#   bash tools/gpu/run-all.sh [--out DIR] [--budget SECONDS] [--jobs N]
#   bash tools/gpu/run-all.sh --dry-run      # here, on the CPU: the same steps, CPU-sized
#
# Steps, in order, each time-boxed (and all of them inside --budget, default 540 s: the device
# tool stops a command at 600 s); a step that fails or times out does not stop the later ones:
#   info        the GPU, torch, transformers, compilers                       (logs/info.log)
#   configure   the carried .debs unpacked, cmake against python3's torch (dry run: this machine's)
#   build       engine_tests, bench_gpu, llmhost-tiny-model (ninja, -j --jobs); if that fails,
#               again with -DLLMHOST_CUDA_GRAPHS=OFF -DLLMHOST_CUDA_KERNELS=OFF
#               -DLLMHOST_BENCH_PROFILE=OFF -DLLMHOST_TORCH_RMS_NORM=OFF (the step then ends
#               "FAILED (exit 3)", built)
#   tests-cuda  the engine's CUDA cases (device choice, bf16 vs CPU, the transformers fixtures)
#   fixtures    tools/make_fixtures.py for every architecture into OUT/fixtures, then the engine
#               checked against those new files on the CPU and on CUDA. With the generator carried
#               (.gpu/bin/llmhost-tiny-model, built here), the Python half starts in the background
#               before the build, so the fixtures come back even when the build fails
#   bench       bench_gpu (Llama-3.2-1B shapes, bf16): OUT/bench-gpu.txt and .json
#   ceiling     tools/gpu/matvec_ceiling.py: torch's batch-1 products alone (OUT/ceiling.json)
#   profile     bench_gpu --profile: the decode step's kernels by name, by default, without
#               llmhost's CUDA kernels, and op by op (LLMHOST_DEVICE_FUSION=0 too)
#               (OUT/profile.txt; the JSON in logs/)
#   tests-all   the whole engine test binary
#   build-rest  the huggingface plugin, the llmhost CLI and bench_generate (compile check)
# OUT gets summary.txt (one line a step), bench-gpu.txt/.json and results.tar.gz (logs/ and
# fixtures/): few files, since the device tool brings back at most 8.
set -uo pipefail # no -e: every step runs and reports

dry=0
out=${OUT:-/tmp/llmhost-gpu-run}
budget=540
jobs=$(nproc)
while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) dry=1 ;;
    --out) out=$2; shift ;;
    --budget) budget=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    *) echo "run-all.sh: unknown argument $1 (--dry-run, --out DIR, --budget SECONDS, --jobs N)" >&2; exit 2 ;;
  esac
  shift
done
case $budget$jobs in *[!0-9]*) echo "run-all.sh: --budget and --jobs take whole numbers" >&2; exit 2 ;; esac
[ -f tools/gpu/run-all.sh ] || { echo "run-all.sh: run it from the repository root" >&2; exit 2; }

start=$SECONDS
mkdir -p "$out/logs" "$out/fixtures"
summary=$out/summary.txt
: >"$summary"
if [ $dry = 1 ]; then
  build=build-gpu-dry
  bench_args=(--config small --device cpu --decode 32 --long-prompt 512 --streams 4,8 --stream-decode 16)
  profile_args=(--config small --device cpu --decode 8 --long-prompt 16 --streams 8 --stream-decode 8 --profile 16)
else
  build=build-gpu
  bench_args=(--config 1b --device cuda)
  profile_args=(--config 1b --device cuda --decode 64 --long-prompt 16 --streams 32 --stream-decode 32 --profile 64)
fi
export build out dry jobs

note() { echo "$*" | tee -a "$summary"; }
# The device tool copies the working tree beside a .git of the session's start: HEAD there can be
# older than the files, so say how many tracked files differ from it.
rev="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
changed=$(git diff --name-only HEAD 2>/dev/null | wc -l)
[ "$changed" -gt 0 ] && rev="$rev + $changed changed files"
note "run-all.sh $([ $dry = 1 ] && echo '--dry-run ')at $rev, $(date -u +%FT%TZ), budget ${budget}s, -j$jobs"

# step NAME LIMIT FUNCTION: runs FUNCTION in its own bash under timeout (at most what is left of
# the budget, less 20 s for packing), its output in logs/NAME.log, one line in summary.txt.
step() {
  local name=$1 limit=$2 fn=$3 left rc status t0=$SECONDS
  left=$((budget - (SECONDS - start) - 20))
  if [ $left -lt 10 ]; then
    note "$(printf '%-11s %-22s' "$name" 'not run: budget spent')"
    return
  fi
  [ "$limit" -gt $left ] && limit=$left
  echo "== $name (up to ${limit}s)"
  timeout --kill-after=5 "$limit" bash -c "$fn" >"$out/logs/$name.log" 2>&1
  rc=$?
  case $rc in
    0) status=ok ;;
    77) status=skipped ;;
    124 | 137) status="TIMED OUT at ${limit}s" ;;
    *) status="FAILED (exit $rc)" ;;
  esac
  note "$(printf '%-11s %-22s %4ds  %s' "$name" "$status" $((SECONDS - t0)) \
    "$(grep -v '^\s*$' "$out/logs/$name.log" | tail -1 | cut -c1-160)")"
}

s_info() {
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv || echo "no nvidia-smi"
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' || echo "python3 has no torch"
  python3 -c 'import transformers; print("transformers", transformers.__version__)' || echo "python3 has no transformers"
  command -v nvcc && nvcc --version | tail -2
  gcc --version | head -1; cmake --version | head -1; ninja --version; nproc; free -g | head -2
}

s_configure() {
  if [ "$dry" = 1 ]; then
    local launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}"
  else
    . tools/gpu/env.sh && gpu_env && gpu_configure "$build"
  fi
}

# The link line of engine_tests and whether libstdc++ leads its libraries (engine/CMakeLists.txt
# says why it must; on the first GPU run a linker flag for it had no effect).
link_order() {
  ninja -C "$build" -t commands engine_tests | tail -1 | cut -c1-600
  sh tests/engine/check_link_order.sh "$build/bin/engine_tests"
}

s_build() {
  local targets=(engine_tests bench_gpu llmhost-tiny-model)
  # -k 0: every error in one log
  cmake --build "$build" -j"$jobs" --target "${targets[@]}" -- -k 0 && { link_order; return 0; } # built: the order is logged, not a failure
  # What has not yet compiled on a GPU machine (the code added since the first run there):
  # without it the rest can run.
  local off="-DLLMHOST_CUDA_GRAPHS=OFF -DLLMHOST_CUDA_KERNELS=OFF -DLLMHOST_BENCH_PROFILE=OFF -DLLMHOST_TORCH_RMS_NORM=OFF"
  echo "run-all.sh: the build failed; again with $off"
  cmake $off "$build" &&
    cmake --build "$build" -j"$jobs" --target "${targets[@]}" || return
  echo "built WITHOUT CUDA graphs, llmhost's CUDA kernels, bench_gpu --profile and at::rms_norm (the first build's errors are above)"
  return 3
}

# engine_tests ARGS...: the test binary; if it crashes (SIGSEGV), once more with libstdc++ preloaded
# (a libtorch that exports libstdc++ functions, engine/CMakeLists.txt) so the run still says
# something, and exit 4: the crash is the finding.
engine_tests() {
  "$build/bin/engine_tests" "$@"
  local rc=$?
  [ $rc = 139 ] || return $rc
  echo "run-all.sh: engine_tests crashed (SIGSEGV); again with libstdc++ preloaded"
  LD_PRELOAD=$(g++ -print-file-name=libstdc++.so.6) "$build/bin/engine_tests" "$@" || return
  return 4
}

# The switches that turn off what was added after the first GPU run: llmhost's CUDA kernels, and
# with them the fewer-kernel paths (base_step_env: the step that run measured), for telling a fault
# there apart from one in that step.
export kernels_off_env="LLMHOST_CUDA_GEMV=0 LLMHOST_CUDA_ROPE=0"
export base_step_env="$kernels_off_env LLMHOST_DEVICE_FUSION=0"

s_tests_cuda() {
  engine_tests -tc='*CUDA*'
  local rc=$?
  [ $rc = 0 ] || [ $rc = 4 ] && return $rc # passed (4: after a crash, with libstdc++ preloaded)
  echo "run-all.sh: CUDA cases failed; again with $base_step_env"
  (export $base_step_env && engine_tests -tc='*CUDA*') || return
  echo "run-all.sh: they pass with $base_step_env: the fault is in what those switches turn off"
  return 6
}

# The Python half of the fixtures: transformers on the CPU (a few threads: the build has the rest).
s_fixtures_py() {
  OMP_NUM_THREADS=2 python3 tools/make_fixtures.py --tool "$1" --out "$out/fixtures"
}

s_fixtures() {
  local rc
  if [ -n "${fixtures_py_rc:-}" ]; then # started in the background before the build
    echo "waiting for the background make_fixtures.py (logs/fixtures-py.log)"
    while [ ! -s "$fixtures_py_rc" ]; do sleep 1; done
    cat "$out/logs/fixtures-py.log"
    rc=$(cat "$fixtures_py_rc")
  else
    s_fixtures_py "$build/bin/llmhost-tiny-model"
    rc=$?
  fi
  echo "make_fixtures.py ended with exit $rc"
  # None written: skipped (77, no torch) or failed; some written: the engine is checked on those.
  ls "$out"/fixtures/transformers_*.json || return $((rc == 0 ? 1 : rc))
  LLMHOST_ENGINE_FIXTURES="$out/fixtures" engine_tests -tc='transformers fixtures*' -s || return
  return "$rc" # an architecture transformers could not run fails the step, even when the rest match
}

s_bench() {
  # The dry run takes the paths CUDA takes by default: the static decode step (eagerly: no graphs
  # on a CPU) and the ids picked on the device.
  [ "$dry" = 1 ] && export LLMHOST_DECODE_GRAPHS=eager LLMHOST_DEVICE_SAMPLING=1
  set -o pipefail
  "$build/bin/bench_gpu" "${bench_args[@]}" --json "$out/bench-gpu.json" | tee "$out/bench-gpu.txt" &&
    return
  # The figures of the step the first GPU run measured, rather than none (exit 5: the failure above
  # is the finding).
  echo "run-all.sh: bench_gpu failed; again with $base_step_env"
  env $base_step_env "$build/bin/bench_gpu" "${bench_args[@]}" \
    --json "$out/bench-gpu.json" | tee "$out/bench-gpu.txt" || return
  return 5
}

# The decode step's kernels by name (bench_gpu --profile): where the time that is not products goes.
# Three times: as the engine runs by default, without llmhost's CUDA kernels (LLMHOST_CUDA_GEMV=0
# LLMHOST_CUDA_ROPE=0: cuBLAS's products, libtorch's RoPE and scatter), and with
# LLMHOST_DEVICE_FUSION=0 too (the op-by-op step the first GPU run measured), so one run shows
# what the kernels and the fewer-kernel paths (models/linear.hpp) each gain. The tables go to
# OUT/profile.txt, the JSON to logs/ (the device tool brings back at most 8 files).
s_profile() {
  set -o pipefail
  local name env
  : >"$out/profile.txt"
  for name in default nokernels nofusion; do
    case $name in
      default) env=() ;;
      nokernels) env=($kernels_off_env) ;;
      nofusion) env=($base_step_env) ;;
    esac
    echo "== $name: ${env[*]:-(nothing set)}" | tee -a "$out/profile.txt"
    env "${env[@]}" "$build/bin/bench_gpu" "${profile_args[@]}" --peer 0 \
      --json "$out/logs/profile-$name.json" | tee -a "$out/profile.txt" || return
  done
}

# What cuBLAS's batch-1 products of the same weights reach, eagerly and as a CUDA graph.
s_ceiling() {
  set -o pipefail
  python3 tools/gpu/matvec_ceiling.py | tee "$out/ceiling.json"
}

s_tests_all() { engine_tests; }

s_build_rest() { cmake --build "$build" -j"$jobs" --target llmhost llmhost_plugin_huggingface bench_generate; }

export -f link_order engine_tests s_ceiling s_profile s_fixtures_py s_info s_configure s_build s_tests_cuda s_fixtures s_bench s_tests_all s_build_rest
export bench_args_str="${bench_args[*]}" profile_args_str="${profile_args[*]}"

if [ $dry = 0 ]; then
  # The carried packages and torch's paths, for every step (the binaries load the unpacked
  # libraries at run time too).
  . tools/gpu/env.sh
  gpu_unpack_debs || note "deps: the carried .debs could not be unpacked (see above)"
  gpu_env || note "deps: python3's torch was not found: the build cannot use it"
  export PATH CMAKE_PREFIX_PATH CPATH LIBRARY_PATH LD_LIBRARY_PATH PKG_CONFIG_PATH gpu_torch_prefix gpu_cxx11_abi
fi

step info 60 s_info
# The carried generator needs no build: transformers runs while the project compiles.
if [ -x .gpu/bin/llmhost-tiny-model ] && .gpu/bin/llmhost-tiny-model --help >/dev/null 2>&1; then
  export fixtures_py_rc=$out/logs/fixtures-py.rc
  rm -f "$fixtures_py_rc"
  (timeout --kill-after=5 300 bash -c 's_fixtures_py .gpu/bin/llmhost-tiny-model' \
    >"$out/logs/fixtures-py.log" 2>&1; echo $? >"$fixtures_py_rc") &
  note "fixtures-py started in the background with the carried .gpu/bin/llmhost-tiny-model"
fi
step configure 150 s_configure
step build 330 s_build
step tests-cuda 90 s_tests_cuda
step fixtures 150 s_fixtures
step bench 240 'bench_args=($bench_args_str); s_bench'
step ceiling 60 s_ceiling
step profile 200 'profile_args=($profile_args_str); s_profile'
step tests-all 150 s_tests_all
step build-rest 300 s_build_rest

note "total $((SECONDS - start))s"
tar -C "$out" -czf "$out/results.tar.gz" logs fixtures && rm -rf "$out/logs" "$out/fixtures"
ls -la "$out"
