// SPDX-License-Identifier: MPL-2.0
// The bindings state file as Kea runs it: loaded in load(), a damaged file
// reported and set aside (never fatal), saved by the core's writer thread
// and stopped with a final save in unload().
#ifndef BSDP_STATE_H
#define BSDP_STATE_H

#include "hook/bindings.h"
#include "hook/state_file.h"

#include <string>

namespace isc {
namespace bsdp {

// Save interval: kill -9 loses at most this much of the latest changes.
const unsigned BSDP_STATE_INTERVAL_MS = 500;

// Owns the writer thread of one state file.
class StateFile {
public:
    // Loads path into bindings (logging every bad line), sets a damaged or
    // unreadable file aside, and starts the writer, which writes a fresh
    // file at once. Never throws for a file problem: serving goes on.
    StateFile(const std::string& path, struct bsdp_bindings* bindings);
    // Stops the writer after a final save.
    ~StateFile();
    StateFile(const StateFile&) = delete;
    StateFile& operator=(const StateFile&) = delete;

    // Asks for a save soon (after a change made outside the packet path).
    void requestSave();

private:
    std::string path_;
    struct bsdp_state_writer* writer_;
};

} // namespace bsdp
} // namespace isc

#endif // BSDP_STATE_H
