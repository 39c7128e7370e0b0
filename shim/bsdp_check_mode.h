// SPDX-License-Identifier: MPL-2.0
// Check mode: kea-bsdp-check loads the library to validate a configuration,
// not to serve. The parameters are checked as usual, but the shared
// bindings store is not started (the check probes the database itself,
// read-only: store/pg_probe.h).
//
// How the library learns it: kea-bsdp-check dlopen()s it first and calls
// the exported bsdp_check_mode_enter() below, then loads the same handle
// through Kea's HooksManager. kea-dhcp4 never calls that function (Kea
// calls only version(), load(), unload(), multi_threading_compatible() and
// callouts named after hook points or commands), and nothing in a
// configuration, a command or the environment can set it, so a production
// server cannot enter check mode by accident: only a process that opens
// the library and asks can.
#ifndef BSDP_CHECK_MODE_H
#define BSDP_CHECK_MODE_H

namespace isc {
namespace bsdp {

// True in kea-bsdp-check (after bsdp_check_mode_enter()).
bool checkMode();

} // namespace bsdp
} // namespace isc

// The version of this interface kea-bsdp-check passes, so a check and a
// library from different builds refuse each other instead of misbehaving.
#define BSDP_CHECK_MODE_INTERFACE 1

extern "C" {
// Puts this library (this process) in check mode for good. Returns 0, or -1
// when interface is not BSDP_CHECK_MODE_INTERFACE.
int bsdp_check_mode_enter(int interface);
}

#endif // BSDP_CHECK_MODE_H
