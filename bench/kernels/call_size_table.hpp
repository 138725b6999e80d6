// bench_kernels --calls R: the cost of a call, by its size. See call_size_table.cpp.
#pragma once

namespace bench {

// R rounds at `threads` threads (the engine's pool); prints a table. rounds >= 1.
void call_size_table(int threads, int rounds);

} // namespace bench
