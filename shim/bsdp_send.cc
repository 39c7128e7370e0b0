// SPDX-License-Identifier: MPL-2.0
// pkt4_send: the core's answer applied to Kea's response, then counted and
// logged.
#include "bsdp_impl.h"

#include "bsdp_log.h"
#include "bsdp_mtu.h"
#include "bsdp_option.h"
#include "bsdp_packet.h"
#include "bsdp_stats.h"
#include "kea_compat.h"

#include "hook/policy.h"

#include <asiolink/io_address.h>
#include <dhcp/dhcp4.h>
#include <dhcp/option_string.h>
#include <hooks/callout_handle.h>

#include <cstring>
#include <ctime>
#include <exception>
#include <string>
#include <vector>

using isc::asiolink::IOAddress;
using isc::dhcp::Option;
using isc::dhcp::OptionBuffer;
using isc::dhcp::OptionPtr;
using isc::dhcp::Pkt4Ptr;
using isc::hooks::CalloutHandle;

namespace isc {
namespace bsdp {

namespace {

// Largest option-43 area the core may write: BOOTPD's cap of 8192 bytes.
const size_t OPT43_OUT_MAX = 8192;

} // namespace

void
Impl::send(CalloutHandle& handle, const Pkt4Ptr& query, const Pkt4Ptr& response,
           const Transmit* transmit) const {
    if (!isBsdpQuery(query)) {
        chainIpxe(query, response);
        return;
    }
    if (!available()) {
        dropUnavailable(handle, query);
        return;
    }
    CatalogueConstPtr cat = catalogue();

    // The query as the core sees it.
    const OptionBuffer* o43 = optionBytes(query, isc::dhcp::DHO_VENDOR_ENCAPSULATED_OPTIONS);
    const OptionBuffer* o60 = optionBytes(query, isc::dhcp::DHO_VENDOR_CLASS_IDENTIFIER);
    bool has43 = o43 != nullptr;
    struct bsdp_query q;
    std::memset(&q, 0, sizeof(q));
    q.opt43 = has43 ? o43->data() : nullptr;
    q.opt43_len = has43 ? o43->size() : 0;
    q.opt60 = o60 ? reinterpret_cast<const char*>(o60->data()) : nullptr;
    q.opt60_len = o60 ? o60->size() : 0;
    isc::dhcp::HWAddrPtr hw = query->getHWAddr();
    if (hw && hw->htype_ == isc::dhcp::HTYPE_ETHER && hw->hwaddr_.size() == 6) {
        std::memcpy(q.mac, hw->hwaddr_.data(), 6);
        q.mac_valid = true;
    }
    q.ciaddr = query->getCiaddr().toUint32();
    q.local_address = addressOption(response, isc::dhcp::DHO_DHCP_SERVER_IDENTIFIER);
    if (q.local_address == 0 && query->getLocalAddr().isV4() &&
        !query->getLocalAddr().isV4Bcast()) {
        q.local_address = query->getLocalAddr().toUint32();
    }
    q.opt57 = maxMessageSize(query);
    // The packed response without option 43: header, cookie, Kea's other
    // options, our option 60 (2 + 9) and END.
    size_t overhead = response->len() + 4 + 1 + (2 + 9);
    overhead -= optionsLen(response, isc::dhcp::DHO_VENDOR_ENCAPSULATED_OPTIONS);
    overhead -= optionsLen(response, isc::dhcp::DHO_VENDOR_CLASS_IDENTIFIER);
    q.reply_overhead = overhead;
    q.now = static_cast<int64_t>(std::time(nullptr));
    q.link_max = linkMaxMessage(query, q.now);
    // The core asks for a pin only when it answers a LIST: no host lookup
    // for anything else.
    PinRequest pin = {this, &q, &query, &handle};
    if (q.mac_valid) {
        q.pin_lookup = &Impl::pinLookup;
        q.pin_ctx = &pin;
    }

    // Each image's rule, for the debug log only: no cost otherwise.
    std::vector<uint8_t> rules;
    if (bsdp_logger.isDebugEnabled(BSDP_DBG_PACKET)) {
        rules.assign(cat->n_images, BSDP_RULES);
        q.rules = rules.data();
        q.rules_size = rules.size();
    }

    uint8_t out[OPT43_OUT_MAX];
    struct bsdp_answer ans;
    std::memset(&ans, 0, sizeof(ans));
    int rc = bsdp_responder_answer(&responder_, cat.get(), bindings_, &q, out, sizeof(out),
                                   BSDP_REPLY_BLOCK_SIZE, &ans);
    if (rc != 0) {
        handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
        LOG_ERROR(bsdp_logger, BSDP_REPLY_ERROR).arg(macText(query))
            .arg(std::string("responder error ") + std::strerror(-rc));
        return;
    }
    if (ans.req.msg_type == BSDP_MSGTYPE_LIST) {
        stats::count(stats::REQUESTS_LIST);
    } else if (ans.req.msg_type == BSDP_MSGTYPE_SELECT) {
        stats::count(stats::REQUESTS_SELECT);
    }

    if (ans.req.msg_type == BSDP_MSGTYPE_LIST && ans.verdict != BSDP_VERDICT_NOT_BSDP &&
        ans.drop != BSDP_DROP_MALFORMED && q.mac_valid) {
        try {
            uint32_t subnet_id = 0;
            bool selected = kea_compat::selectedSubnetId(handle, subnet_id);
            noteList(cat.get(), q, ans, rules, query, selected ? &subnet_id : nullptr);
        } catch (...) {
            // Only a diagnosis: never the client's answer.
        }
    }

    if (ans.verdict == BSDP_VERDICT_NOT_BSDP) {
        if (transmit) {
            (*transmit)(response);
        }
        return;
    }
    if (ans.verdict == BSDP_VERDICT_DROP) {
        // A BSDP request gets a BSDP answer or nothing: Kea's ACK is suppressed.
        handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
        stats::count(stats::dropped(ans.drop));
        LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_QUERY_DROPPED).arg(macText(query))
            .arg(std::string(bsdp_drop_reason_name(ans.drop)) + (ans.why ? ": " : "") +
                 (ans.why ? ans.why : ""));
        return;
    }

