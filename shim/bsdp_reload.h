// SPDX-License-Identifier: MPL-2.0
// Reloading the catalogue: on bsdp-reload, and every rescan-interval
// seconds when the cheap fingerprint of sets-directory (plist/nbi_watch.h)
// changed. A new catalogue is built off the packet path and published with
// one atomic swap (Impl::publish); packets in flight keep their snapshot.
// The catalogue published last is also what the next scan falls back on
// for a set that no longer reads (served on, marked stale): no other state
// is kept across reloads. While sets-directory has never been read (at
// load it could not be), the same thread retries every SETS_RETRY_SECONDS
// (or rescan-interval when smaller), whatever rescan-interval is.
#ifndef BSDP_RELOAD_H
#define BSDP_RELOAD_H

#include "bsdp_impl.h"
#include "bsdp_timer.h"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace isc {
namespace bsdp {

// The longest wait between two tries to read a sets-directory that could
// not be read yet (documented in BSDP_SETS_UNAVAILABLE).
const int64_t SETS_RETRY_SECONDS = 5;

struct ReloadResult {
    bool ok = false;
    size_t images = 0;
    size_t skipped = 0;
    size_t warnings = 0;
    size_t stale = 0;        // images served from their last good version
    double seconds = 0;
    std::string error;       // when !ok: names the parameter (sets-directory)
};

class Reloader {
public:
    explicit Reloader(const ImplPtr& impl);
    ~Reloader();
    Reloader(const Reloader&) = delete;
    Reloader& operator=(const Reloader&) = delete;

    // Scans sets-directory and publishes the result; when the directory
    // cannot be read the old catalogue stays. Logs either way. One scan at
    // a time; any thread. trigger says who asked (for the log).
    ReloadResult reload(const std::string& trigger);

    // With rescan-interval > 0, or while sets-directory has not been read:
    // starts the watch thread, and a Kea timer that copies the catalogue
    // gauges into StatsMgr on the main thread.
    void start();
    // Stops and joins the watch thread (waits for a scan in progress) and
    // removes the timer. Idempotent.
    void stop();

    // Seconds between tries while sets-directory has not been read.
    int64_t retrySeconds() const { return (retry_); }

    // Copies gauges left by a reload on another thread into StatsMgr.
    // Main thread only: StatsMgr does not lock when Kea runs single-threaded.
    void applyGauges();

private:
    ReloadResult reloadLocked(const std::string& trigger);
    void reloadIfChanged();
    void retryUnavailable();
    void logUnavailable(const std::string& reason);
    void run();

    ImplPtr impl_;
    std::string dir_;
    int64_t interval_;
    int64_t retry_;                  // seconds between tries while !impl_->available()
    std::string unavailable_logged_; // the reason BSDP_SETS_UNAVAILABLE said last

    std::mutex reload_mutex_;        // one scan at a time; guards the fingerprint
    int fp_rc_ = 1;                  // 1 = none taken yet
    uint64_t fp_ = 0;

    std::mutex mutex_;               // guards stopping_
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
    MainThreadTimer timer_;          // the gauges reach StatsMgr on Kea's thread

    std::mutex gauges_mutex_;
    bool gauges_pending_ = false;
    size_t gauge_images_ = 0;
    size_t gauge_skipped_ = 0;
};

} // namespace bsdp
} // namespace isc

#endif // BSDP_RELOAD_H
