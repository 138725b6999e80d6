// The download state machine (see downloader.hpp). Steps are methods named after what they do;
// each transfer's completion is posted back to the orchestrating thread as an event.
#include "downloader.hpp"

#include "download_checks.hpp"
#include "file_lock.hpp"
#include "hashing.hpp"
#include "local_dir.hpp"
#include "metadata.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace llmhost::hub::detail {

using Clock = std::chrono::steady_clock;

namespace {
struct Active {
    FileJob *job = nullptr;
    std::string url;                 // resolve URL (may change on a relative redirect)
    FileMetadata meta;
    int head_redirects = 0;
    int attempts = 0;                // consecutive failures
    int total_retries = 0;           // all retries of this file: progress never resets it
    bool waiting_logged = false;
    std::unique_ptr<FileLock> lock;
    int fd = -1;
    // Bytes in the partial file: stored by the io thread (body), read by the hashing side.
    std::atomic<std::uint64_t> written{0};
    // The checksum is computed on the orchestrating thread from the page cache, [hashed, written),
    // so hashing runs beside the io thread instead of on it. hash_mutex orders a restart (Range
    // ignored: truncate + reset, on the io thread) against a hashing step.
    std::unique_ptr<ContentHasher> hasher;
    std::uint64_t hashed = 0;
    std::uint64_t notified = 0; // io thread: written at the last wake-up of the hashing side
    std::mutex hash_mutex;
    // Set on the io thread during a GET, read after its completion event:
    int status = 0;
    int write_errno = 0;
    bool overflow = false;
    bool got_data = false;
    std::string error_body;
    fs::path incomplete, final_path, lock_path;
    bool size_counted = false;
    net::Transfer transfer; // the request in flight (cancel() is a no-op once it ended)
};

} // namespace

struct Downloader::Impl {
    Session &s;
    RepoType type;
    std::string repo_id;
    const RepoCache &cache;
    std::optional<fs::path> local_dir;
    std::string task;

    std::mutex mutex;
    std::condition_variable cv;
    std::deque<std::function<void()>> events;            // from the io thread
    std::multimap<Clock::time_point, Active *> timers;   // retries and lock polling
    std::map<Active *, std::function<void(Active &)>> timer_step;
    std::vector<std::unique_ptr<Active>> all;
    std::size_t active = 0, files_done = 0, files_total = 0;
    std::optional<llmh::Error> fatal;
    bool hash_pending = false;          // guarded by mutex: a body grew by kHashWakeBytes
    std::string hash_buffer;
    static constexpr std::uint64_t kHashWakeBytes = 4u << 20;
    std::atomic<std::uint64_t> bytes_done{0};
    std::atomic<std::uint64_t> bytes_total{0};
    Clock::time_point last_progress{};

    Impl(Session &s_, RepoType t, std::string r, const RepoCache &c, std::optional<fs::path> ld, std::string tk)
        : s(s_), type(t), repo_id(std::move(r)), cache(c), local_dir(std::move(ld)), task(std::move(tk)) {}

    ErrorContext ctx(const Active &a) const { return s.context(type, repo_id, a.job->revision, a.job->path); }

    void post(std::function<void()> fn) {
        {
            std::lock_guard<std::mutex> g(mutex);
            events.push_back(std::move(fn));
        }
        cv.notify_one();
    }

    void later(Active &a, net::Millis delay, std::function<void(Active &)> step) {
        timers.emplace(Clock::now() + delay, &a);
        timer_step[&a] = std::move(step);
    }

    void count_size(Active &a, std::uint64_t size) {
        if (a.size_counted) return;
        a.size_counted = true;
        bytes_total += size;
    }

    // ---- endings ----------------------------------------------------------------------------

    void close_file(Active &a) {
        if (a.fd >= 0) ::close(a.fd);
        a.fd = -1;
    }

    void release(Active &a) {
        close_file(a);
        if (a.lock) a.lock->unlock();
        a.lock.reset();
        --active;
    }

    void complete(Active &a) {
        a.job->done = true;
        a.job->commit = a.meta.commit;
        a.job->etag = a.meta.etag;
        ++files_done;
        release(a);
    }

    void fail(Active &a, llmh::Error err) {
        if (!fatal) {
            fatal = std::move(err);
            cancel_all();
        }
        release(a);
    }

    // Drops a job because another one failed or the user cancelled. Keeps .incomplete for resume.
    bool aborted(Active &a) {
        if (!fatal) return false;
        release(a);
        return true;
    }

    // ---- steps --------------------------------------------------------------------------------

