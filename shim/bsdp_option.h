// SPDX-License-Identifier: MPL-2.0
// Option 43 as the C core wrote it: one or more whole option-43 instances
// ("43 LL payload" back to back), each holding whole BSDP sub-options.
//
// Why a subclass: Pkt4::pack() runs LibDHCP::splitOptions4(), which cuts
// the payload of a plain option longer than 253 bytes at raw byte offsets
// (through a BSDP sub-option), and Pkt4::addOption() refuses a second
// option 43. splitOptions4() only splits an option whose data (getData())
// is longer than 253 bytes or that has sub-options; this one has neither
// (its bytes live outside data_), so it is left alone, and packOptions4()
// then calls our pack(), which writes the core's instances byte for byte.
// len() reports the total so Pkt4::len() stays exact.
#ifndef BSDP_OPTION_H
#define BSDP_OPTION_H

#include <dhcp/option.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace isc {
namespace bsdp {

class VendorBlocksOption : public isc::dhcp::Option {
public:
    // wire: option-43 TLVs back to back. Throws isc::BadValue unless every
    // TLV has code 43 and lies wholly inside wire (and there is at least one).
    VendorBlocksOption(const uint8_t* wire, size_t len);

    isc::dhcp::OptionPtr clone() const override;
    void pack(isc::util::OutputBuffer& buf, bool check = true) const override;
    uint16_t len() const override;
    std::string toText(int indent = 0) const override;

    // The wire bytes (every instance with its header).
    const std::vector<uint8_t>& wire() const { return (wire_); }
    size_t instances() const { return (instances_); }

private:
    std::vector<uint8_t> wire_;
    size_t instances_;
};

// Option 54 (server identifier) for an IPv4 address in host order.
isc::dhcp::OptionPtr serverIdOption(uint32_t address);

} // namespace bsdp
} // namespace isc

#endif // BSDP_OPTION_H
