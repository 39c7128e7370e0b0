// SPDX-License-Identifier: MPL-2.0
// The "fast-path" parameter: a BSDP INFORM answered from buffer4_receive,
// built and sent here instead of by Kea's INFORM processing.
#ifndef BSDP_FAST_PATH_H
#define BSDP_FAST_PATH_H

#include "bsdp_impl.h"

#include <dhcp/pkt4.h>
#include <hooks/callout_handle.h>

namespace isc {
namespace bsdp {

// Builds the reply Kea would start from (header fields and echoed options
// as Kea copies them, server identifier), lets impl.send() make it a BSDP
// answer, sends it and sets DROP so that Kea does nothing more with the
// query. Returns false, changing nothing, when the query cannot be answered
// here (no local address known): Kea then processes it as usual.
bool answerBeforeKea(const Impl& impl, isc::hooks::CalloutHandle& handle,
                     const isc::dhcp::Pkt4Ptr& query);

} // namespace bsdp
} // namespace isc

#endif // BSDP_FAST_PATH_H
