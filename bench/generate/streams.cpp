// Concurrent streams against one engine (streams.hpp).
#include "streams.hpp"

#include "prompts.hpp"

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace bench {

StreamRun aggregate_tok_s(llmhost::engine::Engine &e, int streams, int prompt_len, int decode) {
    using Clock = std::chrono::steady_clock;
    std::atomic<int> ready{0};
    std::atomic<long> tokens{0};
    std::mutex mu;
    StreamRun run;
    std::vector<std::thread> threads;
    Clock::time_point t0; // set by the last thread to arrive, read after the joins
    std::exception_ptr error; // the first request that failed (rethrown here, not terminate())
    for (int s = 0; s < streams; ++s)
        threads.emplace_back([&, s] {
            const std::vector<std::int32_t> prompt = prompt_ids(prompt_len, 101 * s);
            llmhost::engine::GenerateOptions o;
            o.max_tokens = decode;
            if (++ready == streams) t0 = Clock::now();
            while (ready.load() < streams) std::this_thread::yield();
            try {
                const auto r = e.generate(prompt, o);
                tokens += static_cast<long>(r.tokens.size());
                std::lock_guard lk(mu);
                run.decode_ms_sum += r.decode_ms;
                run.decode_tokens += static_cast<long>(r.tokens.size()) - 1;
            } catch (...) {
                std::lock_guard lk(mu);
                if (!error) error = std::current_exception();
            }
        });
    for (auto &t : threads) t.join();
    if (error) std::rethrow_exception(error);
    run.tok_s = tokens.load() / std::chrono::duration<double>(Clock::now() - t0).count();
    return run;
}

} // namespace bench
