// SPDX-License-Identifier: MPL-2.0
#include "bsdp_log.h"

#include <ctime>

namespace isc {
namespace bsdp {

isc::log::Logger bsdp_logger("bsdp");

const int BSDP_DBG_PACKET = isc::log::DBGLVL_PKT_HANDLING;

std::string
utcText(int64_t seconds) {
    std::time_t t = static_cast<std::time_t>(seconds);
    struct tm tm;
    char buf[32];
    if (!gmtime_r(&t, &tm) || std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        return (std::to_string(seconds));
    }
    return (buf);
}

} // namespace bsdp
} // namespace isc
