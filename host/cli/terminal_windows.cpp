#include "terminal.hpp"

#include <windows.h>

#include <io.h>
#include <shellapi.h>

namespace llmhost::cli::terminal {

namespace {
std::string narrow(const wchar_t *wide) {
    int n = WideCharToMultiByte(CP_UTF8, 0, wide, -1, nullptr, 0, nullptr, nullptr);
    if (n <= 1) return {};
    std::string out(static_cast<size_t>(n - 1), '\0');
    WideCharToMultiByte(CP_UTF8, 0, wide, -1, out.data(), n, nullptr, nullptr);
    return out;
}

HANDLE handle_of(std::FILE *stream) {
    if (!stream) return INVALID_HANDLE_VALUE;
    return reinterpret_cast<HANDLE>(_get_osfhandle(_fileno(stream)));
}
} // namespace

std::vector<std::string> prepare(int argc, char **argv) {
    // UTF-8 bytes written to the console show as text, not as code-page mojibake.
    SetConsoleOutputCP(CP_UTF8);
    SetConsoleCP(CP_UTF8);
    int n = 0;
    wchar_t **wide = CommandLineToArgvW(GetCommandLineW(), &n);
    if (!wide) return {argv, argv + argc};
    std::vector<std::string> args;
    for (int i = 0; i < n; ++i) args.push_back(narrow(wide[i]));
    LocalFree(wide);
    return args;
}

bool is_terminal(std::FILE *stream) {
    DWORD mode = 0; // _isatty() is also true for NUL; a console handle has a console mode
    return GetConsoleMode(handle_of(stream), &mode) != 0;
}

int columns(std::FILE *stream) {
    CONSOLE_SCREEN_BUFFER_INFO info{};
    if (!GetConsoleScreenBufferInfo(handle_of(stream), &info)) return 0;
    return info.srWindow.Right - info.srWindow.Left + 1;
}

} // namespace llmhost::cli::terminal
