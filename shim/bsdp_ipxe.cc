// SPDX-License-Identifier: MPL-2.0
// The iPXE stage after a BSDP selection: the selected image's ChainURL as
// the boot file of iPXE's DHCP exchange.
#include "bsdp_impl.h"

#include "bsdp_log.h"
#include "bsdp_packet.h"

#include <dhcp/dhcp4.h>
#include <dhcp/option_string.h>

#include <cstring>
#include <ctime>
#include <string>

using isc::dhcp::Option;
using isc::dhcp::OptionBuffer;
using isc::dhcp::OptionPtr;
using isc::dhcp::Pkt4Ptr;

namespace isc {
namespace bsdp {

namespace {

// iPXE's encapsulated options: their presence alone marks iPXE.
const uint16_t IPXE_ENCAP_OPTION = 175;
// One option 67.
const size_t BOOT_FILE_OPTION_MAX = 255;

} // namespace

void
Impl::chainIpxe(const Pkt4Ptr& query, const Pkt4Ptr& response) const {
    // Cheap checks first: ordinary traffic stops at the message type or at
    // two option lookups, with nothing copied.
    uint8_t type = query->getType();
    if (type != isc::dhcp::DHCPDISCOVER && type != isc::dhcp::DHCPREQUEST &&
        type != isc::dhcp::DHCPINFORM) {
        return;
    }
    OptionPtr encap = peekOption(query, IPXE_ENCAP_OPTION);
    OptionPtr user_class = peekOption(query, isc::dhcp::DHO_USER_CLASS);
    if (!encap && !user_class) {
        return;
    }
    uint8_t rtype = response->getType();
    if (rtype != isc::dhcp::DHCPOFFER && rtype != isc::dhcp::DHCPACK) {
        return;
    }
    const OptionBuffer* uc = user_class ? &user_class->getData() : nullptr;
    if (!bsdp_responder_is_ipxe(uc && !uc->empty() ? uc->data() : nullptr, uc ? uc->size() : 0,
                                encap != nullptr)) {
        return;
    }
    isc::dhcp::HWAddrPtr hw = query->getHWAddr();
    if (!hw || hw->htype_ != isc::dhcp::HTYPE_ETHER || hw->hwaddr_.size() != 6) {
        return;
    }
    const char* what = type == isc::dhcp::DHCPDISCOVER ? "DISCOVER" :
                       type == isc::dhcp::DHCPREQUEST ? "REQUEST" : "INFORM";
    CatalogueConstPtr cat = catalogue();
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    const char* url = bsdp_responder_chain_url(cat.get(), bindings_, hw->hwaddr_.data(), now,
                                               params_.chain_window);
    if (!url) {
        LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_IPXE_NO_CHAIN).arg(macText(query)).arg(what);
        return;
    }
    struct bsdp_binding b;
    std::memset(&b, 0, sizeof(b));
    bsdp_bindings_lookup(bindings_, hw->hwaddr_.data(), &b);
    size_t len = std::strlen(url);
    if (len > BOOT_FILE_OPTION_MAX) {
        LOG_WARN(bsdp_logger, BSDP_IPXE_URL_TOO_LONG).arg(macText(query)).arg(idText(b.image_id));
        return;
    }
    // The file field holds 127 bytes and a NUL; option 67 always carries it.
    if (len <= BSDP_FILE_MAX) {
        response->setFile(reinterpret_cast<const uint8_t*>(url), len);
    }
    while (response->delOption(isc::dhcp::DHO_BOOT_FILE_NAME)) {}
    response->addOption(OptionPtr(new isc::dhcp::OptionString(
        Option::V4, isc::dhcp::DHO_BOOT_FILE_NAME, std::string(url, len))));
    LOG_INFO(bsdp_logger, BSDP_IPXE_CHAIN).arg(macText(query)).arg(what).arg(url)
        .arg(idText(b.image_id)).arg(now - b.time);
}

} // namespace bsdp
} // namespace isc
