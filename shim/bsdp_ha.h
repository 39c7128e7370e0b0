// SPDX-License-Identifier: MPL-2.0
// Kea's HA hook (libdhcp_ha.so) and this library in one kea-dhcp4: where
// HA decides which server answers a query, and whether the fast path
// (which answers from buffer4_receive) can only answer what HA lets through.
#ifndef BSDP_HA_H
#define BSDP_HA_H

#include "bsdp_params.h"

#include <hooks/libinfo.h>

#include <cstddef>

namespace isc {
namespace bsdp {

// What a library list (hooks-libraries, in order) says about HA and us.
struct HaPlacement {
    bool ha_loaded = false;
    size_t ha_position = 0;       // 1-based, as Kea numbers libraries
    size_t own_position = 0;      // 0: not found in the list
    size_t relationships = 0;     // entries of HA's "high-availability"
};

// Finds libdhcp_ha.so and this library (the entry whose parameters are
// own_params: Kea hands each library its own entry's) in libs.
HaPlacement findHa(const isc::hooks::HookLibsCollection& libs,
                   const isc::data::ConstElementPtr& own_params);

// Throws ParamError naming fast-path when HA would decide after the fast
// path answered. HA (2.2.0, 2.6.3, 3.0.4 alike) decides in its
// buffer4_receive callout with one relationship (out of scope: status DROP;
// else SKIP, which never stops a later callout of ours or HA's) and in
// subnet4_select with several (hub and spoke, 2.6+). Callouts of a hook
// point run in hooks-libraries order, and every callout of ours returns at
// once on DROP. So Kea's path (fast-path false) is right in either order,
// and the fast path only after HA with one relationship.
void checkHaPlacement(const HaPlacement& where, const Params& params);

// load(): checks the libraries Kea is loading (HooksManager lists them
// all, parameters included, while each library's load() runs) and logs
// where HA stands. Throws ParamError as above. Returns where HA stands.
HaPlacement checkHaOrder(const isc::data::ConstElementPtr& own_params, const Params& params);

// Where the OFFER* to a bound Mac's DISCOVER is sent: in the first callout
// that only runs for a query HA lets this server answer (for the reasons
// above), and before Kea's processing, which sends no OFFER at all where
// it has no address to offer (a subnet without pools). The fast path:
// buffer4_receive (after HA's, with one relationship). Kea's path:
// pkt4_receive, after HA's buffer4_receive decision; with several
// relationships HA decides later, in subnet4_select, so then pkt4_send of
// Kea's own OFFER (such a server has pools: HA shares leases).
enum class OfferStep { BUFFER4_RECEIVE, PKT4_RECEIVE, PKT4_SEND };
OfferStep offerStep(const HaPlacement& where, const Params& params);

} // namespace bsdp
} // namespace isc

#endif // BSDP_HA_H
