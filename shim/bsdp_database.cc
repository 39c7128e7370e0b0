// SPDX-License-Identifier: MPL-2.0
#include "bsdp_database.h"

#include "bsdp_log.h"
#include "bsdp_stats.h"

#include <cstring>
#include <stdexcept>

namespace isc {
namespace bsdp {

namespace {

const char* const STATS_TIMER = "bsdp-bindings-db-stats";
const long STATS_TIMER_MS = 1000;
// How long unload waits to write what is pending.
const unsigned FLUSH_MS = 2000;

// Runs on the store's thread: nothing may be thrown through it.
extern "C" void
storeReport(void* ctx, enum bsdp_pg_event event, const char* text) {
    const BindingsDatabase::ReportContext* c =
        static_cast<const BindingsDatabase::ReportContext*>(ctx);
    try {
        switch (event) {
        case BSDP_PG_CONNECTED:
            LOG_INFO(bsdp_logger, BSDP_DB_CONNECTED).arg(c->text).arg(text);
            break;
        case BSDP_PG_SCHEMA_CREATED:
            LOG_INFO(bsdp_logger, BSDP_DB_SCHEMA_CREATED).arg(c->text);
            break;
        case BSDP_PG_LOST:
            LOG_ERROR(bsdp_logger, BSDP_DB_LOST).arg(c->text).arg(text).arg(c->queue);
            break;
        case BSDP_PG_RESTORED:
            LOG_INFO(bsdp_logger, BSDP_DB_RESTORED).arg(c->text).arg(text);
            break;
        case BSDP_PG_RENUMBERED:
            LOG_WARN(bsdp_logger, BSDP_DB_RENUMBERED).arg(c->text).arg(text);
            break;
        }
    } catch (...) {
    }
}

} // namespace

BindingsDatabase::BindingsDatabase(const Params& params, struct bsdp_bindings* bindings,
                                   std::function<void()> after_stats)
    // Changes an outage can queue: as many as the table holds (beyond it
    // the whole table is written when the database is back).
    : report_{params.database_text, static_cast<size_t>(params.max_bindings)},
      store_(nullptr), after_stats_(std::move(after_stats)) {
    std::memset(&published_, 0, sizeof(published_));
    for (size_t i = 0; i < params.database_keywords.size(); ++i) {
        keywords_.push_back(params.database_keywords[i].c_str());
        values_.push_back(params.database_values[i].c_str());
    }
    keywords_.push_back(nullptr);
    values_.push_back(nullptr);
    struct bsdp_pg_config cfg;
    std::memset(&cfg, 0, sizeof(cfg));
    cfg.keywords = keywords_.data();
    cfg.values = values_.data();
    cfg.retry_ms = params.database_retry_ms;
    store_ = bsdp_pg_start(&cfg, bindings, report_.queue, storeReport, &report_);
    if (!store_) {
        throw std::runtime_error("the bindings database store could not start (no thread "
                                 "or memory)");
    }
    stats::createDatabase();
    timer_.start(STATS_TIMER, STATS_TIMER_MS, [this]() { publishStats(); });
}

BindingsDatabase::~BindingsDatabase() {
    timer_.stop();
    bsdp_pg_stop(store_, FLUSH_MS);
}

void
BindingsDatabase::publishStats() {
    struct bsdp_pg_stats now;
    bsdp_pg_stats(store_, &now);
    stats::setDatabase(now.pending, now.written - published_.written,
                       now.applied - published_.applied,
                       now.overflowed - published_.overflowed, now.outages - published_.outages);
    published_ = now;
    if (after_stats_) {
        after_stats_();
    }
}

} // namespace bsdp
} // namespace isc
