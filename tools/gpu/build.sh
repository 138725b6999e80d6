#!/usr/bin/env bash
# Run ON THE GPU MACHINE, from the repository root, with .gpu/ carried (see fetch-debs.sh):
#   bash tools/gpu/build.sh [BUILD_DIR]
# Unpacks the carried .debs into a private prefix (never into /), then configures and builds llmhost
# against the libtorch inside python3's torch (CUDA), for Hopper (sm_90).
set -euo pipefail
build=${1:-build-gpu}
deps=/opt/llmhost-deps
if [ ! -d "$deps/usr/include/boost" ]; then
  ls .gpu/debs/*.deb >/dev/null 2>&1 || { echo "tools/gpu/build.sh: no .gpu/debs/*.deb: run tools/gpu/fetch-debs.sh here first and carry .gpu" >&2; exit 2; }
  mkdir -p "$deps"
  for f in .gpu/debs/*.deb; do dpkg -x "$f" "$deps"; done
fi
torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
cxx11_abi=$(python3 -c 'import torch;print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
echo "torch $(python3 -c 'import torch;print(torch.__version__)') at $torch_prefix (C++11 ABI: $cxx11_abi)"
export CMAKE_PREFIX_PATH="$torch_prefix:$deps/usr"
export CPATH="$deps/usr/include${CPATH:+:$CPATH}"
export LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu${LIBRARY_PATH:+:$LIBRARY_PATH}"
export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# The carried .pc files say prefix=/usr: --define-prefix rewrites it to where they were unpacked.
export PKG_CONFIG_PATH="$deps/usr/lib/x86_64-linux-gnu/pkgconfig:$deps/usr/share/pkgconfig"
# The image's own libssl/libcurl are preferred at run time; the .debs only supply headers and
# what is missing. Everything linked with libtorch must use torch's C++ ABI.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DCMAKE_CXX_FLAGS="-D_GLIBCXX_USE_CXX11_ABI=$cxx11_abi" \
  -DPKG_CONFIG_ARGN=--define-prefix \
  -DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH"
cmake --build "$build" -j"$(nproc)"
echo "built: $build/bin/llmhost, plugins in $build/lib/llmhost/plugins"
echo "export LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
