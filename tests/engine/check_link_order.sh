#!/bin/sh
# check_link_order.sh BINARY...: libstdc++ must come before every libtorch*/libc10* among each
# binary's DT_NEEDED entries (plugins/huggingface/engine/CMakeLists.txt says why: pip's libtorch
# exports broken copies of std::filesystem functions that would otherwise win).
command -v readelf >/dev/null || { echo "skipped: no readelf (binutils)"; exit 77; }
status=0
for bin in "$@"; do
  needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  first_std=$(echo "$needed" | grep -n '^libstdc++' | head -1 | cut -d: -f1)
  first_torch=$(echo "$needed" | grep -n -E '^lib(torch|c10)' | head -1 | cut -d: -f1)
  if [ -z "$first_torch" ]; then
    echo "$bin: links no libtorch"
  elif [ -z "$first_std" ] || [ "$first_std" -gt "$first_torch" ]; then
    echo "$bin: libtorch is needed before libstdc++:" $needed
    status=1
  else
    echo "$bin: libstdc++ (entry $first_std) before libtorch (entry $first_torch)"
  fi
done
exit $status
