// SPDX-License-Identifier: MPL-2.0
#include "bsdp_fast_path.h"

#include "bsdp_log.h"
#include "kea_compat.h"

#include <asiolink/io_address.h>
#include <dhcp/dhcp4.h>
#include <dhcp/iface_mgr.h>
#include <stats/stats_mgr.h>

#include <string>

using isc::asiolink::IOAddress;
using isc::dhcp::Pkt4Ptr;
using isc::hooks::CalloutHandle;

namespace isc {
namespace bsdp {

namespace {

// Kea's own statistics for an INFORM it answered (names per version in
// kea_compat), so that its counters still add up; built once, so a reply
// costs no string here.
const std::string KEA_INFORM_RECEIVED = kea_compat::STAT_INFORM_RECEIVED;
const std::string KEA_ACK_SENT = kea_compat::STAT_ACK_SENT;
const std::string KEA_SENT = kea_compat::STAT_SENT;

void
countKea(const std::string& name) {
    isc::stats::StatsMgr::instance().addValue(name, int64_t(1));
}

// Sends the reply as Kea's packet loop would, counted as Kea counts it.
class SendThroughIfaceMgr : public Impl::Transmit {
public:
    void operator()(const Pkt4Ptr& reply) const override {
        reply->pack();
        isc::dhcp::IfaceMgr::instance().send(reply);
        countKea(KEA_ACK_SENT);
        countKea(KEA_SENT);
    }
};
const SendThroughIfaceMgr SEND_THROUGH_IFACEMGR;

std::string
macOf(const Pkt4Ptr& query) {
    return (query->getHWAddr() ? query->getHWAddr()->toText(false) : std::string("?"));
}

} // namespace

bool
answerBeforeKea(const Impl& impl, CalloutHandle& handle, const Pkt4Ptr& query) {
    IOAddress local("0.0.0.0");
    if (!kea_compat::informReplySource(query, local)) {
        return (false);
    }
    countKea(KEA_INFORM_RECEIVED);
    try {
        // What Kea would send, where it would (kea_compat), made BSDP's
        // and sent by impl.send through SEND_THROUGH_IFACEMGR.
        Pkt4Ptr reply = kea_compat::informAck(query, local, impl.echoClientId());
        impl.send(handle, query, reply, &SEND_THROUGH_IFACEMGR);
    } catch (const std::exception& ex) {
        // As on Kea's path, a BSDP query that failed midway gets no
        // answer rather than Kea's plain ACK.
        LOG_ERROR(bsdp_logger, BSDP_REPLY_ERROR).arg(macOf(query))
            .arg(std::string("fast path: ") + ex.what());
    }
    // Kea's INFORM processing has nothing left to do.
    handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
    return (true);
}

} // namespace bsdp
} // namespace isc
