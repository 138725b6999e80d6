// The console, as far as it differs between Linux and Windows: terminal_posix.cpp and
// terminal_windows.cpp. Everything the CLI prints and reads is UTF-8.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace llmhost::cli::terminal {

// Once, first thing in main(): on Windows, sets the console to UTF-8 output and returns the
// command line as UTF-8 (argv there is in the ANSI code page); elsewhere, argv as it is.
std::vector<std::string> prepare(int argc, char **argv);

// Is the stream an interactive terminal (a console on Windows)?
bool is_terminal(std::FILE *stream);

// Its width in columns; 0 when unknown (not a terminal).
int columns(std::FILE *stream);

} // namespace llmhost::cli::terminal
