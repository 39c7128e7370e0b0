// SPDX-License-Identifier: MPL-2.0
#include "bsdp_check_mode.h"

#include <atomic>

namespace isc {
namespace bsdp {

namespace {

std::atomic<bool> check_mode(false);

} // namespace

bool
checkMode() {
    return (check_mode.load());
}

} // namespace bsdp
} // namespace isc

extern "C" int
bsdp_check_mode_enter(int interface) {
    if (interface != BSDP_CHECK_MODE_INTERFACE) {
        return (-1);
    }
    isc::bsdp::check_mode.store(true);
    return (0);
}
