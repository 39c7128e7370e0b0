// SPDX-License-Identifier: MPL-2.0
// The bindings state file as Kea runs it: loaded in load(), saved by the
// core's writer thread after each change, a damaged file reported at load
// (never fatal) and set aside when the first change replaces it. Loading
// and unloading alone never write it (kea-dhcp4 -T loads us as a check).
#ifndef BSDP_STATE_H
#define BSDP_STATE_H

#include "hook/bindings.h"
#include "store/state_file.h"

#include <string>

namespace isc {
namespace bsdp {

// Save interval: kill -9 loses at most this much of the latest changes.
const unsigned BSDP_STATE_INTERVAL_MS = 500;

// Owns the writer thread of one state file.
class StateFile {
public:
    // Loads path into bindings (logging every bad line; a damaged or
    // unreadable file is set aside by the first save) and starts the
    // writer. Reads only. Never throws for a file problem: serving goes on.
    StateFile(const std::string& path, struct bsdp_bindings* bindings);
    // Stops the writer, saving what changed since the last save (nothing
    // when nothing changed since load).
    ~StateFile();
    StateFile(const StateFile&) = delete;
    StateFile& operator=(const StateFile&) = delete;


private:
    std::string path_;
    struct bsdp_state_writer* writer_;
};

} // namespace bsdp
} // namespace isc

#endif // BSDP_STATE_H
