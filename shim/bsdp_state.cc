// SPDX-License-Identifier: MPL-2.0
#include "bsdp_state.h"

#include "bsdp_log.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

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

// Runs on the writer thread, at the first save after a damaged load.
extern "C" void
asideReport(void*, const char* path, const char* aside, int err) {
    try {
        if (aside) {
            LOG_WARN(bsdp_logger, BSDP_STATE_SET_ASIDE).arg(path).arg(aside);
        } else {
            LOG_ERROR(bsdp_logger, BSDP_STATE_SET_ASIDE_FAILED).arg(path).arg(errnoText(err));
        }
    } catch (...) {
    }
}

// The folder the writer renames into. Only asked (access() writes
// nothing), so that a start or a kea-dhcp4 -T check shows a folder the
// first save would fail in.
void
checkFolder(const std::string& path) {
    std::string::size_type slash = path.rfind('/');
    std::string folder = slash == std::string::npos ? "." :
                         slash == 0 ? "/" : path.substr(0, slash);
    if (::access(folder.c_str(), W_OK | X_OK) != 0) {
        LOG_WARN(bsdp_logger, BSDP_STATE_FOLDER_UNWRITABLE).arg(path).arg(folder)
            .arg(std::strerror(errno));
    }
}

} // namespace

StateFile::StateFile(const std::string& path, struct bsdp_bindings* bindings)
    : path_(path), writer_(nullptr) {
    // Reads only: kea-dhcp4 -T (2.4+) loads the library as a check while a
    // running server may own this file, so nothing is written, renamed or
    // created here or at unload unless the bindings changed.
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
        LOG_WARN(bsdp_logger, BSDP_STATE_DAMAGED).arg(path_).arg(res.loaded);
    }
    checkFolder(path_);
    writer_ = bsdp_state_writer_start(path_.c_str(), bindings, BSDP_STATE_INTERVAL_MS,
                                      writerReport, nullptr);
    if (!writer_) {
        LOG_ERROR(bsdp_logger, BSDP_STATE_WRITER_FAILED).arg(path_);
        return;
    }
    if (damaged) {
        // Kept for the operator until a save replaces it.
        bsdp_state_writer_set_aside_first(writer_, asideReport, nullptr);
    }
}

StateFile::~StateFile() {
    bsdp_state_writer_stop(writer_);
}

} // namespace bsdp
} // namespace isc
