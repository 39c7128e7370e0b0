// SPDX-License-Identifier: MPL-2.0
// buffer4_receive: a BSDP query parsed here, once, and malformed ones dropped.
#include "bsdp_impl.h"

#include "bsdp_fast_path.h"
#include "bsdp_log.h"
#include "bsdp_packet.h"
#include "bsdp_stats.h"
#include "kea_compat.h"

#include <dhcp/dhcp4.h>
#include <hooks/callout_handle.h>
#include <stats/stats_mgr.h>

#include <exception>
#include <string>

using isc::dhcp::OptionBuffer;
using isc::dhcp::OptionPtr;
using isc::dhcp::Pkt4Ptr;
using isc::hooks::CalloutHandle;

namespace isc {
namespace bsdp {

void
Impl::receive(CalloutHandle& handle, const Pkt4Ptr& query) const {
    // Decided from the raw message: anything else is left for Kea to parse.
    const OptionBuffer& raw = query->data_;
    int type = bsdp_codec_bsdp_dhcp_type(raw.data(), raw.size());
    if (type == BSDP_DHCP_DISCOVER && offer_step_ == OfferStep::BUFFER4_RECEIVE) {
        offer(handle, query);   // Kea then processes the DISCOVER as usual
        return;
    }
    if (type != BSDP_DHCP_INFORM) {
        return;
    }
    // We parse it with Kea's own parser (unless a library before us did),
    // so that Kea does not parse option 43 a second time into sub-option
    // objects after classification: we only read its bytes, and that
    // second parse costs more than our whole answer.
    if (handle.getStatus() != CalloutHandle::NEXT_STEP_SKIP) {
        try {
            query->unpack();
        } catch (const isc::dhcp::SkipRemainingOptionsError&) {
            // Kea goes on with the options read so far; so do we.
        } catch (const std::exception& ex) {
            // What Kea does with a message it cannot parse, plus our count.
            handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
            isc::stats::StatsMgr::instance().addValue(kea_compat::STAT_PARSE_FAILED, int64_t(1));
            isc::stats::StatsMgr::instance().addValue(kea_compat::STAT_RECEIVE_DROP, int64_t(1));
            stats::count(stats::dropped(BSDP_DROP_MALFORMED));
            LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_QUERY_MALFORMED).arg(macText(query))
                .arg(std::string("the message cannot be parsed: ") + ex.what());
            return;
        }
        handle.setStatus(CalloutHandle::NEXT_STEP_SKIP);
    }
    if (!isBsdpQuery(query)) {
        return;
    }
    query->getDeferredOptions().remove(isc::dhcp::DHO_VENDOR_ENCAPSULATED_OPTIONS);

    OptionPtr vc_opt = peekOption(query, isc::dhcp::DHO_VENDOR_CLASS_IDENTIFIER);
    const OptionBuffer& vc = vc_opt->getData();
    struct bsdp_vendor_class vcp;
    const char* why = nullptr;
    if (bsdp_codec_parse_vendor_class(reinterpret_cast<const char*>(vc.data()), vc.size(),
                                      &vcp) != 0) {
        why = "option 60 is not a valid BSDP client class";
    } else {
        const OptionBuffer* o43 = optionBytes(query, isc::dhcp::DHO_VENDOR_ENCAPSULATED_OPTIONS);
        struct bsdp_request req;
        if (o43 && bsdp_codec_parse_request(o43->data(), o43->size(), &req) != 0) {
            why = "option 43 is not a valid list of BSDP sub-options";
        }
    }
    if (why) {
        handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
        stats::count(stats::dropped(BSDP_DROP_MALFORMED));
        LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_QUERY_MALFORMED).arg(macText(query)).arg(why);
        return;
    }
    if (params_.fast_path) {
        answerBeforeKea(*this, handle, query);
    }
}

} // namespace bsdp
} // namespace isc
