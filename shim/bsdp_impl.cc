// SPDX-License-Identifier: MPL-2.0
// Impl's life: construction from the parameters, the catalogue it serves
// (scan and publish) and the bindings table with its state file.
#include "bsdp_impl.h"

#include "bsdp_log.h"
#include "bsdp_packet.h"

#include "plist/nbi_scan.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace isc {
namespace bsdp {

namespace {

void
catalogueDeleter(const struct bsdp_catalogue* c) {
    bsdp_catalogue_free(const_cast<struct bsdp_catalogue*>(c));
}

} // namespace

Impl::Impl(const isc::data::ConstElementPtr& params)
    : params_(parseParams(params)), bindings_(nullptr) {
    struct bsdp_responder_config cfg;
    std::memset(&cfg, 0, sizeof(cfg));
    cfg.server_address = params_.server_address;
    cfg.priority = params_.server_priority;
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
        std::atomic_store(&catalogue_, CatalogueConstPtr(
            bsdp_catalogue_new(params_.sets_directory.c_str()), catalogueDeleter));
        if (!catalogue_) {
            throw std::runtime_error("out of memory for the catalogue");
        }
        setSetsError(ex.reason());
    }
    bindings_ = bsdp_bindings_new(params_.max_bindings);
    if (!bindings_) {
        throw std::runtime_error("out of memory for the bindings table");
    }
    try {
        if (params_.has_bindings_database) {
            database_.reset(new BindingsDatabase(params_, bindings_));
        } else {
            state_.reset(new StateFile(params_.state_file, bindings_));
        }
    } catch (...) {
        bsdp_bindings_free(bindings_);
        throw;
    }
}

Impl::~Impl() {
    state_.reset();   // final save while the table still exists
    database_.reset();
    bsdp_bindings_free(bindings_);
}

CatalogueConstPtr
Impl::catalogue() const {
    return (std::atomic_load(&catalogue_));
}

void
Impl::publish(struct bsdp_catalogue* fresh) {
    CatalogueConstPtr next(fresh, catalogueDeleter);
    std::atomic_store(&catalogue_, next);
    available_.store(true, std::memory_order_release);
}

std::string
Impl::setsError() const {
    std::lock_guard<std::mutex> lk(sets_error_mutex_);
    return (sets_error_);
}

void
Impl::setSetsError(const std::string& reason) {
    std::lock_guard<std::mutex> lk(sets_error_mutex_);
    sets_error_ = reason;
}

struct bsdp_catalogue*
Impl::scan(const struct bsdp_catalogue* previous) const {
    struct bsdp_scan_options opts;
    std::memset(&opts, 0, sizeof(opts));
    opts.nfs_available = params_.has_nfs_url;
    opts.previous = previous;
    int err = 0;
    struct bsdp_catalogue* c = bsdp_nbi_scan(params_.sets_directory.c_str(), &opts, &err);
    if (!c) {
        throw SetsUnreadable(params_.sets_directory,
                             err == -EAGAIN ? std::string("it kept changing during the scan "
                                                          "(renamed or sets added or removed)")
                                            : std::string(std::strerror(err < 0 ? -err : EIO)));
    }
    for (size_t i = 0; i < c->n_skipped; ++i) {
        LOG_WARN(bsdp_logger, BSDP_SET_SKIPPED).arg(c->skipped[i].path).arg(c->skipped[i].reason);
    }
    for (size_t i = 0; i < c->n_warnings; ++i) {
        LOG_WARN(bsdp_logger, BSDP_SET_WARNING).arg(c->warnings[i].path).arg(c->warnings[i].reason);
    }
    for (size_t i = 0; i < c->n_images; ++i) {
        const struct bsdp_image& img = c->images[i];
        LOG_DEBUG(bsdp_logger, isc::log::DBGLVL_START_SHUT, BSDP_IMAGE)
            .arg(idText(img.id))
            .arg(std::string(img.name, img.name_len))
            .arg(bsdp_image_type_name(img.type))
            .arg(img.is_enabled ? "enabled" : "disabled")
            .arg(img.set_dir);
    }
    LOG_INFO(bsdp_logger, BSDP_LOADED)
        .arg(c->n_images).arg(params_.sets_directory).arg(c->n_skipped).arg(c->n_warnings)
        .arg(params_.server_priority);
    return (c);
}

} // namespace bsdp
} // namespace isc
