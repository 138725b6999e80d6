// `llmhost keys add` / `llmhost keys list`: the keys file of `llmhost serve --keys-file`
// (docs/serving.md). The key never touches argv: it is generated here (printed once) or read
// from stdin; only its salted hash is written.
#include "cli_common.hpp"
#include "console.hpp"

#include <llmhost/server/keys_file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <memory>

namespace llmhost::cli {

namespace {

struct KeysAddOptions {
    std::string name, providers, file;
    uint32_t rpm = 0;
    uint64_t tpm = 0;
    bool from_stdin = false;
};

std::string read_stdin_key() {
    std::string key((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    if (key.size() < server::kMinKeyLength || key.size() > 512)
        throw UsageError("the key on stdin must be " + std::to_string(server::kMinKeyLength) +
                             " to 512 characters",
                         "a short key can be guessed from its hash; leave out --stdin and a "
                         "random 256-bit key is made for you");
    for (unsigned char c : key)
        if (c <= 0x20 || c >= 0x7f)
            throw UsageError("the key on stdin has a space or a non-ASCII character",
                             "a key travels in an HTTP header: printable ASCII without spaces");
    return key;
}

// Appends `line` to `path` (created 0600), refusing a file that is not valid or has `name`.
void append_entry(const std::string &path, const std::string &name, const std::string &line) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        server::KeysFile kf;
        try {
            kf = server::load_keys_file(path, true);
        } catch (const server::KeysFileError &e) {
            throw UsageError(e.what(), "fix the file first; nothing was added");
        }
        for (const auto &e : kf.entries)
            if (e.name == name)
                throw UsageError("'" + name + "' is already in " + path + " (line " +
                                     std::to_string(e.line) + ")",
                                 "pick another --name, or delete that line to replace the key");
        for (const auto &w : kf.warnings) Console::get().err_line("warning: " + w);
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        throw UsageError("cannot write " + path + ": " + std::strerror(errno),
                         "give a writable --file");
    std::string out = line + "\n";
    if (st.st_size > 0) { // a file whose last line lacks its newline would join the two lines
        char last = '\n';
        int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (rfd >= 0) {
            if (::pread(rfd, &last, 1, st.st_size - 1) != 1) last = '\n';
            ::close(rfd);
        }
        if (last != '\n') out.insert(0, "\n");
    }
    ssize_t n = ::write(fd, out.data(), out.size());
    int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(out.size()))
        throw UsageError("cannot write " + path + ": " + std::strerror(err));
}

void run_add(const KeysAddOptions &opt) {
    Console &console = Console::get();
    const std::string key = opt.from_stdin ? read_stdin_key() : server::generate_key();
    server::KeyEntry e;
    e.name = opt.name;
    e.hash = server::hash_key(key);
    e.rpm = opt.rpm;
    e.tpm = opt.tpm;
    std::string providers = opt.providers;
    e.providers = {providers};
    // The file's own parser validates the new line: one rule for what a valid entry is.
    std::string line = server::format_key_entry(e);
    try {
        server::parse_keys_file(line, "the new entry");
    } catch (const server::KeysFileError &err) {
        throw UsageError(err.what(), "see `llmhost keys add --help`");
    }
    if (opt.file.empty()) {
        console.out_line(line);
        if (!opt.from_stdin)
            std::fprintf(stderr, "key for '%s' (shown only this once): %s\n", opt.name.c_str(),
                         key.c_str());
        return;
    }
    append_entry(opt.file, opt.name, line);
    if (!opt.from_stdin) { // stdout carries the key alone, for KEY=$(llmhost keys add ...)
        std::fputs((key + "\n").c_str(), stdout);
        std::fflush(stdout);
    }
    console.err_line("added '" + opt.name + "' to " + opt.file +
                     (opt.from_stdin ? "" : "; the key above is shown only this once") +
                     " (a running llmhost serve picks it up on SIGHUP)");
}

void run_list(const std::string &path) {
    Console &console = Console::get();
    server::KeysFile kf;
    try {
        kf = server::load_keys_file(path, true);
    } catch (const server::KeysFileError &e) {
        throw UsageError(e.what());
    }
    for (const auto &w : kf.warnings) console.err_line("warning: " + w);
    std::vector<std::vector<std::string>> rows = {{"NAME", "PROVIDERS", "RPM", "TPM", "LINE"}};
    for (const auto &e : kf.entries) {
        std::string providers;
        for (const auto &p : e.providers) providers += (providers.empty() ? "" : ",") + p;
        rows.push_back({e.name, providers, std::to_string(e.rpm),
                        e.tpm ? std::to_string(e.tpm) : "-", std::to_string(e.line)});
    }
    console.out(format_table(rows));
}

void register_keys(CLI::App &app, Context &) {
    auto *keys =
        app.add_subcommand("keys", "Make and inspect the keys file of llmhost serve --keys-file");
    keys->require_subcommand(1);

    auto add_opt = std::make_shared<KeysAddOptions>();
    auto *add = keys->add_subcommand(
        "add",
        "Make a client key: a random one printed once (or one read with --stdin), stored hashed");
    add->add_option("--name", add_opt->name, "The key's name in metrics and the request log")
        ->required();
    add->add_option("--providers", add_opt->providers,
                    "Providers or routes it may use, comma-separated; * for all")
        ->required();
    add->add_option("--rpm", add_opt->rpm, "Requests per minute")->required();
    add->add_option("--tpm", add_opt->tpm,
                    "Tokens per minute (prompt + completion); default: no limit");
    add->add_option("--file", add_opt->file,
                    "Append the entry to this keys file (created 0600); without it the entry is "
                    "printed on stdout and the key on stderr")
        ->option_text("PATH");
    add->add_flag("--stdin", add_opt->from_stdin,
                  "Read the key from stdin instead of making one (at least 32 characters)");
    add->footer("Examples:\n"
                "  llmhost keys add --name alice --providers local,cloud --rpm 60 --file keys.txt\n"
                "  printf %s \"$KEY\" | llmhost keys add --stdin --name ci --providers '*' --rpm "
                "600 --file keys.txt");
    add->callback([add_opt] { run_add(*add_opt); });

    auto path = std::make_shared<std::string>();
    auto *list = keys->add_subcommand(
        "list", "Show the names, scopes and limits of a keys file (never the hashes)");
    list->add_option("FILE", *path, "The keys file")->required();
    list->callback([path] { run_list(*path); });
}

} // namespace

} // namespace llmhost::cli

LLMHOST_CLI_COMMAND(keys, llmhost::cli::register_keys)
