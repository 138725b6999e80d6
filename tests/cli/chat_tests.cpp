// `llmhost chat` over a pipe: the history sent as messages, /reset, SIGHUP reloading the config
// between turns (a live provider swap), a failed reload keeping the old provider, and Ctrl-C
// (SIGINT) cancelling an answer without ending the session.
#include "sandbox.hpp"

#include <csignal>
#include <functional>

using namespace cli_test;

namespace {
bool contains(const std::string &s, const std::string &needle) { return s.find(needle) != std::string::npos; }

void use_history_plugin(Sandbox &sb) {
    fs::copy_file(HISTORY_PLUGIN_PATH, sb.plugins / fs::path(HISTORY_PLUGIN_PATH).filename());
    sb.write_config(R"({ "default_provider": "hist",
                         "providers": { "hist": { "plugin": "history", "config": {} } } })");
}
} // namespace

TEST_CASE("chat over a pipe sends the whole history as messages, /reset clears it") {
    Sandbox sb;
    use_history_plugin(sb);
    auto r = sb.llmhost({"chat"}, "first\nsecond question\n\n/reset\nthird\n");
    INFO(r.out << "\n--- stderr\n" << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out ==
          "n=1 roles=user prev=- last=first\n"
          "n=3 roles=user,assistant,user prev=n=1 last=second question\n"
          "n=1 roles=user prev=- last=third\n");
    CHECK(contains(r.err, "(history cleared)"));
}

TEST_CASE("chat --system starts every conversation with the system message, also after /reset") {
    Sandbox sb;
    use_history_plugin(sb);
    auto r = sb.llmhost({"chat", "--system", "be brief"}, "a\nb\n/reset\nc\n/exit\nnever sent\n");
    CHECK(r.exit_code == 0);
    CHECK(r.out ==
          "n=2 roles=system,user prev=- last=a\n"
          "n=4 roles=system,user,assistant,user prev=n=2 last=b\n"
          "n=2 roles=system,user prev=- last=c\n");
}

TEST_CASE("chat with the echo provider answers each line, and the end of input ends it") {
    Sandbox sb;
    sb.write_echo_config(R"({"prefix": "> "})");
    auto r = sb.llmhost({"chat"}, "hello there\nsecond line");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "> hello there\n> second line\n");
}

// A chat answers with v1, its config changes, `reload` asks for a re-read, and the next answer
// comes from the new provider; the reload request itself never reaches the model.
static void check_reload_between_turns(const std::function<void(Child &)> &reload) {
    Sandbox sb;
    sb.write_echo_config(R"({"prefix": "v1: "})");
    Child c(sb.argv({"chat"}), sb.env, sb.dir.string());
    c.write_stdin("hello\n");
    REQUIRE(c.wait_for_stdout("v1: hello\n"));

    sb.write_echo_config(R"({"prefix": "v2: "})");
    reload(c);
    REQUIRE(c.wait_for_stderr("configuration reloaded from " + sb.config.string()));

    c.write_stdin("again\n");
    REQUIRE(c.wait_for_stdout("v2: again\n"));
    c.write_stdin("/exit\n");
    CHECK(c.wait() == 0);
    CHECK(c.out() == "v1: hello\nv2: again\n");
    check_no_secret("stdout", c.out());
    check_no_secret("stderr", c.err());
}

TEST_CASE("chat: SIGHUP re-reads the config between turns and the next answer uses the new provider") {
    check_reload_between_turns([](Child &c) { c.signal(SIGHUP); });
}

TEST_CASE("chat: /reload re-reads the config like SIGHUP (the way on Windows, which has none)") {
    check_reload_between_turns([](Child &c) { c.write_stdin("/reload\n"); });
}

TEST_CASE("chat: a reload that fails keeps the previous provider serving") {
    Sandbox sb;
    sb.write_echo_config(R"({"prefix": "old: "})");
    Child c(sb.argv({"chat"}), sb.env, sb.dir.string());
    c.write_stdin("one\n");
    REQUIRE(c.wait_for_stdout("old: one\n"));

    sb.write_config("{ \"providers\": { \"echo\": { \"plugin\": \"echo\", \"config\": { \"prefix\": ");
    c.signal(SIGHUP);
    REQUIRE(c.wait_for_stderr("configuration reload failed"));
    CHECK(contains(c.err(), sb.config.string() + ":")); // says where the file is broken

    c.write_stdin("two\n");
    REQUIRE(c.wait_for_stdout("old: two\n"));

    // An instance that cannot be created: the swap fails, the old instance keeps serving.
    sb.write_echo_config(R"({"prefix": "new: ", "fail_create": true})");
    c.signal(SIGHUP);
    REQUIRE(c.wait_for_stderr("fail_create"));
    c.write_stdin("three\n");
    REQUIRE(c.wait_for_stdout("old: three\n"));
    c.close_stdin();
    CHECK(c.wait() == 0);
}

TEST_CASE("chat: Ctrl-C cancels the answer being generated, not the session") {
    Sandbox sb;
    sb.write_echo_config(R"({"loop": true, "delay_ms": 20})");
    Child c(sb.argv({"chat", "--max-tokens", "100000"}), sb.env, sb.dir.string());
    c.write_stdin("tick tock\n");
    REQUIRE(c.wait_for_stdout("tick tock tick"));
    c.signal(SIGINT);
    REQUIRE(c.wait_for_stderr("answer cancelled"));

    c.write_stdin("/reset\n");
    REQUIRE(c.wait_for_stderr("(history cleared)"));
    // Still alive and serving: swap to a non-looping echo and ask again.
    sb.write_echo_config(R"({"prefix": "after: "})");
    c.signal(SIGHUP);
    REQUIRE(c.wait_for_stderr("configuration reloaded"));
    c.write_stdin("done\n");
    REQUIRE(c.wait_for_stdout("after: done\n"));
    c.close_stdin();
    CHECK(c.wait() == 0);
}
