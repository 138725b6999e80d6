// Runs the `llmhost` binary as a child process with pipes on stdin, stdout and stderr, so tests
// see exactly what a user sees, can talk to `llmhost chat` turn by turn and send it signals.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace cli_test {

// Environment changes for the child: a value sets the variable, nullopt removes it.
using EnvChanges = std::map<std::string, std::optional<std::string>>;

class Child {
public:
    Child(const std::vector<std::string> &argv, const EnvChanges &env, const std::string &cwd);
    ~Child(); // kills the child if it is still running
    Child(const Child &) = delete;
    Child &operator=(const Child &) = delete;

    void write_stdin(std::string_view data);
    void close_stdin();
    void signal(int sig);

    // Reads output until `needle` appears in stdout (or stderr) or the timeout passes.
    bool wait_for_stdout(std::string_view needle, double timeout_s = 20);
    bool wait_for_stderr(std::string_view needle, double timeout_s = 20);
    // Waits for the exit (reading all output); kills it after the timeout. The exit code, or
    // 128 + signal number when it was killed by a signal, -1 when it had to be killed here.
    int wait(double timeout_s = 60);

    const std::string &out() const { return out_; }
    const std::string &err() const { return err_; }
    // Seconds since start at which stdout first received data (-1: never).
    double first_stdout_s() const { return first_stdout_s_; }
    double elapsed_s() const;

private:
    // Reads what is available for up to timeout_s; returns false when both pipes are closed.
    bool pump(double timeout_s);
    bool wait_for(const std::string &stream, std::string_view needle, double timeout_s);

    pid_t pid_ = -1;
    int in_ = -1, outfd_ = -1, errfd_ = -1;
    std::string out_, err_;
    double started_ = 0;
    double first_stdout_s_ = -1;
    int status_ = -1;
    bool exited_ = false;
};

struct Result {
    int exit_code = -1;
    std::string out, err;
};

// Runs to completion with `stdin_data` on stdin (then EOF).
Result run(const std::vector<std::string> &argv, const EnvChanges &env, const std::string &cwd,
           std::string_view stdin_data = {}, double timeout_s = 60);

} // namespace cli_test
