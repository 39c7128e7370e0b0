// SPDX-License-Identifier: MPL-2.0
// Host reservations that pin an image ("user-context": {"bsdp-image": N}):
// the lookup the core asks for, whether any pin can exist, and why a pin
// was not followed.
#include "bsdp_impl.h"

#include "bsdp_log.h"
#include "bsdp_packet.h"
#include "kea_compat.h"

#include "hook/policy.h"

#include <dhcpsrv/host_mgr.h>

#include <cstring>
#include <exception>

using isc::dhcp::Pkt4Ptr;

namespace isc {
namespace bsdp {

uint32_t
Impl::pinLookup(void* ctx) {
    const PinRequest* pin = static_cast<const PinRequest*>(ctx);
    try {
        if (!pin->impl->pinsPossible()) {
            return (0);
        }
        uint32_t subnet_id = 0;
        bool selected = pin->handle && kea_compat::selectedSubnetId(*pin->handle, subnet_id);
        return (pin->impl->pinnedImage(pin->query->mac, *pin->packet,
                                       selected ? &subnet_id : nullptr));
    } catch (...) {
        return (0);  // a C caller: nothing may escape
    }
}

uint32_t
Impl::pinnedImage(const uint8_t mac[6], const Pkt4Ptr& query, const uint32_t* subnet_id,
                  std::string* from) const {
    isc::dhcp::ConstHostCollection hosts;
    try {
        // Every reservation of this MAC, global or in any subnet: a relayed
        // Mac may be in no subnet of Kea's.
        hosts = isc::dhcp::HostMgr::instance().getAll(isc::dhcp::Host::IDENT_HWADDR, mac, 6);
    } catch (const std::exception& ex) {
        LOG_ERROR(bsdp_logger, BSDP_PIN_LOOKUP_FAILED).arg(macText(query)).arg(ex.what());
        return (0);
    }
    // Lower is better: the selected subnet's, a global one, any other.
    auto rank = [subnet_id](const isc::dhcp::Host& host) {
        if (!subnet_id) {
            return (0);
        }
        uint32_t id = host.getIPv4SubnetID();
        return (id == *subnet_id ? 0 : id == isc::dhcp::SUBNET_ID_GLOBAL ? 1 : 2);
    };
    uint32_t best = 0;
    int best_rank = 3;
    for (auto const& host : hosts) {
        isc::data::ConstElementPtr ctx = host ? host->getContext() : isc::data::ConstElementPtr();
        if (!ctx || ctx->getType() != isc::data::Element::map) {
            continue;
        }
        isc::data::ConstElementPtr v = ctx->get("bsdp-image");
        if (!v) {
            continue;
        }
        if (v->getType() != isc::data::Element::integer || v->intValue() < 1 ||
            v->intValue() > 65535) {
            LOG_WARN(bsdp_logger, BSDP_PIN_INVALID).arg(macText(query)).arg(v->str());
            continue;
        }
        int r = rank(*host);
        if (r < best_rank) {
            best = static_cast<uint32_t>(v->intValue());
            best_rank = r;
            if (from) {
                uint32_t id = host->getIPv4SubnetID();
                *from = (id == isc::dhcp::SUBNET_ID_GLOBAL ? std::string("global reservation") :
                         "reservation in subnet " + std::to_string(id)) +
                        (host->getHostname().empty() ? "" : " '" + host->getHostname() + "'");
            }
        }
        if (r == 0) {
            break;
        }
    }
    return (best);
}

namespace {

using isc::data::ConstElementPtr;
using isc::data::Element;

// A list of maps from a configuration map, or null.
ConstElementPtr
listIn(const ConstElementPtr& map, const char* key) {
    ConstElementPtr v = map && map->getType() == Element::map ? map->get(key) : ConstElementPtr();
    return (v && v->getType() == Element::list ? v : ConstElementPtr());
}

bool
pinInReservations(const ConstElementPtr& scope) {
    ConstElementPtr list = listIn(scope, "reservations");
    for (size_t i = 0; list && i < list->size(); ++i) {
        ConstElementPtr ctx = list->get(i)->getType() == Element::map ?
                              list->get(i)->get("user-context") : ConstElementPtr();
        if (ctx && ctx->getType() == Element::map && ctx->get("bsdp-image")) {
            return (true);   // valid or not: pinnedImage() reports bad values
        }
    }
    return (false);
}

bool
pinInSubnets(const ConstElementPtr& scope) {
    ConstElementPtr subnets = listIn(scope, "subnet4");
    for (size_t i = 0; subnets && i < subnets->size(); ++i) {
        if (pinInReservations(subnets->get(i))) {
            return (true);
        }
    }
    return (false);
}

} // namespace

void
Impl::configured(const ConstElementPtr& config) {
    ConstElementPtr dhcp4 = config && config->getType() == Element::map && config->get("Dhcp4") ?
                            config->get("Dhcp4") : config;
    if (!dhcp4 || dhcp4->getType() != Element::map) {
        pin_state_.store(PINS_UNKNOWN);
        return;
    }
    ConstElementPtr echo = dhcp4->get("echo-client-id");
    echo_client_id_.store(!(echo && echo->getType() == Element::boolean && !echo->boolValue()));
    bool any = pinInReservations(dhcp4) || pinInSubnets(dhcp4);
    ConstElementPtr networks = listIn(dhcp4, "shared-networks");
    for (size_t i = 0; !any && networks && i < networks->size(); ++i) {
        any = pinInSubnets(networks->get(i));
    }
    pin_state_.store(any ? PINS_SOME : PINS_NONE);
}

bool
Impl::pinsPossible() const {
    if (pin_state_.load(std::memory_order_relaxed) != PINS_NONE) {
        return (true);
    }
    // A host database may gain a pin at any time.
    return (!isc::dhcp::HostMgr::instance().getHostDataSourceList().empty());
}

void
Impl::explainPin(const struct bsdp_catalogue*, const struct bsdp_query&,
                 const struct bsdp_answer& ans, uint32_t pinned, const Pkt4Ptr& query) const {
    if (ans.sent != BSDP_MSGTYPE_LIST || ans.selected_by == BSDP_SELECTED_PIN) {
        return;
    }
    // The responder's own reason (hook/policy.h), not a second copy of it.
    enum bsdp_rule rule = static_cast<enum bsdp_rule>(ans.pin_rule);
    if (rule == BSDP_RULE_FILTER_ONLY || rule == BSDP_RULE_ATTRIBUTE_FILTER) {
        // Applicable but not listed: the client's filter left it out.
        LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_PIN_FILTERED).arg(macText(query)).arg(pinned);
        return;
    }
    LOG_WARN(bsdp_logger, BSDP_PIN_IGNORED).arg(macText(query)).arg(pinned)
        .arg(std::string(bsdp_rule_name(rule)) + " (" + bsdp_rule_text(rule) + ")");
}

} // namespace bsdp
} // namespace isc
