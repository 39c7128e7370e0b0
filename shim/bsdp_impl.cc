// SPDX-License-Identifier: MPL-2.0
// Impl's life: construction from the parameters (the catalogue's first
// scan, bsdp_catalogue.cc) and the bindings table with its state file.
#include "bsdp_impl.h"
#include "bsdp_check_mode.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace isc {
namespace bsdp {

Impl::Impl(const isc::data::ConstElementPtr& params)
    : params_(parseParams(params)), bindings_(nullptr), recent_(nullptr) {
    struct bsdp_responder_config cfg;
    std::memset(&cfg, 0, sizeof(cfg));
    cfg.server_address = params_.server_address;
    cfg.priority = params_.server_priority;
    cfg.priority_from_load = params_.priority_from_load;
    cfg.tftp_path_prefix = params_.tftp_path_prefix.c_str();
    cfg.http_url = params_.has_http_url ? params_.http_url.c_str() : nullptr;
    cfg.nfs_url = params_.has_nfs_url ? params_.nfs_url.c_str() : nullptr;
    cfg.machine_name_format =
        params_.has_machine_name_format ? params_.machine_name_format.c_str() : nullptr;
    char err[512] = "";
    std::memset(&responder_, 0, sizeof(responder_));
    if (bsdp_responder_init(&responder_, &cfg, err, sizeof(err)) != 0) {
        throw std::runtime_error(err[0] ? err : "invalid configuration");
    }
    try {
        publish(scan());
    } catch (const SetsUnreadable& ex) {
        // An NFS mount late at boot must not take DHCP down: the library
        // loads without a catalogue and the Reloader retries (it logs).
        startWithoutCatalogue(ex.reason());
    }
    bindings_ = bsdp_bindings_new(params_.max_bindings);
    if (!bindings_) {
        // Out of memory, or no random key for its index (getrandom).
        throw std::runtime_error(std::string("cannot create the bindings table: ") +
                                 std::strerror(errno));
    }
    recent_ = bsdp_recent_new();
    if (!recent_) {
        int e = errno;
        bsdp_bindings_free(bindings_);
        throw std::runtime_error(std::string("cannot create the recent-Macs table: ") +
                                 std::strerror(e));
    }
    try {
        if (params_.has_bindings_database) {
            // kea-bsdp-check probes the database read-only instead: the
            // store would create tables and take machine numbers.
            if (!checkMode()) {
                database_.reset(new BindingsDatabase(params_, bindings_, [this]() {
                    noteEvictions("another server's bindings from bindings-database");
                }));
            }
        } else {
            state_.reset(new StateFile(params_.state_file, bindings_));
        }
    } catch (...) {
        bsdp_recent_free(recent_);
        bsdp_bindings_free(bindings_);
        throw;
    }
    noteEvictions("the bindings read at start");
}

Impl::~Impl() {
    state_.reset();   // final save while the table still exists
    database_.reset();
    bsdp_recent_free(recent_);
    bsdp_bindings_free(bindings_);
}

} // namespace bsdp
} // namespace isc
