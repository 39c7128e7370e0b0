// SPDX-License-Identifier: MPL-2.0
// The catalogue Impl serves: sets-directory scanned into a snapshot, which
// is published for the packets, and why it could not be read.
#include "bsdp_impl.h"

#include "bsdp_log.h"
#include "bsdp_packet.h"

#include "plist/nbi_scan.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace isc {
namespace bsdp {

namespace {

void
catalogueDeleter(const struct bsdp_catalogue* c) {
    bsdp_catalogue_free(const_cast<struct bsdp_catalogue*>(c));
}

} // namespace

void
Impl::startWithoutCatalogue(const std::string& reason) {
    std::atomic_store(&catalogue_, CatalogueConstPtr(
        bsdp_catalogue_new(params_.sets_directory.c_str()), catalogueDeleter));
    if (!catalogue_) {
        throw std::runtime_error("out of memory for the catalogue");
    }
    setSetsError(reason);
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
        .arg(params_.priority_from_load ? std::string("from load (32768 - bindings)") :
                                          std::to_string(params_.server_priority));
    return (c);
}

} // namespace bsdp
} // namespace isc
