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
#include <string>
#include <vector>

namespace isc {
namespace bsdp {

class BindingsDatabase {
public:
    // Starts the store on bindings (connecting in the background: an
    // unreachable database is logged, never fatal). Throws when no thread
    // or memory can be had.
    // after_stats runs on the main thread after each statistics update.
    BindingsDatabase(const Params& params, struct bsdp_bindings* bindings,
                     std::function<void()> after_stats);
    // Writes what is pending (waiting at most a couple of seconds), stops.
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
    ReportContext report_;       // outlives the store (stopped first)
    std::vector<const char*> keywords_, values_;
    struct bsdp_pg* store_;
    MainThreadTimer timer_;
    struct bsdp_pg_stats published_;
    std::function<void()> after_stats_;
};

} // namespace bsdp
} // namespace isc

#endif // BSDP_DATABASE_H
