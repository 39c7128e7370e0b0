// SPDX-License-Identifier: MPL-2.0
// OFFER*: the subsequent boot of a Mac told to NetBoot (docs/offer.md).
// The core decides and writes the whole message; this file sends it
// through Kea's interfaces where an OFFER goes, counts and logs it.
#include "bsdp_impl.h"

#include "bsdp_log.h"
#include "bsdp_packet.h"
#include "bsdp_stats.h"
#include "kea_compat.h"

#include <asiolink/io_address.h>
#include <dhcp/dhcp4.h>
#include <dhcp/hwaddr.h>
#include <dhcp/iface_mgr.h>
#include <hooks/callout_handle.h>

#include <cstring>
#include <ctime>
#include <exception>
#include <string>
#include <vector>

using isc::asiolink::IOAddress;
using isc::dhcp::HWAddr;
using isc::dhcp::HWAddrPtr;
using isc::dhcp::Pkt4;
using isc::dhcp::Pkt4Ptr;
using isc::hooks::CalloutHandle;

namespace isc {
namespace bsdp {

namespace {

uint32_t
be32(const uint8_t* p) {
    return ((uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]);
}

// Where an OFFER goes (RFC 2131 4.1, as Kea and bootpd send one): to the
// relay at giaddr:67; else, the client having no address yet, to the
// broadcast address, in a frame to its hardware address unless it set
// the broadcast flag. (bootpd names IP 0.0.0.0, its yiaddr, in that frame;
// Kea's sockets cannot send there.) The message is the core's, byte for
// byte: it is written into the packet's output buffer, never packed.
Pkt4Ptr
offerPacket(const Pkt4Ptr& query, const IOAddress& local, const uint8_t* msg, size_t len) {
    Pkt4Ptr offer(new Pkt4(isc::dhcp::DHCPOFFER, be32(msg + 4)));
    offer->setIface(query->getIface());
    offer->setIndex(query->getIndex());
    offer->setLocalAddr(local);
    offer->setLocalPort(query->getLocalPort());
    if (query->getLocalHWAddr()) {
        offer->setLocalHWAddr(query->getLocalHWAddr());
    }
    uint32_t giaddr = be32(msg + 24);
    if (giaddr != 0) {
        offer->setRemoteAddr(IOAddress(giaddr));
        offer->setRemotePort(isc::dhcp::DHCP4_SERVER_PORT);
        if (query->getRemoteHWAddr()) {
            offer->setRemoteHWAddr(query->getRemoteHWAddr());   // the relay's
        }
    } else {
        offer->setRemoteAddr(IOAddress::IPV4_BCAST_ADDRESS());
        offer->setRemotePort(isc::dhcp::DHCP4_CLIENT_PORT);
        bool broadcast = (msg[10] & 0x80) != 0;
        std::vector<uint8_t> to = broadcast ? std::vector<uint8_t>(6, 0xff)
                                            : std::vector<uint8_t>(msg + 28, msg + 34);
        offer->setRemoteHWAddr(HWAddrPtr(new HWAddr(to, isc::dhcp::HTYPE_ETHER)));
    }
    isc::util::OutputBuffer& out = offer->getBuffer();
    out.clear();
    out.writeData(msg, len);
    return (offer);
}

} // namespace

void
Impl::offer(CalloutHandle& handle, const Pkt4Ptr& query) const {
    std::string mac = "?";
    try {
        const isc::dhcp::OptionBuffer& raw = query->data_;
        if (!params_.offer_bound_clients || !available() ||
            bsdp_codec_bsdp_dhcp_type(raw.data(), raw.size()) != BSDP_DHCP_DISCOVER) {
            return;
        }
        struct bsdp_query q;
        std::memset(&q, 0, sizeof(q));
        q.msg = raw.data();
        q.msg_len = raw.size();
        std::memcpy(q.mac, q.msg + 28, 6);   // a BOOTREQUEST is at least 240 bytes
        q.mac_valid = q.msg[1] == isc::dhcp::HTYPE_ETHER && q.msg[2] == 6;
        mac = macText(query);
        IOAddress local("0.0.0.0");
        if (kea_compat::informReplySource(query, local)) {
            q.local_address = local.toUint32();
        }
        q.now = static_cast<int64_t>(std::time(nullptr));
        PinRequest pin = {this, &q, &query, &handle};
        if (q.mac_valid) {
            q.pin_lookup = &Impl::pinLookup;
            q.pin_ctx = &pin;
        }
        CatalogueConstPtr cat = catalogue();
        uint8_t out[BSDP_OFFER_MAX];
        struct bsdp_answer ans;
        if (bsdp_responder_offer(&responder_, cat.get(), bindings_, &q, out, sizeof(out),
                                 &ans) != 0 ||
            ans.verdict == BSDP_VERDICT_NOT_BSDP) {
            return;
        }
        if (ans.verdict != BSDP_VERDICT_REPLY) {
            LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_OFFER_NOT_SENT).arg(mac)
                .arg(ans.why ? ans.why : "refused");
            return;
        }
        Pkt4Ptr offer = offerPacket(query, local, out, ans.message_len);
        isc::dhcp::IfaceMgr::instance().send(offer);
        // Sent: the Mac boots that image now.
        bsdp_responder_commit(bindings_, &q, &ans);
        stats::count(stats::OFFERS_SENT);
        noteEvictions("the OFFER* to", query);
        const struct bsdp_image* img = ans.image;
        LOG_INFO(bsdp_logger, BSDP_OFFER_SENT).arg(mac)
            .arg(std::string(ans.vc.arch, ans.vc.arch_len))
            .arg(std::string(ans.vc.model, ans.vc.model_len))
            .arg(idText(ans.selected_id))
            .arg(img ? std::string(img->name, img->name_len) : std::string("?"))
            .arg(offer->getRemoteAddr().toText()).arg(ans.file).arg(ans.root_path)
            .arg(ans.machine_name);
    } catch (const std::exception& ex) {
        // Kea's own answer to the DISCOVER goes on whatever happened here.
        try {
            LOG_ERROR(bsdp_logger, BSDP_REPLY_ERROR).arg(mac)
                .arg(std::string("OFFER*: ") + ex.what());
        } catch (...) {
        }
    } catch (...) {
    }
}

} // namespace bsdp
} // namespace isc
