// SPDX-License-Identifier: MPL-2.0
#include "bsdp_ha.h"

#include "bsdp_log.h"
#include "kea_compat.h"

#include <hooks/hooks_manager.h>

#include <string>

using isc::data::ConstElementPtr;
using isc::data::Element;
using isc::hooks::HookLibInfo;
using isc::hooks::HookLibsCollection;

namespace isc {
namespace bsdp {

namespace {

const char* const HA_LIBRARY = "libdhcp_ha.so";

std::string
baseName(const std::string& path) {
    size_t slash = path.rfind('/');
    return (slash == std::string::npos ? path : path.substr(slash + 1));
}

} // namespace

HaPlacement
findHa(const HookLibsCollection& libs, const ConstElementPtr& own_params) {
    HaPlacement where;
    for (size_t i = 0; i < libs.size(); ++i) {
        HookLibInfo info = libs[i];
        const ConstElementPtr& params = kea_compat::libParameters(info);
        if (where.own_position == 0 && own_params && params.get() == own_params.get()) {
            where.own_position = i + 1;
        }
        if (!where.ha_loaded && baseName(kea_compat::libName(info)) == HA_LIBRARY) {
            where.ha_loaded = true;
            where.ha_position = i + 1;
            ConstElementPtr rel = params && params->getType() == Element::map
                                      ? params->get("high-availability") : ConstElementPtr();
            where.relationships = rel && rel->getType() == Element::list ? rel->size() : 0;
        }
    }
    return (where);
}

void
checkHaPlacement(const HaPlacement& where, const Params& params) {
    if (!where.ha_loaded || !params.fast_path) {
        return;
    }
    if (where.relationships > 1) {
        throw ParamError("fast-path",
                         "libdhcp_ha.so has several relationships (hub and spoke): it decides "
                         "which server answers in subnet4_select, after the fast path answered "
                         "from buffer4_receive; set fast-path to false");
    }
    if (where.own_position != 0 && where.own_position < where.ha_position) {
        throw ParamError("fast-path",
                         "libdhcp_ha.so comes after libdhcp_bsdp.so in hooks-libraries: the "
                         "fast path would answer from buffer4_receive before HA decides whether "
                         "this server answers at all; list libdhcp_ha.so before libdhcp_bsdp.so");
    }
}

OfferStep
offerStep(const HaPlacement& where, const Params& params) {
    if (params.fast_path) {
        return (OfferStep::BUFFER4_RECEIVE);
    }
    return (where.ha_loaded && where.relationships > 1 ? OfferStep::PKT4_SEND
                                                       : OfferStep::PKT4_RECEIVE);
}

HaPlacement
checkHaOrder(const ConstElementPtr& own_params, const Params& params) {
    HaPlacement where = findHa(isc::hooks::HooksManager::getLibraryInfo(), own_params);
    checkHaPlacement(where, params);
    if (where.ha_loaded) {
        LOG_INFO(bsdp_logger, BSDP_HA_LOADED).arg(where.ha_position)
            .arg(where.own_position ? std::to_string(where.own_position) : std::string("?"))
            .arg(params.fast_path ? "on" : "off");
    }
    return (where);
}

} // namespace bsdp
} // namespace isc
