#!/usr/bin/env bash
# Run HERE, as root, from the repository root: configures (and optionally builds) llmhost the way
# the GPU machine does, from the carried .gpu/debs alone, with this machine's own copies of those
# packages hidden, so that a package missing from fetch-debs.sh fails here and not in device time.
#
#   sudo bash tools/gpu/check-configure.sh [TARGET...]   # e.g. engine_tests bench_gpu
#
# How: a private mount namespace (unshare -m) with copies of /usr/include and the CMake and
# pkg-config folders, minus what the carried packages provide, bind-mounted over the originals;
# a python3 stand-in answering torch's questions with Debian's libtorch (this machine has no torch
# for python). The debs are unpacked into a scratch prefix, not /opt/llmhost-deps.
set -euo pipefail
[ -f tools/gpu/env.sh ] || { echo "check-configure.sh: run it from the repository root" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "check-configure.sh: needs root (unshare -m, mount --bind)" >&2; exit 2; }
ls .gpu/debs/*.deb >/dev/null 2>&1 || { echo "check-configure.sh: run tools/gpu/fetch-debs.sh first" >&2; exit 2; }
torch_cmake=/usr/lib/x86_64-linux-gnu/cmake
[ -d $torch_cmake/Torch ] || { echo "check-configure.sh: needs Debian's libtorch-dev" >&2; exit 2; }

work=$(mktemp -d /tmp/llmhost-check-configure.XXXXXX)
trap 'rm -rf "$work"' EXIT
# What the carried packages provide, by their file lists: hidden from the namespace.
hide=()
for deb in .gpu/debs/*.deb; do
  while read -r path; do hide+=("$path"); done < <(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\.||' |
    grep -E '^/usr/(include/[^/]+|include/x86_64-linux-gnu/[^/]+|lib/x86_64-linux-gnu/cmake/[^/]+|share/cmake/[^/]+|lib/cmake/[^/]+)/?$' | sed 's|/$||' |
    grep -v -x -e /usr/include/x86_64-linux-gnu) # a folder they share with everything else
done
for d in include lib/x86_64-linux-gnu/cmake share/cmake lib/cmake; do
  mkdir -p "$work/$d"
  [ -d /usr/$d ] && cp -a /usr/$d/. "$work/$d/"
done
for p in "${hide[@]}"; do rm -rf "$work${p#/usr}"; done
mkdir -p "$work/empty" "$work/bin"
cat >"$work/bin/python3" <<EOF
#!/bin/sh
case "\$*" in
  *cmake_prefix_path*) echo $torch_cmake ;;
  *ABI*) echo 1 ;;
  *sys.prefix*) echo /nonexistent ;;
  *torch.__version__*) echo "Debian's libtorch (check-configure.sh stand-in)" ;;
  *) exec /usr/bin/python3 "\$@" ;;
esac
EOF
chmod +x "$work/bin/python3"
echo "hidden: ${#hide[@]} paths the carried packages provide"

export work targets="$*"
PATH="$work/bin:$PATH" unshare -m bash -c '
  set -euo pipefail
  for d in include lib/x86_64-linux-gnu/cmake share/cmake lib/cmake; do
    [ -d /usr/$d ] && mount --bind "$work/$d" /usr/$d
  done
  mount --bind "$work/empty" /usr/lib/x86_64-linux-gnu/pkgconfig
  mount --bind "$work/empty" /usr/share/pkgconfig
  . tools/gpu/env.sh
  gpu_deps=$work/deps
  gpu_unpack_debs
  gpu_env
  export PATH CPATH LIBRARY_PATH LD_LIBRARY_PATH PKG_CONFIG_PATH
  gpu_configure "$work/build"
  [ -z "$targets" ] || cmake --build "$work/build" --target $targets
'
echo "check-configure.sh: the GPU configure${*:+ and build of $*} worked with only the carried packages"
