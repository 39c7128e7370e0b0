// SPDX-License-Identifier: MPL-2.0
#include "bsdp_state.h"

#include "bsdp_log.h"

#include <cerrno>
#include <cstring>
#include <ctime>

namespace isc {
namespace bsdp {

namespace {

// A file of garbage must not flood the log: the first lines name the
// defects, a summary counts the rest.
const size_t MAX_LINES_LOGGED = 20;

struct LoadReports {
    size_t count = 0;
};

// Called by the C core: nothing may be thrown through it.
extern "C" void
loadReport(void* ctx, const char* path, size_t line, const char* reason) {
    LoadReports* r = static_cast<LoadReports*>(ctx);
    try {
        if (++r->count <= MAX_LINES_LOGGED) {
            LOG_WARN(bsdp_logger, BSDP_STATE_BAD_LINE).arg(path).arg(line).arg(reason);
        }
    } catch (...) {
    }
}

// Runs on the writer thread, once per distinct error until a save works.
extern "C" void
writerReport(void*, const char* path, size_t, const char* reason) {
    try {
        LOG_ERROR(bsdp_logger, BSDP_STATE_WRITE_ERROR).arg(path).arg(reason);
    } catch (...) {
    }
}

std::string
errnoText(int negative_errno) {
    return (std::strerror(negative_errno < 0 ? -negative_errno : EIO));
}

} // namespace

StateFile::StateFile(const std::string& path, struct bsdp_bindings* bindings)
    : path_(path), writer_(nullptr) {
    LoadReports reports;
    struct bsdp_state_load_result res;
    std::memset(&res, 0, sizeof(res));
    int rc = bsdp_state_load(path_.c_str(), bindings, loadReport, &reports, &res);
    bool damaged = false;
    if (rc == -ENOENT) {
        LOG_INFO(bsdp_logger, BSDP_STATE_NEW).arg(path_);
    } else if (rc < 0) {
        LOG_ERROR(bsdp_logger, BSDP_STATE_UNREADABLE).arg(path_).arg(errnoText(rc));
        damaged = true;
    } else {
        if (reports.count > MAX_LINES_LOGGED) {
            LOG_WARN(bsdp_logger, BSDP_STATE_MORE_BAD_LINES).arg(path_)
                .arg(reports.count - MAX_LINES_LOGGED);
        }
        damaged = res.bad > 0;
        LOG_INFO(bsdp_logger, BSDP_STATE_LOADED).arg(res.loaded).arg(path_).arg(res.bad);
    }
    if (damaged) {
        // Kept for the operator; the good entries go into a fresh file.
        std::string aside(path_.size() + 64, '\0');
        int r = bsdp_state_set_aside(path_.c_str(), static_cast<int64_t>(std::time(nullptr)),
                                     &aside[0], aside.size());
        if (r == 0) {
            LOG_WARN(bsdp_logger, BSDP_STATE_SET_ASIDE).arg(path_).arg(aside.c_str())
                .arg(res.loaded);
        } else {
            LOG_ERROR(bsdp_logger, BSDP_STATE_SET_ASIDE_FAILED).arg(path_).arg(errnoText(r));
        }
    }
    writer_ = bsdp_state_writer_start(path_.c_str(), bindings, BSDP_STATE_INTERVAL_MS,
                                      writerReport, nullptr);
    if (!writer_) {
        LOG_ERROR(bsdp_logger, BSDP_STATE_WRITER_FAILED).arg(path_);
        return;
    }
    // Written at once: a fresh file after a damaged one, and a directory
    // that cannot be written is reported at start rather than at the first
    // SELECT.
    bsdp_state_writer_request_save(writer_);
}

StateFile::~StateFile() {
    bsdp_state_writer_stop(writer_);
}

void
StateFile::requestSave() {
    bsdp_state_writer_request_save(writer_);
}

} // namespace bsdp
} // namespace isc