    void begin(Active &a) {
        ++active;
        FileJob &j = *a.job;
        try { // every path joins the snapshot or local dir: never "..", absolute, "\\", NUL
            validate_repo_path(j.path);
        } catch (const llmh::Error &e) {
            return fail(a, e);
        }
        a.url = s.endpoint.resolve_url(type, repo_id, j.revision, j.path);
        if (j.known_size) count_size(a, *j.known_size);
        // Already there for this exact commit: no request at all (huggingface_hub does the same).
        if (!local_dir && is_commit_hash(j.revision)) {
            fs::path snap = cache.snapshot_file(j.revision, j.path);
            std::error_code ec;
            if (fs::exists(snap, ec)) {
                a.meta.commit = j.revision;
                a.meta.etag = j.known_etag.value_or("");
                j.result = snap;
                bytes_done += j.known_size.value_or(0);
                ++s.stats.files_cached;
                return complete(a);
            }
        }
        if (local_dir && j.known_etag && local_file_current(a)) {
            a.meta.commit = j.revision;
            a.meta.etag = *j.known_etag;
            j.result = *local_dir / fs::path(j.path);
            bytes_done += j.known_size.value_or(0);
            ++s.stats.files_cached;
            return complete(a);
        }
        head(a);
    }

    void head(Active &a) {
        net::Request req = s.api_request("HEAD", a.url);
        req.timeouts.total = s.opts.etag_timeout;
        start(a, std::move(req), {}, [this, &a](const net::Response &r) { on_head(a, r); });
    }

    void cancel_all() {
        for (auto &x : all) x->transfer.cancel();
    }

    void start(Active &a, net::Request req, net::Handlers h, std::function<void(const net::Response &)> done) {
        h.on_complete = [this, done = std::move(done)](const net::Response &r) {
            post([done, r] { done(r); });
        };
        a.transfer = s.http.start(std::move(req), std::move(h));
    }

    // True when handled: a retry is scheduled, or the job failed (a Retry-After beyond the maximum).
    bool retry_or_fail(Active &a, const net::Response &r, std::function<void(Active &)> step) {
        if (!is_retryable(r)) return false;
        if (auto e = s.wait_too_long(r, ctx(a))) {
            fail(a, *e);
            return true;
        }
        if (a.attempts >= s.opts.retry.max_retries || retry_budget_spent(a)) return false;
        ++a.attempts;
        ++a.total_retries;
        auto wait = s.retry_delay(r, a.attempts);
        s.log(LLMH_LOG_WARN, "'" + a.job->path + "': " +
                                 (r.error != net::Error::none ? r.error_message : "HTTP " + std::to_string(r.status)) +
                                 "; retry " + std::to_string(a.attempts) + "/" + std::to_string(s.opts.retry.max_retries) +
                                 " in " + std::to_string(wait.count()) + " ms");
        later(a, wait, std::move(step));
        return true;
    }

    bool retry_budget_spent(const Active &a) const { return a.total_retries >= s.opts.max_file_retries; }


    void on_head(Active &a, const net::Response &r) {
        if (aborted(a)) return;
        if (r.error != net::Error::none || r.status >= 400) {
            if (retry_or_fail(a, r, [this](Active &x) { head(x); })) return;
            if (r.status == 404 && r.headers.get("X-Error-Code") == std::optional<std::string>("EntryNotFound"))
                if (auto commit = r.headers.get("X-Repo-Commit"); commit && is_commit_hash(*commit) && !local_dir)
                    cache.mark_no_exist(*commit, a.job->path);
            return fail(a, response_error(r, {}, ctx(a)));
        }
        if (is_relative_redirect(r) && a.head_redirects++ < 5) { // a renamed repo
            a.url = net::resolve_url(a.url, *r.headers.get("Location"));
            return head(a);
        }
        auto meta = parse_file_metadata(r, a.url);
        if (!meta)
            return fail(a, llmh::Error(LLMH_ERR_NETWORK,
                                       "the server's answer for '" + a.job->path + "' lacks X-Repo-Commit, ETag or size",
                                       "check HF_ENDPOINT: a proxy may strip the Hub's headers", r.status));
        if (auto bad = check_file_metadata(s.endpoint.base(), a.job->path, *meta)) return fail(a, *bad);
        a.meta = *meta;
        a.attempts = 0;
        a.job->commit = a.meta.commit;
        a.job->etag = a.meta.etag;
        count_size(a, a.meta.size);
        if (!local_dir) {
            a.final_path = cache.blob(a.meta.etag);
            a.incomplete = cache.incomplete(a.meta.etag);
            a.lock_path = cache.lock(a.meta.etag);
            std::error_code ec;
            if (fs::exists(a.final_path, ec)) {
                bytes_done += a.meta.size;
                ++s.stats.files_cached;
                return publish_link(a);
            }
        } else {
            fs::path meta_dir = *local_dir / ".cache" / "huggingface" / "download";
            a.final_path = *local_dir / fs::path(a.job->path);
            a.incomplete = meta_dir / fs::path(a.job->path + "." + a.meta.etag + ".incomplete");
            a.lock_path = meta_dir / fs::path(a.job->path + ".lock");
        }
        lock(a);
    }

