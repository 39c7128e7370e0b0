// SPDX-License-Identifier: MPL-2.0
#include "bsdp_reload.h"

#include "bsdp_log.h"
#include "bsdp_stats.h"

#include "plist/nbi_watch.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>


namespace isc {
namespace bsdp {

namespace {

// One timer name per process: only one instance of the library is loaded.
const char* const GAUGE_TIMER = "bsdp-catalogue-gauges";
// How soon after a background reload the gauges reach StatsMgr.
const long GAUGE_TIMER_MS = 1000;
// The trigger of the rescan thread's tries while sets-directory is unread.
const std::string RETRY_TRIGGER = "retry";

std::string
milliseconds(double seconds) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f", seconds * 1000.0);
    return (buf);
}

// Logs where a stale episode starts or ends between the catalogue served so
// far and the fresh one: once per set and episode, not at every rescan.
// Both hold their images in byte order of set folder (plist/nbi_scan.c).
void
logStaleChanges(const struct bsdp_catalogue* old, const struct bsdp_catalogue* fresh) {
    size_t n_old = old ? old->n_images : 0;
    size_t i = 0;
    size_t j = 0;
    while (i < n_old || j < fresh->n_images) {
        const struct bsdp_image* was = i < n_old ? &old->images[i] : nullptr;
        const struct bsdp_image* now = j < fresh->n_images ? &fresh->images[j] : nullptr;
        int cmp = !was ? 1 : !now ? -1 : std::strcmp(was->set_dir, now->set_dir);
        if (cmp < 0) {
            if (was->stale.reason) {
                LOG_INFO(bsdp_logger, BSDP_SET_STALE_DROPPED)
                    .arg(was->stale.path).arg(utcText(was->stale_since));
            }
            ++i;
            continue;
        }
        if (cmp == 0) {
            ++i;
        } else {
            was = nullptr;
        }
        ++j;
        bool was_stale = was && was->stale.reason;
        if (now->stale.reason && !was_stale) {
            LOG_WARN(bsdp_logger, BSDP_SET_STALE)
                .arg(now->stale.path).arg(now->stale.reason).arg(utcText(now->stale_since));
        } else if (!now->stale.reason && was_stale) {
            LOG_INFO(bsdp_logger, BSDP_SET_RECOVERED)
                .arg(was->stale.path).arg(utcText(was->stale_since));
        }
    }
}

} // namespace

Reloader::Reloader(const ImplPtr& impl)
    : impl_(impl), dir_(impl->params().sets_directory),
      interval_(impl->params().rescan_interval),
      retry_(interval_ > 0 ? std::min(interval_, SETS_RETRY_SECONDS) : SETS_RETRY_SECONDS) {
    // The baseline for the watch: taken right after load()'s scan, so only
    // a change in that instant could go unseen until the next one.
    std::lock_guard<std::mutex> lk(reload_mutex_);
    fp_rc_ = bsdp_nbi_fingerprint(dir_.c_str(), &fp_);
    if (!impl_->available()) {
        logUnavailable(impl_->setsError());
    }
}

void
Reloader::logUnavailable(const std::string& reason) {
    unavailable_logged_ = reason;
    LOG_ERROR(bsdp_logger, BSDP_SETS_UNAVAILABLE).arg(dir_).arg(reason).arg(retry_);
}

Reloader::~Reloader() {
    try {
        stop();
    } catch (...) {
    }
}

ReloadResult
Reloader::reload(const std::string& trigger) {
    std::lock_guard<std::mutex> lk(reload_mutex_);
    return (reloadLocked(trigger));
}

ReloadResult
Reloader::reloadLocked(const std::string& trigger) {
    ReloadResult res;
    auto t0 = std::chrono::steady_clock::now();
    // Fingerprint before the scan: a change made during the scan then
    // shows up as a difference at the next check.
    uint64_t fp = 0;
    fp_rc_ = bsdp_nbi_fingerprint(dir_.c_str(), &fp);
    fp_ = fp;
    // Only reloads (one at a time) publish, so old stays the catalogue
    // served until this one replaces it; the reference keeps it alive.
    CatalogueConstPtr old = impl_->catalogue();
    bool was_available = impl_->available();
    struct bsdp_catalogue* fresh = nullptr;
    std::string reason;
    try {
        fresh = impl_->scan(old.get());
    } catch (const SetsUnreadable& ex) {
        res.error = ex.what();
        reason = ex.reason();
    } catch (const std::exception& ex) {
        res.error = ex.what();
        reason = ex.what();
    }
    if (!fresh) {
        if (was_available) {
            LOG_ERROR(bsdp_logger, BSDP_RELOAD_FAILED)
                .arg(dir_).arg(trigger).arg(old ? old->n_images : 0).arg(res.error);
        } else {
            impl_->setSetsError(reason);
            // Not every few seconds: only news, or an answer to the operator.
            if (reason != unavailable_logged_ || trigger != RETRY_TRIGGER) {
                logUnavailable(reason);
            }
        }
        return (res);
    }
    res.images = fresh->n_images;
    res.skipped = fresh->n_skipped;
    res.warnings = fresh->n_warnings;
    for (size_t i = 0; i < fresh->n_images; ++i) {
        res.stale += fresh->images[i].stale.reason ? 1 : 0;
    }
    try {
        logStaleChanges(old.get(), fresh);
    } catch (...) {
        // A log failure must not lose the scan.
    }
    impl_->publish(fresh);
    if (!was_available) {
        LOG_INFO(bsdp_logger, BSDP_SETS_AVAILABLE).arg(dir_).arg(trigger);
    }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    res.ok = true;
    {
        std::lock_guard<std::mutex> g(gauges_mutex_);
        gauges_pending_ = true;
        gauge_images_ = res.images;
        gauge_skipped_ = res.skipped;
    }
    LOG_INFO(bsdp_logger, BSDP_RELOADED)
        .arg(dir_).arg(trigger).arg(res.images).arg(res.skipped).arg(res.warnings)
        .arg(milliseconds(res.seconds));
    return (res);
}

void
Reloader::reloadIfChanged() {
    std::lock_guard<std::mutex> lk(reload_mutex_);
    uint64_t fp = 0;
    int rc = bsdp_nbi_fingerprint(dir_.c_str(), &fp);
    if (rc == fp_rc_ && (rc != 0 || fp == fp_)) {
        return;
    }
    LOG_DEBUG(bsdp_logger, isc::log::DBGLVL_TRACE_BASIC, BSDP_RESCAN_CHANGED).arg(dir_);
    reloadLocked("change detected");
}

void
Reloader::retryUnavailable() {
    std::lock_guard<std::mutex> lk(reload_mutex_);
    if (!impl_->available()) {   // bsdp-reload may have read it meanwhile
        reloadLocked(RETRY_TRIGGER);
    }
}

void
Reloader::applyGauges() {
    size_t images = 0;
    size_t skipped = 0;
    {
        std::lock_guard<std::mutex> g(gauges_mutex_);
        if (!gauges_pending_) {
            return;
        }
        gauges_pending_ = false;
        images = gauge_images_;
        skipped = gauge_skipped_;
    }
    stats::setGauges(images, skipped);
}

void
Reloader::start() {
    if ((interval_ <= 0 && impl_->available()) || thread_.joinable()) {
        return;
    }
    {
        std::lock_guard<std::mutex> lk(mutex_);
        stopping_ = false;
    }
    timer_.start(GAUGE_TIMER, GAUGE_TIMER_MS, [this]() { applyGauges(); });
    thread_ = std::thread(&Reloader::run, this);
    if (interval_ > 0) {
        LOG_INFO(bsdp_logger, BSDP_RESCAN_STARTED).arg(dir_).arg(interval_);
    }
}

void
Reloader::stop() {
    if (thread_.joinable()) {
        {
            std::lock_guard<std::mutex> lk(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        thread_.join();
        LOG_DEBUG(bsdp_logger, isc::log::DBGLVL_START_SHUT, BSDP_RESCAN_STOPPED).arg(dir_);
    }
    timer_.stop();
}

void
Reloader::run() {
    std::unique_lock<std::mutex> lk(mutex_);
    while (!stopping_) {
        bool waiting = !impl_->available();
        if (!waiting && interval_ <= 0) {
            break;   // read at last, and nothing to watch
        }
        cv_.wait_for(lk, std::chrono::seconds(waiting ? retry_ : interval_),
                     [this]() { return (stopping_); });
        if (stopping_) {
            break;
        }
        lk.unlock();
        try {
            if (waiting) {
                retryUnavailable();
            } else {
                reloadIfChanged();
            }
        } catch (const std::exception& ex) {
            try {
                LOG_ERROR(bsdp_logger, BSDP_RESCAN_ERROR).arg(dir_).arg(ex.what());
            } catch (...) {
            }
        } catch (...) {
        }
        lk.lock();
    }
}

} // namespace bsdp
} // namespace isc
