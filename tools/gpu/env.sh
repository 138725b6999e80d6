# Sourced by tools/gpu/build.sh and tools/gpu/run-all.sh on the GPU machine (see README.md): the
# carried Debian packages unpacked into a private prefix, and CMake pointed at the libtorch inside
# python3's torch, with torch's C++ ABI.
gpu_deps=/opt/llmhost-deps

# Unpacks .gpu/debs/*.deb into $gpu_deps (never into /), once per machine.
gpu_unpack_debs() {
  [ -d "$gpu_deps/usr/include/boost" ] && return 0
  ls .gpu/debs/*.deb >/dev/null 2>&1 || {
    echo "tools/gpu: no .gpu/debs/*.deb: run tools/gpu/fetch-debs.sh here first and carry .gpu" >&2
    return 2
  }
  mkdir -p "$gpu_deps"
  for f in .gpu/debs/*.deb; do dpkg -x "$f" "$gpu_deps" || return; done
  # The .pc files say prefix=/usr: point them at the unpacked tree (pkg-config's --define-prefix
  # would guess .../usr/lib from .../usr/lib/x86_64-linux-gnu/pkgconfig, one level short).
  sed -i "s|^prefix=/usr\$|prefix=$gpu_deps/usr|" "$gpu_deps"/usr/lib/x86_64-linux-gnu/pkgconfig/*.pc \
    "$gpu_deps"/usr/share/pkgconfig/*.pc 2>/dev/null
  return 0
}

# Exports the search paths for the unpacked packages and python3's torch.
gpu_env() {
  gpu_torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)') || return
  gpu_cxx11_abi=$(python3 -c 'import torch;print(int(torch._C._GLIBCXX_USE_CXX11_ABI))') || return
  echo "torch $(python3 -c 'import torch;print(torch.__version__)') at $gpu_torch_prefix (C++11 ABI: $gpu_cxx11_abi)"
  # torch's CMake config looks for the CUDA toolkit (nvcc): put it on PATH if the image did not.
  if ! command -v nvcc >/dev/null; then
    local d
    for d in /usr/local/cuda/bin /usr/local/cuda-*/bin "$(python3 -c 'import sys;print(sys.prefix)')"/lib/python3*/site-packages/nvidia/cu*/bin; do
      [ -x "$d/nvcc" ] && export PATH="$d:$PATH" && break
    done
  fi
  if command -v nvcc >/dev/null; then
    export CUDACXX=${CUDACXX:-$(command -v nvcc)}
    echo "nvcc: $CUDACXX"
  else
    echo "no nvcc found: torch's CMake config may not find CUDA" >&2
  fi
  # PCRE2 is found through pkg-config: the carried pkgconf where the image has none.
  gpu_pkg_config=$(command -v pkg-config || echo "$gpu_deps/usr/bin/pkgconf")
  echo "pkg-config: $gpu_pkg_config"
  export CMAKE_PREFIX_PATH="$gpu_torch_prefix:$gpu_deps/usr"
  export CPATH="$gpu_deps/usr/include${CPATH:+:$CPATH}"
  export LIBRARY_PATH="$gpu_deps/usr/lib/x86_64-linux-gnu${LIBRARY_PATH:+:$LIBRARY_PATH}"
  export LD_LIBRARY_PATH="$gpu_deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PKG_CONFIG_PATH="$gpu_deps/usr/lib/x86_64-linux-gnu/pkgconfig:$gpu_deps/usr/share/pkgconfig"
}

# Configures BUILD_DIR for Hopper (sm_90) against that torch; extra arguments go to cmake. The
# image's own libssl/libcurl are preferred at run time; the .debs only supply headers and what is
# missing. Everything linked with libtorch must use torch's C++ ABI. The image's g++ is 13, whose
# standard headers no longer bring <cstdint> in by the way; the code is built and checked with
# g++ 12 here, so on that one build every C++ file gets it first (-include cstdint).
gpu_configure() {
  local build=$1
  shift
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DCMAKE_CXX_FLAGS="-D_GLIBCXX_USE_CXX11_ABI=$gpu_cxx11_abi -include cstdint" \
    -DPKG_CONFIG_EXECUTABLE="$gpu_pkg_config" \
    -DLLMHOST_REQUIRE_TORCH=ON \
    -DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH" "$@"
}
