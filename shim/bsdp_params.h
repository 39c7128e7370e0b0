// SPDX-License-Identifier: MPL-2.0
// The hook's parameters (docs/design.md, "Configuration contract"):
// every name known, every type and range checked, one message naming the
// parameter on the first defect.
#ifndef BSDP_PARAMS_H
#define BSDP_PARAMS_H

#include <cc/data.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace isc {
namespace bsdp {

// what() is "parameter '<name>': <reason>".
class ParamError : public std::runtime_error {
public:
    ParamError(const std::string& name, const std::string& reason)
        : std::runtime_error("parameter '" + name + "': " + reason), name_(name) {}
    const std::string& name() const { return (name_); }
private:
    std::string name_;
};

// The state-file when the configuration names none, in Kea's data
// directory: /var/lib/kea/bsdp-bindings.csv on Debian.
const char* const DEFAULT_STATE_FILE_NAME = "bsdp-bindings.csv";

struct Params {
    std::string sets_directory;
    uint32_t server_address = 0;         // host order, 0 = receiving address
    std::string server_address_text;
    std::string tftp_path_prefix;
    bool has_http_url = false;
    std::string http_url;
    bool has_nfs_url = false;
    std::string nfs_url;
    uint16_t server_priority = 32768;
    bool priority_from_load = false;     // "load": Apple's 32768 - bindings
    // Where Kea's rule for its own files puts it (kea_compat::dataFilePath):
    // by default DEFAULT_STATE_FILE_NAME in Kea's data directory.
    std::string state_file;
    int64_t rescan_interval = 0;
    int64_t chain_window = 600;
    bool has_machine_name_format = false;
    std::string machine_name_format;
    int64_t max_bindings = 65536;        // bindings table capacity
    bool fast_path = false;              // answer BSDP INFORMs in buffer4_receive
    bool offer_bound_clients = true;     // OFFER* to a bound Mac's BSDP DISCOVER
    // "bindings-database": the shared store instead of the state file.
    bool has_bindings_database = false;
    std::string database_text;           // "name@host:port", for the log
    std::vector<std::string> database_keywords, database_values;  // libpq's
    unsigned database_retry_ms = 1000;
    // connect-timeout: also what load, unload and reload wait for it at most.
    unsigned database_timeout_ms = 5000;
};

// Reads and validates the "parameters" map (may be null). Throws
// ParamError. Whether sets-directory can be read is not checked here: that
// is an operational condition (Impl, Reloader), not a configuration error.
Params parseParams(const isc::data::ConstElementPtr& params);

} // namespace bsdp
} // namespace isc

#endif // BSDP_PARAMS_H
