// SPDX-License-Identifier: MPL-2.0
#include "bsdp_log.h"

namespace isc {
namespace bsdp {

isc::log::Logger bsdp_logger("bsdp");

const int BSDP_DBG_PACKET = isc::log::DBGLVL_PKT_HANDLING;

} // namespace bsdp
} // namespace isc