    void lock(Active &a) {
        if (aborted(a)) return;
        try {
            if (!a.lock) a.lock = std::make_unique<FileLock>(a.lock_path);
            if (!a.lock->try_lock()) {
                if (!a.waiting_logged)
                    s.log(LLMH_LOG_INFO, "'" + a.job->path + "' is being downloaded by another process; waiting for it");
                a.waiting_logged = true;
                return later(a, net::Millis(100), [this](Active &x) { lock(x); });
            }
            std::error_code ec;
            if (!local_dir && fs::exists(a.final_path, ec)) { // the other process finished it
                bytes_done += a.meta.size;
                ++s.stats.files_cached;
                return publish_link(a);
            }
            open_partial(a);
        } catch (const llmh::Error &e) {
            return fail(a, e);
        }
        if (a.written == a.meta.size) return verify_and_publish(a);
        get(a);
    }

    // Opens blobs/<etag>.incomplete and picks up where an earlier run stopped (re-hashing its bytes).
    void open_partial(Active &a) {
        std::error_code ec;
        fs::create_directories(a.incomplete.parent_path(), ec);
        a.fd = ::open(a.incomplete.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (a.fd < 0) throw disk_error(a, errno);
        struct stat st {};
        ::fstat(a.fd, &st);
        std::uint64_t have = static_cast<std::uint64_t>(st.st_size);
        if (have > a.meta.size) {
            if (::ftruncate(a.fd, 0) != 0) throw disk_error(a, errno);
            have = 0;
        }
        auto kind = s.opts.verify_checksums ? ContentHasher::kind_for_etag(a.meta.etag) : ContentHasher::Kind::none;
        a.hasher = std::make_unique<ContentHasher>(kind, a.meta.size);
        a.hashed = 0; // the kept prefix is hashed by catch_up_hash, like fresh bytes
        if (::lseek(a.fd, static_cast<off_t>(have), SEEK_SET) < 0) throw disk_error(a, errno);
        if (have > 0) s.log(LLMH_LOG_INFO, "resuming '" + a.job->path + "' at byte " + std::to_string(have));
        a.written = have;
        bytes_done += have;
    }

    llmh::Error disk_error(const Active &a, int err) {
        return download_disk_error(a.job->path, a.incomplete.parent_path(), a.meta.size, err);
    }

    void get(Active &a) {
        if (aborted(a)) return;
        net::Request req = s.api_request("GET", a.meta.location);
        req.headers.remove("Accept-Encoding");
        req.follow_redirects = true;
        req.range_from = a.written;
        req.timeouts = net::Timeouts{.connect = s.opts.download_timeout, .total = net::Millis(0),
                                     .idle = s.opts.download_timeout,
                                     .idle_min_bytes = static_cast<long>(std::clamp<std::uint64_t>(
                                         s.opts.min_download_speed, 1, std::uint64_t(1) << 40))};
        a.status = 0;
        a.write_errno = 0;
        a.overflow = false;
        a.got_data = false;
        a.error_body.clear();
        net::Handlers h;
        h.on_headers = [this, &a](int status, const net::Headers &) {
            a.status = status;
            if (status == 200 && a.written > 0) { // Range ignored: start over
                std::lock_guard<std::mutex> g(a.hash_mutex);
                bytes_done -= a.written;
                a.written = 0;
                a.notified = 0;
                a.hasher->reset();
                a.hashed = 0;
                if (::ftruncate(a.fd, 0) != 0 || ::lseek(a.fd, 0, SEEK_SET) < 0) {
                    a.write_errno = errno;
                    return false;
                }
            }
            return true;
        };
        h.on_data = [this, &a](std::string_view chunk) { return write_chunk(a, chunk); };
        start(a, std::move(req), std::move(h), [this, &a](const net::Response &r) { on_get(a, r); });
    }

    // On the io thread: straight to the file, hashed on the way.
    bool write_chunk(Active &a, std::string_view chunk) {
        if (a.status != 200 && a.status != 206) {
            if (a.error_body.size() < 65536) a.error_body.append(chunk.substr(0, 65536 - a.error_body.size()));
            return true;
        }
        if (a.written + chunk.size() > a.meta.size) {
            a.overflow = true;
            return false;
        }
        const char *p = chunk.data();
        std::size_t left = chunk.size();
        while (left > 0) {
            ssize_t n = ::write(a.fd, p, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                a.write_errno = errno;
                return false;
            }
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        std::uint64_t now = a.written.fetch_add(chunk.size(), std::memory_order_release) + chunk.size();
        a.got_data = true;
        bytes_done += chunk.size();
        s.stats.bytes_downloaded += chunk.size();
        if (now - a.notified >= kHashWakeBytes && a.hasher->kind() != ContentHasher::Kind::none) {
            a.notified = now;
            {
                std::lock_guard<std::mutex> g(mutex);
                hash_pending = true;
            }
            cv.notify_one();
        }
        return true;
    }

    void on_get(Active &a, const net::Response &r) {
        if (aborted(a)) return;
        if (a.write_errno) {
            int err = a.write_errno;
            close_file(a);
            ::unlink(a.incomplete.c_str()); // free the space; nothing half-written is published
            bytes_done -= a.written;
            return fail(a, disk_error(a, err));
        }
        if (a.overflow) {
            close_file(a);
            ::unlink(a.incomplete.c_str());
            return fail(a, llmh::Error(LLMH_ERR_NETWORK,
                                       "the server sent more than the announced " + std::to_string(a.meta.size) +
                                           " bytes for '" + a.job->path + "'",
                                       "run the command again; if it persists the server or a proxy is at fault"));
        }
        if (r.error == net::Error::none && r.status == 416) {
            if (a.written == a.meta.size) return verify_and_publish(a);
            bytes_done -= a.written;
            a.written = 0;
            a.notified = 0;
            a.hasher->reset();
            a.hashed = 0;
            if (::ftruncate(a.fd, 0) != 0 || ::lseek(a.fd, 0, SEEK_SET) < 0) return fail(a, disk_error(a, errno));
        }
        if (a.got_data) a.attempts = 0; // progress was made: the count of consecutive failures restarts
        bool short_body = r.error == net::Error::none && (r.status == 200 || r.status == 206) && a.written < a.meta.size;
        if (r.error != net::Error::none || r.status >= 400 || r.status == 416 || short_body) {
            net::Response as_error = r;
            if (short_body) { // a truncated body: resume it like a dropped connection
                as_error.error = net::Error::network;
                as_error.error_message = "body ended after " + std::to_string(a.written) + " of " +
                                         std::to_string(a.meta.size) + " bytes";
            }
            if (retry_or_fail(a, as_error, [this](Active &x) { get(x); })) return;
            if (is_retryable(as_error) && retry_budget_spent(a) && a.total_retries > 0)
                return fail(a, retry_budget_error(repo_id, a.job->path, a.total_retries,
                                                  as_error.error != net::Error::none ? as_error.error_message
                                                                                     : "HTTP " + std::to_string(r.status),
                                                  a.written, a.meta.size));
            if (short_body)
                return fail(a, llmh::Error(LLMH_ERR_NETWORK,
                                           "consistency check failed for '" + a.job->path + "': got " +
                                               std::to_string(a.written) + " of " + std::to_string(a.meta.size) + " bytes",
                                           "run the command again to resume the download"));
            return fail(a, response_error(r, a.error_body, ctx(a)));
        }
        verify_and_publish(a);
    }

    // Hashes [hashed, written) of the partial file (page cache, 1 MiB at a time), at most `budget`
    // bytes. On the orchestrating thread only.
    void catch_up_hash(Active &a, std::uint64_t budget) {
        if (!a.hasher || a.hasher->kind() == ContentHasher::Kind::none || a.fd < 0) return;
        std::lock_guard<std::mutex> g(a.hash_mutex);
        if (hash_buffer.empty()) hash_buffer.resize(1 << 20);
        std::uint64_t end = a.written.load(std::memory_order_acquire);
        while (a.hashed < end && budget > 0) {
            std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>({hash_buffer.size(), end - a.hashed, budget}));
            ssize_t n = ::pread(a.fd, hash_buffer.data(), want, static_cast<off_t>(a.hashed));
            if (n <= 0) break; // verify_and_publish then sees hashed != written: a mismatch
            a.hasher->update(std::string_view(hash_buffer.data(), static_cast<std::size_t>(n)));
            a.hashed += static_cast<std::uint64_t>(n);
            budget -= static_cast<std::uint64_t>(n);
        }
    }

    void verify_and_publish(Active &a) {
        catch_up_hash(a, ~std::uint64_t(0));
        std::string digest = a.hasher ? a.hasher->hex_digest() : std::string();
        if (!digest.empty() && !same_hex(digest, a.meta.etag)) {
            close_file(a);
            ::unlink(a.incomplete.c_str());
            return fail(a, llmh::Error(LLMH_ERR_NETWORK,
                                       "checksum mismatch for '" + a.job->path + "' of '" + repo_id + "': expected " +
                                           a.meta.etag + ", got " + digest + "; the corrupt download was deleted",
                                       "run the command again; if it persists, the server (or HF_ENDPOINT mirror) "
                                       "serves damaged data"));
        }
        ::fchmod(a.fd, blob_mode());
        close_file(a);
        std::error_code ec;
        fs::create_directories(a.final_path.parent_path(), ec);
        if (::rename(a.incomplete.c_str(), a.final_path.c_str()) != 0) return fail(a, disk_error(a, errno));
        ++s.stats.files_downloaded;
        publish_link(a);
    }

    void publish_link(Active &a) {
        try {
            if (!local_dir) {
                cache.link_snapshot(a.meta.commit, a.job->path, a.meta.etag);
                a.job->result = cache.snapshot_file(a.meta.commit, a.job->path);
            } else {
                write_local_metadata(a);
                a.job->result = a.final_path;
            }
        } catch (const llmh::Error &e) {
            return fail(a, e);
        }
        complete(a);
    }

    void write_local_metadata(Active &a) {
        write_local_download_metadata(*local_dir, a.job->path, a.meta.commit, a.meta.etag);
    }

    bool local_file_current(const Active &a) {
        return local_download_is_current(*local_dir, a.job->path, *a.job->known_etag);
    }

    // ---- the loop -----------------------------------------------------------------------------

    void report_progress(bool force) {
        if (!s.progress) return;
        auto now = Clock::now();
        if (!force && now - last_progress < net::Millis(100)) return;
        last_progress = now;
        s.progress(Progress{task, bytes_done.load(), std::max(bytes_total.load(), bytes_done.load()), files_done, files_total});
    }

    void run(std::vector<FileJob> &jobs) {
        files_total = jobs.size();
        for (auto &j : jobs) {
            auto a = std::make_unique<Active>();
            a->job = &j;
            all.push_back(std::move(a));
        }
        for (auto &a : all)
            if (a->job->known_size) { bytes_total += *a->job->known_size; a->size_counted = true; }
        std::size_t next = 0;
        const std::size_t parallel = std::max(1u, s.opts.max_parallel);
        while (true) {
            if (!fatal && s.cancelled()) {
                fatal = cancelled_error();
                cancel_all();
            }
            while (!fatal && active < parallel && next < all.size()) begin(*all[next++]);
            if (fatal) { // drop jobs parked on a timer
                for (auto &[when, a] : timers) release(*a);
                timers.clear();
                timer_step.clear();
            }
            if (active == 0 && (next >= all.size() || fatal)) break;
            std::deque<std::function<void()>> batch;
            {
                std::unique_lock<std::mutex> lk(mutex);
                auto until = Clock::now() + net::Millis(100);
                if (!timers.empty()) until = std::min(until, timers.begin()->first);
                cv.wait_until(lk, until, [&] { return !events.empty() || hash_pending; });
                batch.swap(events);
                hash_pending = false;
            }
            for (auto &ev : batch) ev();
            // Keep each file's checksum close behind its download (bounded per round, so events
            // are not delayed by a long catch-up).
            for (auto &x : all)
                if (x->fd >= 0) catch_up_hash(*x, 32u << 20);
            while (!timers.empty() && timers.begin()->first <= Clock::now()) {
                Active *a = timers.begin()->second;
                timers.erase(timers.begin());
                auto step = std::move(timer_step[a]);
                timer_step.erase(a);
                step(*a);
            }
            report_progress(false);
        }
        report_progress(true);
        if (fatal) throw *fatal;
    }
};

Downloader::Downloader(Session &s, RepoType t, std::string repo_id, const RepoCache &cache,
                       std::optional<fs::path> local_dir, std::string task)
    : impl_(std::make_unique<Impl>(s, t, std::move(repo_id), cache, std::move(local_dir), std::move(task))) {}

Downloader::~Downloader() = default;

void Downloader::run(std::vector<FileJob> &jobs) { impl_->run(jobs); }

} // namespace llmhost::hub::detail
