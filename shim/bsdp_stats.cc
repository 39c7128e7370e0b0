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
const std::string OFFERS_SENT = "bsdp.offers-sent";
// Beside the core's bsdp.dropped-<reason>: the core never sees these queries.
const std::string DROPPED_NO_CATALOGUE = "bsdp.dropped-no-catalogue";
const std::string IMAGES = "bsdp.images";
const std::string SETS_SKIPPED = "bsdp.sets-skipped";
const std::string DB_PENDING = "bsdp.bindings-db-pending";
const std::string DB_WRITTEN = "bsdp.bindings-db-written";
const std::string DB_APPLIED = "bsdp.bindings-db-applied";
const std::string DB_OVERFLOWED = "bsdp.bindings-db-overflowed";
const std::string DB_OUTAGES = "bsdp.bindings-db-outages";
const std::string DB_REFUSED = "bsdp.bindings-db-refused";
const std::string DB_TRIMMED = "bsdp.bindings-db-trimmed";
const std::string DB_UNSPILLED = "bsdp.bindings-db-unspilled";

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
                                 &BINDINGS_EVICTED, &DROPPED_NO_CATALOGUE,
                                 &OFFERS_SENT}) {
        create(*n);
    }
    // "none" is never a drop; every real reason gets its counter.
    for (int r = BSDP_DROP_NONE + 1; r < BSDP_DROP_REASONS; ++r) {
        create(dropped(static_cast<enum bsdp_drop_reason>(r)));
    }
}

void
createDatabase() {
    for (const std::string* n : {&DB_PENDING, &DB_WRITTEN, &DB_APPLIED, &DB_OVERFLOWED,
                                 &DB_OUTAGES, &DB_REFUSED, &DB_TRIMMED, &DB_UNSPILLED}) {
        create(*n);
    }
}

void
setDatabase(size_t pending,
            std::initializer_list<std::pair<const std::string*, uint64_t>> moved) {
    StatsMgr::instance().setValue(DB_PENDING, static_cast<int64_t>(pending));
    for (auto const& m : moved) {
        if (m.second) {
            add(*m.first, m.second);
        }
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
