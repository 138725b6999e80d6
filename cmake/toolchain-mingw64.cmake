# Cross-build for 64-bit Windows with Debian's mingw-w64 (g++-mingw-w64-x86-64-posix: the posix
# thread model, which std::thread and std::mutex need), run under wine64 when it is installed:
#   cmake -S . -B build-win -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake
#   cmake --build build-win && ctest --test-dir build-win
# What the Windows build covers and why is in cmake/windows.cmake and docs/plugin-abi.md.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(LLMHOST_MINGW_TRIPLE x86_64-w64-mingw32)

find_program(CMAKE_C_COMPILER NAMES ${LLMHOST_MINGW_TRIPLE}-gcc-posix REQUIRED)
find_program(CMAKE_CXX_COMPILER NAMES ${LLMHOST_MINGW_TRIPLE}-g++-posix REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${LLMHOST_MINGW_TRIPLE}-windres)

# Libraries and headers come from the mingw sysroot only: the host's /usr/include has glibc's
# headers. The header-only libraries llmhost uses on Windows (Boost, nlohmann_json, CLI11,
# doctest) are taken from Debian's packages one directory at a time by cmake/windows.cmake.
set(CMAKE_FIND_ROOT_PATH /usr/${LLMHOST_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest runs every Windows test binary through wine (add_test uses the emulator for targets).
find_program(LLMHOST_WINE NAMES wine64 wine PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
if(LLMHOST_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${LLMHOST_WINE})
endif()
