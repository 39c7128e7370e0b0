// SPDX-License-Identifier: MPL-2.0
#include "bsdp_fast_path.h"

#include "bsdp_log.h"
#include "bsdp_option.h"
#include "kea_compat.h"

#include <asiolink/io_address.h>
#include <dhcp/dhcp4.h>
#include <dhcp/iface_mgr.h>
#include <dhcp/option.h>
#include <stats/stats_mgr.h>

#include <string>

using isc::asiolink::IOAddress;
using isc::dhcp::Option;
using isc::dhcp::OptionPtr;
using isc::dhcp::Pkt4;
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

// The address the query reached us at, as Kea picks its server identifier
// and source address: the socket's address for a broadcast.
bool
localAddress(const Pkt4Ptr& query, IOAddress& out) {
    IOAddress local = query->getLocalAddr();
    if (local.isV4Bcast()) {
        try {
            local = isc::dhcp::IfaceMgr::instance().getSocket(query).addr_;
        } catch (const std::exception&) {
            return (false);
        }
    }
    if (!local.isV4() || local.isV4Zero() || local.isV4Bcast()) {
        return (false);
    }
    out = local;
    return (true);
}

void
copyOption(const Pkt4Ptr& query, const Pkt4Ptr& reply, uint16_t code, size_t min_len) {
    auto it = query->options_.find(code);
    if (it != query->options_.end() && it->second->len() > min_len) {
        reply->addOption(it->second);
    }
}

} // namespace

namespace {

void
buildReply(const Impl& impl, const Pkt4Ptr& query, const Pkt4Ptr& reply, const IOAddress& local) {
    // What Kea copies into every reply (RFC 2131 fields, RFC 6842 client
    // identifier unless echo-client-id is off, RFC 3046 relay agent
    // information, RFC 3011 subnet selection), and where it sends an
    // INFORM's ACK: to ciaddr, from the port the query came to. What
    // differs between Kea versions is kea_compat's.
    reply->setIface(query->getIface());
    reply->setIndex(query->getIndex());
    reply->setCiaddr(query->getCiaddr());
    reply->setHops(query->getHops());
    reply->setHWAddr(query->getHWAddr());
    reply->setGiaddr(query->getGiaddr());
    reply->setFlags(query->getFlags());
    if (query->getLocalHWAddr()) {
        reply->setLocalHWAddr(query->getLocalHWAddr());
    }
    if (query->getRemoteHWAddr()) {
        reply->setRemoteHWAddr(query->getRemoteHWAddr());
    }
    if (impl.echoClientId()) {
        copyOption(query, reply, isc::dhcp::DHO_DHCP_CLIENT_IDENTIFIER, 0);
    }
    if (kea_compat::copiesRelayAgentInfo(query)) {
        copyOption(query, reply, isc::dhcp::DHO_DHCP_AGENT_OPTIONS, Option::OPTION4_HDR_LEN);
    }
    copyOption(query, reply, isc::dhcp::DHO_SUBNET_SELECTION, 0);
    reply->addOption(serverIdOption(local.toUint32()));
    reply->setLocalAddr(local);
    reply->setLocalPort(query->getLocalPort());
    reply->setRemoteAddr(query->getCiaddr());
    reply->setRemotePort(isc::dhcp::DHCP4_CLIENT_PORT);
    // Like Kea: an INFORM relayed but answered at ciaddr loses the relay's
    // fields, and the client never sees option 82.
    if (reply->getRemoteAddr() != query->getGiaddr()) {
        reply->setHops(0);
        reply->setGiaddr(IOAddress::IPV4_ZERO_ADDRESS());
        reply->delOption(isc::dhcp::DHO_DHCP_AGENT_OPTIONS);
    }
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
    if (!localAddress(query, local)) {
        return (false);
    }
    countKea(KEA_INFORM_RECEIVED);
    try {
        Pkt4Ptr reply(new Pkt4(isc::dhcp::DHCPACK, query->getTransid()));
        buildReply(impl, query, reply, local);
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
