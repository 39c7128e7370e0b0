// SPDX-License-Identifier: MPL-2.0
// The logger of libdhcp_bsdp.so: appears as kea-dhcp4.bsdp.
#ifndef BSDP_LOG_H
#define BSDP_LOG_H

#include <log/logger.h>
#include <log/log_dbglevels.h>
#include <log/macros.h>

#include "bsdp_messages.h"

#include <cstdint>
#include <string>

namespace isc {
namespace bsdp {

extern isc::log::Logger bsdp_logger;

// Debug level of per-packet messages (drops, LIST details).
extern const int BSDP_DBG_PACKET;

// Seconds since the epoch as logs and commands show a time:
// "2024-05-01T12:00:00Z" (UTC).
std::string utcText(int64_t seconds);

} // namespace bsdp
} // namespace isc

#endif // BSDP_LOG_H