    try {
        // Our option 43 and 60 replace Kea's.
        OptionPtr blocks(new VendorBlocksOption(out, ans.opt43_len));
        while (response->delOption(isc::dhcp::DHO_VENDOR_ENCAPSULATED_OPTIONS)) {}
        while (response->delOption(isc::dhcp::DHO_VENDOR_CLASS_IDENTIFIER)) {}
        response->addOption(OptionPtr(new isc::dhcp::OptionString(
            Option::V4, isc::dhcp::DHO_VENDOR_CLASS_IDENTIFIER, BSDP_VENDOR_CLASS_PREFIX)));
        response->addOption(blocks);

        if (ans.server_id != 0 &&
            addressOption(response, isc::dhcp::DHO_DHCP_SERVER_IDENTIFIER) != ans.server_id) {
            while (response->delOption(isc::dhcp::DHO_DHCP_SERVER_IDENTIFIER)) {}
            response->addOption(serverIdOption(ans.server_id));
        }

        if (ans.sent == BSDP_MSGTYPE_SELECT) {
            response->setSiaddr(IOAddress(ans.siaddr));
            size_t flen = strnlen(ans.file, sizeof(ans.file));
            response->setFile(reinterpret_cast<const uint8_t*>(ans.file), flen);
            while (response->delOption(isc::dhcp::DHO_ROOT_PATH)) {}
            size_t rlen = strnlen(ans.root_path, sizeof(ans.root_path));
            if (rlen > 0) {
                response->addOption(OptionPtr(new isc::dhcp::OptionString(
                    Option::V4, isc::dhcp::DHO_ROOT_PATH, std::string(ans.root_path, rlen))));
            }
        }

        // Apple answers at ciaddr, on the reply port when the client asked.
        if (q.ciaddr != 0) {
            response->setRemoteAddr(IOAddress(q.ciaddr));
        }
        if (ans.reply_port != 0) {
            response->setRemotePort(ans.reply_port);
        }
        if (transmit) {
            (*transmit)(response);
        }
    } catch (const std::exception& ex) {
        // Dropped: the Mac never sees this ACK[SELECT], so no binding.
        handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
        LOG_ERROR(bsdp_logger, BSDP_REPLY_ERROR).arg(macText(query)).arg(ex.what());
        return;
    }
    bsdp_responder_commit(bindings_, &q, &ans);

