// SPDX-License-Identifier: MPL-2.0
#include "bsdp_packet.h"
#include "bsdp_impl.h"

#include "hook/catalogue.h"

#include <dhcp/dhcp4.h>
#include <dhcp/option_custom.h>
#include <dhcp/option_int.h>

#include <cstdio>
#include <cstring>

using isc::asiolink::IOAddress;
using isc::dhcp::OptionBuffer;
using isc::dhcp::OptionPtr;
using isc::dhcp::Pkt4Ptr;

namespace isc {
namespace bsdp {

namespace {

const char VENDOR_PREFIX[] = "AAPLBSDPC/";
const size_t VENDOR_PREFIX_LEN = sizeof(VENDOR_PREFIX) - 1;

} // namespace

std::string
macText(const Pkt4Ptr& query) {
    isc::dhcp::HWAddrPtr hw = query->getHWAddr();
    return (hw ? hw->toText(false) : std::string("(no hardware address)"));
}

std::string
idText(uint32_t id) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%u (0x%08x)", static_cast<unsigned>(BSDP_IMAGE_ID_INDEX(id)),
                  static_cast<unsigned>(id));
    return (buf);
}

// An option of a packet, read in place. Inside callouts Kea's getOption()
// clones every option it returns (so hooks cannot change shared objects);
// we only read, and a clone per lookup cost more than our whole reply.
OptionPtr
peekOption(const Pkt4Ptr& pkt, uint16_t code) {
    auto it = pkt->options_.find(code);
    return (it == pkt->options_.end() ? OptionPtr() : it->second);
}

// The exact bytes a client sent in an option (Kea fuses repeated
// instances), borrowed from the packet. Never Kea's re-packing of
// sub-options: it loses data.
const OptionBuffer*
optionBytes(const Pkt4Ptr& pkt, uint16_t code) {
    OptionPtr opt = peekOption(pkt, code);
    // The packet keeps the option (and so its buffer) alive.
    return (opt ? &opt->getData() : nullptr);
}

// Option 57 as Kea holds it (OptionInt<uint16_t>), or -1.
int
maxMessageSize(const Pkt4Ptr& pkt) {
    OptionPtr opt = peekOption(pkt, isc::dhcp::DHO_DHCP_MAX_MESSAGE_SIZE);
    if (!opt) {
        return (-1);
    }
    auto typed = boost::dynamic_pointer_cast<isc::dhcp::OptionInt<uint16_t>>(opt);
    if (typed) {
        return (typed->getValue());
    }
    OptionBuffer b = opt->toBinary(false);
    return (b.size() == 2 ? (b[0] << 8) | b[1] : -1);
}

// Bytes of every instance of `code` in a packet about to be packed.
size_t
optionsLen(const Pkt4Ptr& pkt, uint16_t code) {
    size_t len = 0;
    auto range = pkt->options_.equal_range(code);
    for (auto it = range.first; it != range.second; ++it) {
        len += it->second->len();
    }
    return (len);
}

// An IPv4 address option (option 54 is an OptionCustom in Kea), or 0.
uint32_t
addressOption(const Pkt4Ptr& pkt, uint16_t code) {
    OptionPtr opt = peekOption(pkt, code);
    if (!opt) {
        return (0);
    }
    auto typed = boost::dynamic_pointer_cast<isc::dhcp::OptionCustom>(opt);
    if (typed && typed->getDataFieldsNum() == 1) {
        try {
            IOAddress a = typed->readAddress(0);
            return (a.isV4() ? a.toUint32() : 0);
        } catch (const std::exception&) {
            return (0);
        }
    }
    OptionBuffer b = opt->toBinary(false);
    if (b.size() != 4) {
        return (0);
    }
    return ((uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3]);
}

bool
isBsdpQuery(const Pkt4Ptr& query) {
    if (query->getType() != isc::dhcp::DHCPINFORM) {
        return (false);
    }
    OptionPtr vc = peekOption(query, isc::dhcp::DHO_VENDOR_CLASS_IDENTIFIER);
    if (!vc) {
        return (false);
    }
    const OptionBuffer& d = vc->getData();
    return (d.size() >= VENDOR_PREFIX_LEN &&
            std::memcmp(d.data(), VENDOR_PREFIX, VENDOR_PREFIX_LEN) == 0);
}

} // namespace bsdp
} // namespace isc
