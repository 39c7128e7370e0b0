// SPDX-License-Identifier: MPL-2.0
// The hook's statistics, all named "bsdp.*" so statistic-get-all shows them
// beside Kea's. Counters are created at 0 on load so operators can see (and
// graph) every name before the first packet.
#ifndef BSDP_STATS_H
#define BSDP_STATS_H

#include "hook/catalogue.h"
#include "hook/responder.h"

#include <initializer_list>
#include <string>
#include <utility>

namespace isc {
namespace bsdp {
namespace stats {

extern const std::string REQUESTS_LIST;     // INFORM[LIST] received
extern const std::string REQUESTS_SELECT;   // INFORM[SELECT] received
extern const std::string REPLIES_LIST;      // ACK[LIST] sent
extern const std::string REPLIES_SELECT;    // ACK[SELECT] sent
extern const std::string REPLIES_FAILED;    // ACK[FAILED] sent
extern const std::string LISTS_TRUNCATED;   // ACK[LIST] that could not hold every image
extern const std::string BINDINGS_EVICTED;  // bindings pushed out of a full table
extern const std::string OFFERS_SENT;       // OFFER* sent to bound Macs' DISCOVERs
extern const std::string DROPPED_NO_CATALOGUE;  // BSDP queries while sets-directory never read
extern const std::string IMAGES;            // gauge: images in the catalogue
extern const std::string SETS_SKIPPED;      // gauge: sets not served

// "bsdp.dropped-<bsdp_drop_reason_name>", one per reason; built once.
const std::string& dropped(enum bsdp_drop_reason reason);

// Adds 1; names are prebuilt strings so a packet costs no allocation here.
void count(const std::string& name);

// Adds n.
void add(const std::string& name, uint64_t n);

// Creates every counter that does not exist yet at 0 (main thread).
void createAll();

// The bindings database's statistics: created at 0 when it is configured,
// then the gauge of changes not yet written set, and the counters moved by
// what happened since the last call (main thread).
extern const std::string DB_PENDING;        // gauge: changes not yet written
extern const std::string DB_WRITTEN;        // changes written
extern const std::string DB_APPLIED;        // other servers' changes applied
extern const std::string DB_OVERFLOWED;     // changes beyond the queue (table rewritten)
extern const std::string DB_OUTAGES;        // times the database became unreachable
extern const std::string DB_REFUSED;        // changes the database refused for good
extern const std::string DB_TRIMMED;        // rows removed beyond max-bindings
extern const std::string DB_UNSPILLED;      // changes read back from spill files at start
void createDatabase();
// moved: each counter and how much it moved.
void setDatabase(size_t pending,
                 std::initializer_list<std::pair<const std::string*, uint64_t>> moved);

// Sets the two catalogue gauges (main thread, or any thread when Kea runs
// multi-threaded: StatsMgr only locks in that mode).
void setGauges(size_t images, size_t skipped);

} // namespace stats
} // namespace bsdp
} // namespace isc

#endif // BSDP_STATS_H