    // The reply is whole: what is counted and logged about it from here on
    // must never cost the client its answer.
    try {
        reportAnswer(cat.get(), q, ans, query);
    } catch (...) {
    }
}

void
Impl::dropUnavailable(CalloutHandle& handle, const Pkt4Ptr& query) const {
    // Not even the core sees it: with an empty catalogue it would forget
    // bindings or send ACK[FAILED] for images that are only not read yet.
    handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
    stats::count(stats::DROPPED_NO_CATALOGUE);
    LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_QUERY_DROPPED).arg(macText(query))
        .arg("no catalogue: sets-directory " + params_.sets_directory + " has not been read yet");
}

void
Impl::reportAnswer(const struct bsdp_catalogue* cat, const struct bsdp_query& q,
                   const struct bsdp_answer& ans, const Pkt4Ptr& query) const {
    std::string model(ans.vc.model, ans.vc.model_len);
    std::string arch(ans.vc.arch, ans.vc.arch_len);
    if (ans.pinned_image != 0) {
        explainPin(cat, q, ans, ans.pinned_image, query);
    }
    switch (ans.sent) {
    case BSDP_MSGTYPE_LIST:
        stats::count(stats::REPLIES_LIST);
        if (ans.truncated) {
            stats::count(stats::LISTS_TRUNCATED);
        }
        LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_REPLY_LIST)
            .arg(macText(query)).arg(arch).arg(model)
            .arg(ans.images_listed).arg(ans.images_visible).arg(idText(ans.default_id))
            .arg(ans.truncated ? " (list truncated to fit the client's maximum size)" : "");
        break;
    case BSDP_MSGTYPE_SELECT: {
        stats::count(stats::REPLIES_SELECT);
        noteEvictions("the SELECT of", query);
        const struct bsdp_image* img = ans.image;
        LOG_INFO(bsdp_logger, BSDP_REPLY_SELECT)
            .arg(macText(query)).arg(arch).arg(model).arg(idText(ans.selected_id))
            .arg(img ? std::string(img->name, img->name_len) : std::string("?"))
            .arg(ans.file).arg(ans.root_path).arg(ans.machine_name);
        break;
    }
    case BSDP_MSGTYPE_FAILED:
        stats::count(stats::REPLIES_FAILED);
        LOG_INFO(bsdp_logger, BSDP_REPLY_FAILED)
            .arg(macText(query)).arg(arch).arg(model)
            .arg((ans.req.present & BSDP_HAS(BSDP_OPT_SELECTED_BOOT_IMAGE)) ?
                 idText(ans.req.selected_image) : std::string("(default)"))
            .arg(ans.why ? ans.why : "refused");
        break;
    default:
        break;
    }
}

void
Impl::noteEvictions(const char* cause, const Pkt4Ptr& query) const {
    // Each thread publishes only the evictions it is first to see, so the
    // statistic adds up exactly without a lock.
    uint64_t now = bsdp_bindings_evictions(bindings_);
    uint64_t seen = evictions_seen_.load(std::memory_order_relaxed);
    while (now > seen) {
        if (evictions_seen_.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
            stats::add(stats::BINDINGS_EVICTED, now - seen);
            if (seen == 0) {
                LOG_WARN(bsdp_logger, BSDP_BINDINGS_FULL).arg(params_.max_bindings)
                    .arg(query ? std::string(cause) + " " + macText(query) : std::string(cause));
            }
            break;
        }
    }
}

} // namespace bsdp
} // namespace isc
