// SPDX-License-Identifier: MPL-2.0
// The link's largest unfragmented message, for the reply budget of
// bsdp_send.cc (cached per interface).
#ifndef BSDP_MTU_H
#define BSDP_MTU_H

#include <dhcp/pkt4.h>

#include <cstddef>
#include <cstdint>

namespace isc {
namespace bsdp {

// Largest DHCP message the query's link carries unfragmented, or 0.
size_t linkMaxMessage(const isc::dhcp::Pkt4Ptr& query, int64_t now);

} // namespace bsdp
} // namespace isc

#endif // BSDP_MTU_H
