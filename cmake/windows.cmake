# The Windows (mingw-w64) build: what it covers and where its header-only dependencies come from.
# Included by the top-level CMakeLists.txt instead of the Linux find_package() block.
#
# Covered: plugin_api, libllmhost (llmhost.dll + import library), its C API, the CLI commands that
# need neither the network nor libtorch, the C echo plugin and the host tests that apply. The Hub
# client, the mirror, the HTTP server, the OpenAI plugin and the libtorch engine need libcurl,
# OpenSSL, PCRE2 and libtorch built for Windows, which Debian does not ship for mingw: they stay
# Linux-only for now, and configure says so instead of failing.
set(LLMHOST_WINDOWS_DIRS plugin_api host host/cli examples/echo-plugin-c examples/c-api
    tests/host tests/compat tests/abi tests/windows)
set(LLMHOST_WINDOWS_SKIPPED "net, plugins/huggingface/*, plugins/openai, host/server, bench, tools")
message(STATUS "llmhost for Windows: building ${LLMHOST_WINDOWS_DIRS}")
message(STATUS "llmhost for Windows: Linux-only for now (libcurl/OpenSSL/PCRE2/libtorch for "
               "mingw are not packaged): ${LLMHOST_WINDOWS_SKIPPED}")
set(LLMHOST_WITH_TORCH OFF)
set(LLMHOST_BUILD_BENCH OFF)

find_package(Threads REQUIRED)

# Header-only libraries from Debian's packages. /usr/include itself must not be on the include path
# (its C library headers are glibc's), so each library's directory is linked into a folder of the
# build tree that holds nothing else.
set(_win_headers ${PROJECT_BINARY_DIR}/windows-headers)
file(MAKE_DIRECTORY ${_win_headers})
foreach(pair "boost=boost/version.hpp" "nlohmann=nlohmann/json.hpp" "CLI=CLI/CLI.hpp"
             "doctest=doctest/doctest.h")
  string(REPLACE "=" ";" pair "${pair}")
  list(GET pair 0 dir)
  list(GET pair 1 probe)
  if(NOT EXISTS /usr/include/${probe})
    message(FATAL_ERROR "Windows build: /usr/include/${probe} is missing; run scripts/deps.sh")
  endif()
  if(NOT EXISTS ${_win_headers}/${dir})
    file(CREATE_LINK /usr/include/${dir} ${_win_headers}/${dir} SYMBOLIC)
  endif()
endforeach()

function(_llmhost_header_target name)
  if(NOT TARGET ${name})
    add_library(${name} INTERFACE IMPORTED GLOBAL)
    set_target_properties(${name} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${_win_headers})
  endif()
endfunction()
_llmhost_header_target(Boost::headers)
# Boost.DLL on std::filesystem: no compiled Boost.Filesystem, none exists for mingw here.
_llmhost_header_target(Boost::filesystem)
set_target_properties(Boost::filesystem PROPERTIES
  INTERFACE_COMPILE_DEFINITIONS "BOOST_DLL_USE_STD_FS;_WIN32_WINNT=0x0A00;WIN32_LEAN_AND_MEAN;NOMINMAX")
_llmhost_header_target(nlohmann_json::nlohmann_json)
_llmhost_header_target(CLI11::CLI11)
_llmhost_header_target(doctest::doctest)

# Programs need the mingw runtime DLLs (libstdc++, libgcc_s, winpthread) next to them; they are
# copied into bin/ and every test folder that holds a program, as an installer would ship them.
execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libstdc++-6.dll
                OUTPUT_VARIABLE _stdcxx OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libgcc_s_seh-1.dll
                OUTPUT_VARIABLE _gcc_s OUTPUT_STRIP_TRAILING_WHITESPACE)
find_file(_winpthread libwinpthread-1.dll PATHS /usr/${LLMHOST_MINGW_TRIPLE}/lib NO_DEFAULT_PATH)
set(LLMHOST_MINGW_RUNTIME_DLLS ${_stdcxx} ${_gcc_s} ${_winpthread})
foreach(dll ${LLMHOST_MINGW_RUNTIME_DLLS})
  if(NOT EXISTS ${dll})
    message(FATAL_ERROR "Windows build: mingw runtime DLL not found: ${dll}")
  endif()
endforeach()
file(COPY ${LLMHOST_MINGW_RUNTIME_DLLS} DESTINATION ${PROJECT_BINARY_DIR}/bin)

# llmhost_copy_runtime(<dir>): the runtime DLLs next to test programs that live outside bin/.
function(llmhost_copy_runtime dir)
  file(COPY ${LLMHOST_MINGW_RUNTIME_DLLS} DESTINATION ${dir})
endfunction()
