// SPDX-License-Identifier: MPL-2.0
#include "bsdp_option.h"

#include "kea_compat.h"

#include <dhcp/dhcp4.h>
#include <exceptions/exceptions.h>
#include <util/buffer.h>

#include <iomanip>
#include <sstream>

namespace isc {
namespace bsdp {

namespace {
const uint8_t VENDOR_ENCAPSULATED = 43;
}

VendorBlocksOption::VendorBlocksOption(const uint8_t* wire, size_t len)
    : Option(isc::dhcp::Option::V4, VENDOR_ENCAPSULATED), instances_(0) {
    if (!wire || len == 0) {
        isc_throw(isc::BadValue, "option 43: no instance");
    }
    if (len > 0xffff) {
        isc_throw(isc::BadValue, "option 43: " << len << " bytes is too long");
    }
    size_t at = 0;
    while (at < len) {
        size_t left = len - at;
        if (left < 2 || wire[at] != VENDOR_ENCAPSULATED || wire[at + 1] > left - 2) {
            isc_throw(isc::BadValue, "option 43: malformed instance at offset " << at);
        }
        at += 2 + wire[at + 1];
        ++instances_;
    }
    wire_.assign(wire, wire + len);
}

isc::dhcp::OptionPtr
VendorBlocksOption::clone() const {
    return (isc::dhcp::OptionPtr(new VendorBlocksOption(*this)));
}

void
VendorBlocksOption::pack(isc::util::OutputBuffer& buf, bool) const {
    buf.writeData(wire_.data(), wire_.size());
}

uint16_t
VendorBlocksOption::len() const {
    return (static_cast<uint16_t>(wire_.size()));
}

std::string
VendorBlocksOption::toText(int indent) const {
    std::ostringstream s;
    s << std::string(indent, ' ') << "type=043, " << instances_
      << " BSDP instance(s), len=" << wire_.size() << ":";
    s << std::hex << std::setfill('0');
    for (size_t i = 0; i < wire_.size(); ++i) {
        s << (i ? ":" : " ") << std::setw(2) << static_cast<unsigned>(wire_[i]);
    }
    return (s.str());
}

isc::dhcp::OptionPtr
serverIdOption(uint32_t a) {
    return (kea_compat::serverIdOption(isc::asiolink::IOAddress(a)));
}

} // namespace bsdp
} // namespace isc
