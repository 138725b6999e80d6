#!/usr/bin/env bash
# Installs what llmhost needs to build and test on Debian 12, and nothing that is already there.
# Idempotent and silent when everything is present; `apt-get update` runs only when something is
# missing. Then installs the node test peers (tests/node) when they are missing; if npm cannot
# fetch them, a warning says so and the parity/SDK tests that need them skip themselves.
#   bash scripts/deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Libraries and tools from shared/reference/build-notes.md, plus what the scripts and tests run.
packages=(
  cmake g++ make pkg-config ninja-build python3 git ca-certificates
  libboost1.81-dev libboost-filesystem1.81-dev libcurl4-openssl-dev nlohmann-json3-dev
  doctest-dev libssl-dev libcli11-dev libpcre2-dev libtorch-dev prometheus python3-yaml
  # libtorch calls libblas.so.3 for fp32 matmuls: Debian's alternatives point it at OpenBLAS once
  # this is installed (else at the reference BLAS, ~15x slower prefill). libblas3 is that
  # reference one, which the BLAS-probe tests load on purpose.
  libopenblas0-pthread libblas3
  # The Windows cross-build (cmake/toolchain-mingw64.cmake) and wine to run its tests.
  g++-mingw-w64-x86-64-posix wine64
  # A second compiler for the ABI tests (tests/abi): plugins built by clang, for Linux and for
  # Windows (--target=x86_64-w64-mingw32), loaded by the gcc-built host; and the header's layout
  # pins compiled for the MSVC and macOS data models.
  clang
)
# Node may come from Debian or from NodeSource (whose `nodejs` also ships npm and conflicts with
# Debian's `npm` package), so node and npm are checked by command, not by package name.
commands_to_packages=("node:nodejs" "npm:npm")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
for pair in "${commands_to_packages[@]}"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "deps.sh: installing ${missing[*]}" >&2
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps.sh: missing packages (${missing[*]}) and not root, no sudo: install them as root" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node test peers: reference implementations for the parity tests and the openai SDK test.
if [ ! -d tests/node/node_modules ] && [ -f tests/node/package.json ]; then
  echo "deps.sh: installing the node test peers in tests/node" >&2
  if [ -f tests/node/package-lock.json ]; then npm_cmd=(npm ci); else npm_cmd=(npm install); fi
  if ! (cd tests/node && "${npm_cmd[@]}" --no-audit --no-fund --loglevel=error >&2); then
    echo "deps.sh: WARNING: '${npm_cmd[*]}' failed in tests/node; the tests that compare against" \
         "node packages (tokenizer/template parity, openai SDK) will be skipped" >&2
    rm -rf tests/node/node_modules # a half-installed tree would make those tests fail, not skip
  fi
fi
