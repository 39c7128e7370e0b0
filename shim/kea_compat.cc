// SPDX-License-Identifier: MPL-2.0
// How Kea builds its ACK to an INFORM, as the fast path re-implements it
// (see kea_compat.h; the same in Kea 2.2.0, 2.6.3 and 3.0.4 but for what
// kea_compat.h's inline functions say).
#include "kea_compat.h"

#include "bsdp_packet.h"

#include <dhcp/iface_mgr.h>

using isc::asiolink::IOAddress;
using isc::dhcp::Pkt4;
using isc::dhcp::Pkt4Ptr;

namespace isc {
namespace bsdp {
namespace kea_compat {

namespace {

void
copyOption(const Pkt4Ptr& query, const Pkt4Ptr& reply, uint16_t code, size_t min_len) {
    isc::dhcp::OptionPtr opt = peekOption(query, code);
    if (opt && opt->len() > min_len) {
        reply->addOption(opt);
    }
}

} // namespace

bool
informReplySource(const Pkt4Ptr& query, IOAddress& out) {
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

Pkt4Ptr
informAck(const Pkt4Ptr& query, const IOAddress& local, bool echo_client_id) {
    Pkt4Ptr reply(new Pkt4(isc::dhcp::DHCPACK, query->getTransid()));
    // Dhcpv4Exchange::copyDefaultFields and copyDefaultOptions.
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
    if (echo_client_id) {
        copyOption(query, reply, isc::dhcp::DHO_DHCP_CLIENT_IDENTIFIER, 0);
    }
    if (copiesRelayAgentInfo(query)) {
        copyOption(query, reply, isc::dhcp::DHO_DHCP_AGENT_OPTIONS,
                   isc::dhcp::Option::OPTION4_HDR_LEN);
    }
    copyOption(query, reply, isc::dhcp::DHO_SUBNET_SELECTION, 0);
    // appendServerID, and adjustIfaceData for an INFORM with a ciaddr.
    reply->addOption(serverIdOption(local));
    reply->setLocalAddr(local);
    reply->setLocalPort(query->getLocalPort());
    reply->setRemoteAddr(query->getCiaddr());
    reply->setRemotePort(isc::dhcp::DHCP4_CLIENT_PORT);
    // processInform: an INFORM relayed but answered at ciaddr loses the
    // relay's fields, and the client never sees option 82.
    if (reply->getRemoteAddr() != query->getGiaddr()) {
        reply->setHops(0);
        reply->setGiaddr(IOAddress::IPV4_ZERO_ADDRESS());
        reply->delOption(isc::dhcp::DHO_DHCP_AGENT_OPTIONS);
    }
    return (reply);
}

} // namespace kea_compat
} // namespace bsdp
} // namespace isc
