// SPDX-License-Identifier: MPL-2.0
// Operating the hook like any Kea hook: the bsdp-* control commands, the
// statistics and the catalogue reload/rescan, started in load() and
// stopped in unload().
//
//   bsdp-images-list    the catalogue, every skipped set and every warning
//   bsdp-reload         rescan sets-directory now (the old catalogue stays
//                       when it cannot be read: result 1)
//   bsdp-bindings-list  remembered selections, a page in MAC order at a time
//                       {"from": "start" or a MAC, "limit"} (lease4-get-page)
//   bsdp-binding-set    {"hw-address", "image": index or full id}
//   bsdp-binding-del    {"hw-address"}
//   bsdp-explain        {"hw-address", "model", "architecture",
//                       "attribute-filter", "message-size"}: why a Mac is
//                       (not) offered each image (shim/bsdp_explain.cc)
#ifndef BSDP_COMMANDS_H
#define BSDP_COMMANDS_H

#include "bsdp_impl.h"

#include <hooks/hooks.h>

namespace isc {
namespace bsdp {

// Registers the commands, creates the statistics and sets the catalogue
// gauges, starts the rescan when rescan-interval > 0. Throws on failure.
void startOperations(isc::hooks::LibraryHandle& handle, const ImplPtr& impl);

// Stops the rescan thread (joins it) and forgets the implementation.
// Never throws; safe when nothing was started.
void stopOperations();

} // namespace bsdp
} // namespace isc

#endif // BSDP_COMMANDS_H
