// SPDX-License-Identifier: MPL-2.0
// Reading Kea packets in the packet path (shared by the callouts' steps in
// bsdp_receive.cc, bsdp_send.cc, bsdp_pins.cc and bsdp_ipxe.cc).
#ifndef BSDP_PACKET_H
#define BSDP_PACKET_H

#include <dhcp/option.h>
#include <dhcp/pkt4.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace isc {
namespace bsdp {

// The client's hardware address for log messages.
std::string macText(const isc::dhcp::Pkt4Ptr& query);
// An image ID for log messages: "index (0xid)".
std::string idText(uint32_t id);
// An option of a packet, read in place (no clone, unlike getOption()).
isc::dhcp::OptionPtr peekOption(const isc::dhcp::Pkt4Ptr& pkt, uint16_t code);
// The exact bytes a client sent in an option, borrowed from the packet.
const isc::dhcp::OptionBuffer* optionBytes(const isc::dhcp::Pkt4Ptr& pkt, uint16_t code);
// Option 57, or -1.
int maxMessageSize(const isc::dhcp::Pkt4Ptr& pkt);
// Bytes of every instance of `code` in a packet about to be packed.
size_t optionsLen(const isc::dhcp::Pkt4Ptr& pkt, uint16_t code);
// An IPv4 address option, or 0.
uint32_t addressOption(const isc::dhcp::Pkt4Ptr& pkt, uint16_t code);

} // namespace bsdp
} // namespace isc

#endif // BSDP_PACKET_H
