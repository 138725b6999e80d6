#!/usr/bin/env bash
# Run HERE (a Debian 12 machine with apt): downloads, without installing, the Debian packages that a
# GPU build of llmhost needs but the GPU machine's image lacks (it has CUDA, python3 + torch, cmake,
# ninja, but no Boost, libcurl headers, nlohmann_json, doctest, PCRE2, CLI11 or OpenSSL headers,
# and perhaps no pkg-config).
# The .debs go to DEST (default .gpu/debs, git-ignored) so they can be carried to that machine.
set -euo pipefail
dest=${1:-.gpu/debs}
mkdir -p "$dest"
pkgs=(libboost1.81-dev libboost-filesystem1.81.0 libboost-filesystem1.81-dev libboost-atomic1.81-dev libboost-atomic1.81.0
      libboost-system1.81-dev libboost-system1.81.0 nlohmann-json3-dev doctest-dev
      libcurl4-openssl-dev libcurl4 libpcre2-dev libpcre2-8-0 libcli11-dev libssl-dev libssl3
      libnghttp2-14 libssh2-1 librtmp1 libpsl5 libldap-2.5-0 libsasl2-2 libbrotli1 libzstd1
      pkgconf-bin libpkgconf3) # pkgconf: used only where the image has no pkg-config
if [ -z "$(ls /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial | head -1)" ]; then
  apt-get update -qq
fi
(cd "$dest" && apt-get download "${pkgs[@]}" >/dev/null)
du -sh "$dest"
