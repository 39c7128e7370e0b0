// SPDX-License-Identifier: MPL-2.0
#include "bsdp_params.h"
#include "kea_compat.h"

#include "hook/bindings.h"
#include "hook/responder.h"

#include <arpa/inet.h>

#include <cstring>
#include <limits>

using isc::data::ConstElementPtr;
using isc::data::Element;

namespace isc {
namespace bsdp {

namespace {

const char* const KNOWN[] = {
    "sets-directory", "server-address", "tftp-path-prefix", "http-url", "nfs-url",
    "server-priority", "state-file", "rescan-interval", "chain-window",
    "machine-name-format", "fast-path", "max-bindings", "bindings-database",
    "offer-bound-clients",
};

// "bindings-database" takes the keys of Kea's own database configuration
// that mean something for libpq.
const char* const DATABASE_KEYS[] = {
    "type", "name", "host", "port", "user", "password", "connect-timeout",
    "tcp-user-timeout", "reconnect-wait-time",
};

bool
getBool(const ConstElementPtr& value, const std::string& name) {
    if (value->getType() != Element::boolean) {
        throw ParamError(name, "must be true or false");
    }
    return (value->boolValue());
}

std::string
getString(const ConstElementPtr& value, const std::string& name, bool non_empty) {
    if (value->getType() != Element::string) {
        throw ParamError(name, non_empty ? "must be a non-empty string" : "must be a string");
    }
    std::string s = value->stringValue();
    if (non_empty && s.empty()) {
        throw ParamError(name, "must be a non-empty string");
    }
    if (s.find('\0') != std::string::npos) {
        throw ParamError(name, "must not contain a NUL character");
    }
    return (s);
}

int64_t
getInt(const ConstElementPtr& value, const std::string& name, int64_t min, int64_t max,
       const std::string& range) {
    if (value->getType() != Element::integer) {
        throw ParamError(name, "must be an integer " + range);
    }
    int64_t v = value->intValue();
    if (v < min || v > max) {
        throw ParamError(name, "must be an integer " + range + " (got " + std::to_string(v) + ")");
    }
    return (v);
}

std::string
joined(const char* const* names, size_t n) {
    std::string list;
    for (size_t i = 0; i < n; ++i) {
        list += (list.empty() ? "" : ", ") + std::string(names[i]);
    }
    return (list);
}

void
addKeyword(Params& p, const char* keyword, const std::string& value) {
    p.database_keywords.push_back(keyword);
    p.database_values.push_back(value);
}

// Kea's database-configuration shape, into libpq's keywords.
void
parseDatabase(const ConstElementPtr& map, Params& p) {
    const std::string name = "bindings-database";
    if (map->getType() != Element::map) {
        throw ParamError(name, "must be a map like Kea's lease-database "
                         "({\"type\": \"postgresql\", \"name\": ...})");
    }
    const int64_t int_max = std::numeric_limits<int32_t>::max();
    std::string type, db, host = "localhost", port;
    int64_t connect_timeout = 5;
    for (auto const& entry : map->mapValue()) {
        const std::string& key = entry.first;
        const std::string full = name + "." + key;
        bool known = false;
        for (const char* k : DATABASE_KEYS) {
            known = known || key == k;
        }
        if (!known) {
            throw ParamError(full, "unknown (known keys: " +
                             joined(DATABASE_KEYS, sizeof(DATABASE_KEYS) / sizeof(*DATABASE_KEYS)) +
                             ")");
        }
        if (!entry.second) {
            throw ParamError(full, "has no value");
        }
        if (key == "type") {
            type = getString(entry.second, full, true);
        } else if (key == "name") {
            db = getString(entry.second, full, true);
        } else if (key == "host") {
            host = getString(entry.second, full, true);
        } else if (key == "port") {
            port = std::to_string(getInt(entry.second, full, 1, 65535, "in 1..65535"));
        } else if (key == "user") {
            addKeyword(p, "user", getString(entry.second, full, true));
        } else if (key == "password") {
            addKeyword(p, "password", getString(entry.second, full, false));
        } else if (key == "connect-timeout") {
            connect_timeout = getInt(entry.second, full, 1, int_max, ">= 1 (seconds)");
        } else if (key == "tcp-user-timeout") {
            int64_t s = getInt(entry.second, full, 0, int_max / 1000, ">= 0 (seconds)");
            addKeyword(p, "tcp_user_timeout", std::to_string(s * 1000));
        } else if (key == "reconnect-wait-time") {
            p.database_retry_ms = static_cast<unsigned>(
                getInt(entry.second, full, 1, int_max, ">= 1 (milliseconds)"));
        }
    }
    if (type != "postgresql") {
        throw ParamError(name + ".type", type.empty() ? "required: \"postgresql\"" :
                         "must be \"postgresql\" (got \"" + type + "\")");
    }
    if (db.empty()) {
        throw ParamError(name + ".name", "required (the database's name)");
    }
    addKeyword(p, "dbname", db);
    addKeyword(p, "host", host);
    if (!port.empty()) {
        addKeyword(p, "port", port);
    }
    addKeyword(p, "connect_timeout", std::to_string(connect_timeout));
    p.database_timeout_ms = static_cast<unsigned>(std::min<int64_t>(connect_timeout, 3600) * 1000);
    addKeyword(p, "application_name", "kea-dhcp4 libdhcp_bsdp");
    p.database_text = db + "@" + host + (port.empty() ? "" : ":" + port);
    p.has_bindings_database = true;
}

} // namespace

Params
parseParams(const ConstElementPtr& params) {
    Params p;
    if (!params) {
        throw ParamError("sets-directory", "required");
    }
    if (params->getType() != Element::map) {
        throw ParamError("parameters", "must be a map");
    }
    const int64_t int_max = std::numeric_limits<int32_t>::max();
    bool has_state_file = false;
    for (auto const& entry : params->mapValue()) {
        const std::string& name = entry.first;
        const ConstElementPtr& value = entry.second;
        bool known = false;
        for (const char* k : KNOWN) {
            known = known || name == k;
        }
        if (!known) {
            throw ParamError(name, "unknown (known parameters: " +
                             joined(KNOWN, sizeof(KNOWN) / sizeof(*KNOWN)) + ")");
        }
        if (!value) {
            throw ParamError(name, "has no value");
        }
        if (name == "sets-directory") {
            p.sets_directory = getString(value, name, true);
        } else if (name == "server-address") {
            if (value->getType() != Element::string) {
                throw ParamError(name, "must be an IPv4 address string such as \"198.18.0.1\"");
            }
            p.server_address_text = getString(value, name, true);
            struct in_addr a;
            if (inet_pton(AF_INET, p.server_address_text.c_str(), &a) != 1) {
                throw ParamError(name, "must be an IPv4 address such as 198.18.0.1 (got '" +
                                 p.server_address_text + "')");
            }
            p.server_address = ntohl(a.s_addr);
            if (p.server_address == 0 || p.server_address == 0xffffffffu ||
                (p.server_address >> 28) == 0xe) {
                throw ParamError(name, "must be a unicast IPv4 address (got '" +
                                 p.server_address_text + "')");
            }
        } else if (name == "tftp-path-prefix") {
            p.tftp_path_prefix = getString(value, name, false);
        } else if (name == "http-url") {
            p.http_url = getString(value, name, true);
            p.has_http_url = true;
        } else if (name == "nfs-url") {
            p.nfs_url = getString(value, name, true);
            p.has_nfs_url = true;
        } else if (name == "server-priority") {
            const std::string range = "in 0..65535, or \"load\"";
            p.priority_from_load = value->getType() == Element::string &&
                                   value->stringValue() == "load";
            if (value->getType() == Element::string && !p.priority_from_load) {
                throw ParamError(name, "must be an integer " + range + " (got '" +
                                 value->stringValue() + "')");
            }
            if (!p.priority_from_load) {
                p.server_priority = static_cast<uint16_t>(getInt(value, name, 0, 65535, range));
            }
        } else if (name == "state-file") {
            p.state_file = getString(value, name, true);
            has_state_file = true;
        } else if (name == "bindings-database") {
            parseDatabase(value, p);
        } else if (name == "rescan-interval") {
            p.rescan_interval = getInt(value, name, 0, int_max, ">= 0 (seconds)");
        } else if (name == "chain-window") {
            p.chain_window = getInt(value, name, 0, int_max, ">= 0 (seconds)");
        } else if (name == "max-bindings") {
            p.max_bindings = getInt(value, name, 1, BSDP_BINDINGS_CAPACITY_MAX,
                                    "in 1.." + std::to_string(BSDP_BINDINGS_CAPACITY_MAX));
        } else if (name == "fast-path") {
            p.fast_path = getBool(value, name);
        } else if (name == "offer-bound-clients") {
            p.offer_bound_clients = getBool(value, name);
        } else if (name == "machine-name-format") {
            p.machine_name_format = getString(value, name, true);
            p.has_machine_name_format = true;
            char err[256] = "";
            if (bsdp_responder_check_name_format(p.machine_name_format.c_str(), err,
                                                 sizeof(err)) != 0) {
                throw ParamError(name, err[0] ? err : "invalid format");
            }
        }
    }
    if (p.sets_directory.empty()) {
        throw ParamError("sets-directory", "required");
    }
    if (has_state_file && p.has_bindings_database) {
        throw ParamError("state-file", "not used with bindings-database (the database "
                         "keeps the selections): remove one of the two");
    }
    if (!p.has_bindings_database) {
        if (!has_state_file) {
            p.state_file = kea_compat::dataDir() + "/" + DEFAULT_STATE_FILE_NAME;
        }
        // Kea's rule for its own lease file (from 2.6.3, CVE-2025-32801): a
        // bare name goes in the data directory, another folder is refused
        // with Kea's message naming the allowed one.
        try {
            p.state_file = kea_compat::dataFilePath(p.state_file);
        } catch (const std::exception& ex) {
            throw ParamError("state-file", ex.what());
        }
    }
    return (p);
}

} // namespace bsdp
} // namespace isc
