#!/usr/bin/env bash
# Run ON THE GPU MACHINE, from the repository root, with .gpu/ carried (see fetch-debs.sh):
#   bash tools/gpu/build.sh [BUILD_DIR]
# Unpacks the carried .debs into a private prefix (never into /), then configures and builds all of
# llmhost against the libtorch inside python3's torch (CUDA), for Hopper (sm_90). The prepared
# GPU run (tests, fixtures, benchmark) is tools/gpu/run-all.sh.
set -euo pipefail
build=${1:-build-gpu}
. tools/gpu/env.sh
gpu_unpack_debs
gpu_env
gpu_configure "$build"
cmake --build "$build" -j"$(nproc)"
echo "built: $build/bin/llmhost, plugins in $build/lib/llmhost/plugins"
echo "export LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
