#include "terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

namespace llmhost::cli::terminal {

std::vector<std::string> prepare(int argc, char **argv) { return {argv, argv + argc}; }

bool is_terminal(std::FILE *stream) { return stream && ::isatty(::fileno(stream)) == 1; }

int columns(std::FILE *stream) {
    struct winsize ws {};
    if (stream && ::ioctl(::fileno(stream), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 0;
}

} // namespace llmhost::cli::terminal
