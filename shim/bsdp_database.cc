// SPDX-License-Identifier: MPL-2.0
#include "bsdp_database.h"

#include "bsdp_log.h"
#include "bsdp_stats.h"
#include "kea_compat.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace isc {
namespace bsdp {

namespace {

const char* const STATS_TIMER = "bsdp-bindings-db-stats";
const long STATS_TIMER_MS = 1000;
// How long a stop tries to write what is pending: a config-reload is a stop
// and a start, and the start alone may wait connect-timeout, so the stop
// keeps within the second the reload has beyond it. What is not written by
// then goes to the spill file, nothing is lost.
const unsigned FLUSH_MS = 500;

// "N rest": the store's reports of a count and a path.
std::pair<std::string, std::string>
countAndRest(const char* text) {
    const char* space = std::strchr(text, ' ');
    if (!space) {
        return {text, ""};
    }
    return {std::string(text, space), std::string(space + 1)};
}

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
        case BSDP_PG_REFUSED:
            LOG_ERROR(bsdp_logger, BSDP_DB_REFUSED).arg(c->text).arg(text);
            break;
        case BSDP_PG_SPILLED: {
            auto p = countAndRest(text);
            LOG_WARN(bsdp_logger, BSDP_DB_SPILLED).arg(c->text).arg(p.first).arg(p.second);
            break;
        }
        case BSDP_PG_SPILL_FAILED: {
            auto p = countAndRest(text);
            LOG_ERROR(bsdp_logger, BSDP_DB_SPILL_FAILED).arg(c->text).arg(p.first)
                .arg(p.second);
            break;
        }
        case BSDP_PG_UNSPILLED: {
            auto p = countAndRest(text);
            LOG_INFO(bsdp_logger, BSDP_DB_UNSPILLED).arg(c->text).arg(p.first).arg(p.second);
            break;
        }
        case BSDP_PG_SPILL_WRITTEN:
            LOG_INFO(bsdp_logger, BSDP_DB_SPILL_WRITTEN).arg(c->text).arg(text);
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
      spill_dir_(kea_compat::dataDir()), store_(nullptr, Stop{std::min(FLUSH_MS, params.database_timeout_ms)}),
      after_stats_(std::move(after_stats)) {
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
    // The database keeps what the table keeps.
    cfg.max_rows = report_.queue;
    cfg.spill_dir = spill_dir_.c_str();
    cfg.spill_tag = params.database_text.c_str();
    cfg.count_bound = params.priority_from_load;
    store_.reset(bsdp_pg_start(&cfg, bindings, report_.queue, storeReport, &report_));
    if (!store_) {
        throw std::runtime_error("the bindings database store could not start (no thread "
                                 "or memory)");
    }
    stats::createDatabase();
    timer_.start(STATS_TIMER, STATS_TIMER_MS, [this]() { publishStats(); });
}

BindingsDatabase::~BindingsDatabase() {
    timer_.stop();
    store_.reset();
}

void
BindingsDatabase::publishStats() {
    struct bsdp_pg_stats now;
    bsdp_pg_stats(store_.get(), &now);
    stats::setDatabase(now.pending, {{&stats::DB_WRITTEN, now.written - published_.written},
                                     {&stats::DB_APPLIED, now.applied - published_.applied},
                                     {&stats::DB_OVERFLOWED,
                                      now.overflowed - published_.overflowed},
                                     {&stats::DB_OUTAGES, now.outages - published_.outages},
                                     {&stats::DB_REFUSED, now.refused - published_.refused},
                                     {&stats::DB_TRIMMED, now.trimmed - published_.trimmed},
                                     {&stats::DB_UNSPILLED,
                                      now.unspilled - published_.unspilled}});
    published_ = now;
    if (after_stats_) {
        after_stats_();
    }
}

} // namespace bsdp
} // namespace isc
