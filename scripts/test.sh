#!/usr/bin/env bash
# The whole check, as CI runs it: dependencies, a full build and its tests, then the host built
# with AddressSanitizer + UBSan and its tests, then the Windows cross-build (mingw-w64) and its
# tests under wine. Exits non-zero if any step fails.
#   bash scripts/test.sh          (env: JOBS=N to override the parallelism,
#                                  LLMHOST_COMPONENTS=... to restrict the first build while developing)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}

step() { printf '\n== %s\n' "$*" >&2; }

step "dependencies"
bash scripts/deps.sh

step "configure build/ (Ninja, RelWithDebInfo)"
# Everything, even if an earlier configure of build/ restricted it. (Developers may restrict it
# on purpose: LLMHOST_COMPONENTS="plugin_api;host;..." bash scripts/test.sh; CI never does.)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLMHOST_SANITIZE=OFF \
  -DLLMHOST_COMPONENTS="${LLMHOST_COMPONENTS:-}"
step "build build/ (-j$jobs)"
cmake --build build -j"$jobs"

failed=()
step "test build/"
# ctest prints its own summary ("100% tests passed, 0 tests failed out of N").
ctest --test-dir build --output-on-failure -j"$jobs" || failed+=("ctest build/")

# CI also runs the host under -fsanitize=address,undefined. Only the host side: libtorch and the
# network plugins are not instrumented and would only add noise and time.
step "configure build-asan/ (-fsanitize=address,undefined, host components)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLMHOST_SANITIZE=ON \
  -DLLMHOST_WITH_TORCH=OFF -DLLMHOST_BUILD_BENCH=OFF \
  -DLLMHOST_COMPONENTS="plugin_api;host;examples/echo-plugin-c;tests/host"
step "build build-asan/"
cmake --build build-asan -j"$jobs"
step "test build-asan/"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" || failed+=("ctest build-asan/")

# Windows: plugin_api, llmhost.dll, the C API example, the CLI, the C echo plugin and the host
# tests cross-built with mingw-w64 and run under wine (cmake/windows.cmake says what is covered;
# docs/development.md what it costs). Without wine the Windows tests skip, saying so.
step "configure build-win/ (mingw-w64 cross-build for Windows)"
launcher=()
command -v ccache >/dev/null 2>&1 &&
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-win -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake -DLLMHOST_COMPONENTS= "${launcher[@]}"
step "build build-win/"
cmake --build build-win -j"$jobs"
step "test build-win/ (under wine)"
ctest --test-dir build-win --output-on-failure -j"$jobs" || failed+=("ctest build-win/")

if ((${#failed[@]})); then
  echo "test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test.sh: all tests passed (build/, build-asan/ and build-win/)" >&2
