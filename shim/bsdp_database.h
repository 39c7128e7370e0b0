// SPDX-License-Identifier: MPL-2.0
// The shared bindings store ("bindings-database") as Kea runs it: the
// core's store thread writes and reads PostgreSQL; its events go to Kea's
// log and its numbers to Kea's statistics (on the main thread, by a timer).
#ifndef BSDP_DATABASE_H
#define BSDP_DATABASE_H

#include "bsdp_params.h"
#include "bsdp_timer.h"

#include "hook/bindings.h"
#include "store/bindings_pg.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace isc {
namespace bsdp {

class BindingsDatabase {
public:
    // Starts the store on bindings: waits at most connect-timeout for the
    // first connection and read, then the store goes on in its thread (an
    // unreachable database is logged, never fatal). Changes a stop during an
    // outage kept in a spill file in Kea's data directory are read back.
    // Throws when no thread or memory can be had (nothing left running).
    // after_stats runs on the main thread after each statistics update.
    BindingsDatabase(const Params& params, struct bsdp_bindings* bindings,
                     std::function<void()> after_stats);
    // Writes what is pending (waiting at most half a second, cancelling a
    // statement still running then), keeps the rest in a spill file, stops.
    ~BindingsDatabase();
    BindingsDatabase(const BindingsDatabase&) = delete;
    BindingsDatabase& operator=(const BindingsDatabase&) = delete;

    // Sets the bsdp.bindings-db-* statistics (main thread).
    void publishStats();

    // What the store's reports name: the database and the queue's length.
    struct ReportContext {
        std::string text;
        size_t queue;
    };

private:
    // Stops the store (bounded: flush_ms, then a cancel).
    struct Stop {
        unsigned flush_ms;
        void operator()(struct bsdp_pg* store) const { bsdp_pg_stop(store, flush_ms); }
    };

    // Declared in the order they must outlive each other: a constructor
    // that throws after the store started still stops it (the store's
    // thread uses report_, the keywords and the spill folder).
    ReportContext report_;
    std::vector<const char*> keywords_, values_;
    std::string spill_dir_;
    std::unique_ptr<struct bsdp_pg, Stop> store_;
    MainThreadTimer timer_;
    struct bsdp_pg_stats published_;
    std::function<void()> after_stats_;
};

} // namespace bsdp
} // namespace isc

#endif // BSDP_DATABASE_H
