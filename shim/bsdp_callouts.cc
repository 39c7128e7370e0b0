// SPDX-License-Identifier: MPL-2.0
// The entry points of libdhcp_bsdp.so. Every callout checks the packet
// status, null-checks its arguments, catches everything and returns 0.
#include "bsdp_commands.h"
#include "bsdp_ha.h"
#include "bsdp_impl.h"
#include "bsdp_log.h"
#include "bsdp_packet.h"
#include "kea_compat.h"  // checks that version() returns what -D says

#include <dhcp/dhcp4.h>
#include <hooks/hooks.h>
#include <process/daemon.h>

#include <exception>
#include <string>

using isc::bsdp::Impl;
using isc::bsdp::ImplPtr;
using isc::bsdp::bsdp_logger;
using isc::dhcp::Pkt4Ptr;
using isc::hooks::CalloutHandle;
using isc::hooks::LibraryHandle;

namespace isc {
namespace bsdp {

// Set by load(), cleared by unload(); Kea runs no callout during either.
ImplPtr impl;

} // namespace bsdp
} // namespace isc

namespace {

// After an unexpected error, a BSDP query must not get Kea's plain ACK.
void
dropBsdp(CalloutHandle& handle) {
    try {
        Pkt4Ptr query;
        handle.getArgument("query4", query);
        if (query && isc::bsdp::isBsdpQuery(query)) {
            handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
        }
    } catch (...) {
    }
}

// The frame of every packet callout: nothing to do once a library before
// us dropped the packet, or without a query; nothing escapes; after an
// error on_error (if any) decides the packet's fate and the error is logged.
template <typename Body>
int
packetCallout(CalloutHandle& handle, const char* name, void (*on_error)(CalloutHandle&),
              Body body) {
    try {
        if (handle.getStatus() == CalloutHandle::NEXT_STEP_DROP) {
            return (0);
        }
        const Impl* impl = isc::bsdp::impl.get();   // no callout runs during load/unload
        if (!impl) {
            return (0);
        }
        Pkt4Ptr query;
        handle.getArgument("query4", query);
        if (query) {
            body(*impl, query);
        }
    } catch (const std::exception& ex) {
        if (on_error) {
            on_error(handle);
        }
        try {
            LOG_ERROR(bsdp_logger, isc::bsdp::BSDP_REPLY_ERROR)
                .arg(std::string("(") + name + ")").arg(ex.what());
        } catch (...) {
        }
    } catch (...) {
        if (on_error) {
            on_error(handle);
        }
    }
    return (0);
}

// subnet4_select (registered from 2.6, see kea_compat): for a BSDP query,
// the subnet Kea selected, kept for pkt4_send's pins.
int
rememberSubnet(CalloutHandle& handle) {
    return (packetCallout(handle, "subnet4_select", nullptr,
                          [&](const Impl&, const Pkt4Ptr& query) {
        if (isc::bsdp::isBsdpQuery(query)) {
            isc::bsdp::kea_compat::rememberSelectedSubnet(handle);
        }
    }));
}

} // namespace

extern "C" {

int
version() {
    return (KEA_HOOKS_VERSION);
}

int
multi_threading_compatible() {
    return (1);
}

int
load(LibraryHandle& handle) {
    try {
        std::string proc = isc::process::Daemon::getProcName();
        if (!proc.empty() && proc != "kea-dhcp4") {
            LOG_ERROR(bsdp_logger, isc::bsdp::BSDP_LOAD_ERROR)
                .arg("libdhcp_bsdp.so is a DHCPv4 (kea-dhcp4) hook library; it cannot be loaded by " +
                     proc);
            return (1);
        }
        isc::data::ConstElementPtr params = handle.getParameters();
        isc::bsdp::impl.reset(new Impl(params));
        isc::bsdp::HaPlacement ha = isc::bsdp::checkHaOrder(params, isc::bsdp::impl->params());
        isc::bsdp::impl->setOfferStep(isc::bsdp::offerStep(ha, isc::bsdp::impl->params()));
        isc::bsdp::startOperations(handle, isc::bsdp::impl);
        if (isc::bsdp::kea_compat::PKT4_SEND_HAS_SUBNET) {
            handle.registerCallout("subnet4_select", rememberSubnet);
        }
    } catch (const std::exception& ex) {
        isc::bsdp::stopOperations();
        isc::bsdp::impl.reset();
        LOG_ERROR(bsdp_logger, isc::bsdp::BSDP_LOAD_ERROR).arg(ex.what());
        return (1);
    } catch (...) {
        isc::bsdp::stopOperations();
        isc::bsdp::impl.reset();
        LOG_ERROR(bsdp_logger, isc::bsdp::BSDP_LOAD_ERROR).arg("unexpected error");
        return (1);
    }
    return (0);
}

int
unload() {
    try {
        // The rescan thread goes first: it uses the implementation.
        isc::bsdp::stopOperations();
        if (isc::bsdp::impl) {
            isc::bsdp::impl.reset();
            LOG_INFO(bsdp_logger, isc::bsdp::BSDP_UNLOADED);
        }
    } catch (...) {
    }
    return (0);
}

int
dhcp4_srv_configured(CalloutHandle& handle) {
    try {
        Impl* impl = isc::bsdp::impl.get();
        if (!impl) {
            return (0);
        }
        isc::data::ConstElementPtr config;
        handle.getArgument("json_config", config);
        impl->configured(config);
    } catch (...) {
        // Never fails a configuration: without it, every LIST looks up its host.
    }
    return (0);
}

int
buffer4_receive(CalloutHandle& handle) {
    return (packetCallout(handle, "buffer4_receive", nullptr,
                          [&](const Impl& impl, const Pkt4Ptr& query) {
        impl.receive(handle, query);
    }));
}

// The OFFER* step of Kea's path without HA or with one relationship (see
// isc::bsdp::OfferStep): never changes what Kea does with the query.
int
pkt4_receive(CalloutHandle& handle) {
    return (packetCallout(handle, "pkt4_receive", nullptr,
                          [&](const Impl& impl, const Pkt4Ptr& query) {
        if (impl.offerStep() == isc::bsdp::OfferStep::PKT4_RECEIVE) {
            impl.offer(handle, query);
        }
    }));
}

int
pkt4_send(CalloutHandle& handle) {
    return (packetCallout(handle, "pkt4_send", dropBsdp,
                          [&](const Impl& impl, const Pkt4Ptr& query) {
        Pkt4Ptr response;
        handle.getArgument("response4", response);
        if (!response) {
            return;
        }
        if (impl.offerStep() == isc::bsdp::OfferStep::PKT4_SEND &&
            response->getType() == isc::dhcp::DHCPOFFER) {
            impl.offer(handle, query);
        }
        impl.send(handle, query, response);
    }));
}

} // extern "C"
