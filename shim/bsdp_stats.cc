// SPDX-License-Identifier: MPL-2.0
#include "bsdp_stats.h"

#include <stats/stats_mgr.h>

#include <cstdint>
#include <vector>

using isc::stats::StatsMgr;

namespace isc {
namespace bsdp {
namespace stats {

const std::string REQUESTS_LIST = "bsdp.requests-list";
const std::string REQUESTS_SELECT = "bsdp.requests-select";
const std::string REPLIES_LIST = "bsdp.replies-list";
const std::string REPLIES_SELECT = "bsdp.replies-select";
const std::string REPLIES_FAILED = "bsdp.replies-failed";
const std::string LISTS_TRUNCATED = "bsdp.lists-truncated";
const std::string BINDINGS_EVICTED = "bsdp.bindings-evicted";
// Beside the core's bsdp.dropped-<reason>: the core never sees these queries.
const std::string DROPPED_NO_CATALOGUE = "bsdp.dropped-no-catalogue";
const std::string IMAGES = "bsdp.images";
const std::string SETS_SKIPPED = "bsdp.sets-skipped";

namespace {

std::vector<std::string>
buildDropNames() {
    std::vector<std::string> names;
    for (int r = 0; r <= BSDP_DROP_REASONS; ++r) {
        names.push_back(std::string("bsdp.dropped-") +
                        bsdp_drop_reason_name(static_cast<enum bsdp_drop_reason>(r)));
    }
    return (names);
}

// Index BSDP_DROP_REASONS holds "unknown", for a reason out of range.
const std::vector<std::string> DROP_NAMES = buildDropNames();

void
create(const std::string& name) {
    if (!StatsMgr::instance().getObservation(name)) {
        StatsMgr::instance().setValue(name, int64_t(0));
    }
}

} // namespace

const std::string&
dropped(enum bsdp_drop_reason reason) {
    unsigned r = static_cast<unsigned>(reason);
    return (DROP_NAMES[r < unsigned(BSDP_DROP_REASONS) ? r : unsigned(BSDP_DROP_REASONS)]);
}

void
count(const std::string& name) {
    StatsMgr::instance().addValue(name, int64_t(1));
}

void
add(const std::string& name, uint64_t n) {
    StatsMgr::instance().addValue(name, static_cast<int64_t>(n));
}

void
createAll() {
    for (const std::string* n : {&REQUESTS_LIST, &REQUESTS_SELECT, &REPLIES_LIST,
                                 &REPLIES_SELECT, &REPLIES_FAILED, &LISTS_TRUNCATED,
                                 &BINDINGS_EVICTED, &DROPPED_NO_CATALOGUE}) {
        create(*n);
    }
    // "none" is never a drop; every real reason gets its counter.
    for (int r = BSDP_DROP_NONE + 1; r < BSDP_DROP_REASONS; ++r) {
        create(dropped(static_cast<enum bsdp_drop_reason>(r)));
    }
}

void
setGauges(size_t images, size_t skipped) {
    StatsMgr::instance().setValue(IMAGES, static_cast<int64_t>(images));
    StatsMgr::instance().setValue(SETS_SKIPPED, static_cast<int64_t>(skipped));
}

} // namespace stats
} // namespace bsdp
} // namespace isc
