// SPDX-License-Identifier: MPL-2.0
// kea-bsdp-check CONFIG: checks the libdhcp_bsdp.so entry of a kea-dhcp4
// configuration the way kea-dhcp4 would load it, because Kea 2.2's
// `kea-dhcp4 -t` only dlopens hook libraries and never calls load().
//
// It reads the file with Kea's JSON parser (after removing the comments
// Kea's own parser accepts), finds the hooks-libraries entry of
// libdhcp_bsdp.so, loads that library with its parameters through Kea's
// HooksManager, and prints the catalogue and every skipped set through the
// library's bsdp-images-list command. Kea's logging goes to stderr, so a
// refused parameter appears as the same BSDP_LOAD_ERROR line the server
// would log.
//
// With bindings-database the library is put in check mode first (it then
// starts no store: bsdp_check_mode.h) and the database is probed here,
// read-only (store/pg_probe.h): reachable, tables present or creatable,
// the role's privileges. The state-file is read from a private copy.
//
// Exit status: 0 the library loads, has read its sets-directory and (with
// bindings-database) could work with that database; 1 it does not load, its
// sets-directory cannot be read, the database cannot be reached or lacks a
// right, or the file is wrong; 2 usage.
#include <cc/command_interpreter.h>
#include <cc/data.h>
#include <exceptions/exceptions.h>
#include <hooks/callout_handle.h>
#include <hooks/hooks_manager.h>
#include <hooks/server_hooks.h>
#include <log/logger_manager.h>
#include <log/logger_specification.h>
#include <log/logger_support.h>
#include <log/output_option.h>

#include "bsdp_check_mode.h"
#include "bsdp_params.h"
#include "kea_compat.h"
#include "store/pg_probe.h"

#include <dlfcn.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using isc::data::ConstElementPtr;
using isc::data::Element;
using isc::hooks::CalloutHandlePtr;
using isc::hooks::HookLibInfo;
using isc::hooks::HookLibsCollection;
using isc::hooks::HooksManager;
using isc::hooks::ServerHooks;
using isc::bsdp::Params;
using isc::bsdp::kea_compat::libName;
using isc::bsdp::kea_compat::libParameters;

namespace fs = std::filesystem;

namespace {

const char* const PROG = "kea-bsdp-check";
const char* const LIBRARY = "libdhcp_bsdp.so";

// A defect of the configuration file itself (not of the hook's parameters,
// which the library reports through its own log message).
struct ConfigError : public std::runtime_error {
    explicit ConfigError(const std::string& what) : std::runtime_error(what) {}
};

// --help on stdout; after a usage error on stderr.
void
usage(FILE* f) {
    std::fprintf(f,
                 "usage: %s [-v] [--json] CONFIG\n"
                 "  Loads the libdhcp_bsdp.so entry of a kea-dhcp4 configuration with its\n"
                 "  parameters, as kea-dhcp4 would, and prints the NetBoot catalogue.\n"
                 "  -v      also log Kea's and the hook's informational messages (stderr)\n"
                 "  --json  print the bsdp-images-list answer as JSON\n"
                 "  With bindings-database it also connects, read-only, and says whether\n"
                 "  the library could work there (tables, the role's privileges).\n"
                 "  exit status: 0 the hook loads, reads its sets-directory and can use its\n"
                 "  bindings-database, 1 it does not (kea-dhcp4 would then refuse the\n"
                 "  configuration, or serve DHCP but no NetBoot, or keep no shared\n"
                 "  bindings), 2 usage\n", PROG);
}

// kea-dhcp4 nests <?include?> at most this deep.
const int MAX_INCLUDE_DEPTH = 10;

std::string
readFile(const std::string& path) {
    std::ifstream f(path.c_str(), std::ios::binary);
    if (!f) {
        throw ConfigError("cannot open " + path + ": " + std::strerror(errno));
    }
    std::stringstream raw;
    raw << f.rdbuf();
    if (f.bad()) {
        throw ConfigError("cannot read " + path);
    }
    return (raw.str());
}

std::string expandText(const std::string& in, int depth);

// At in[i] == '<', '?': reads `<? include "FILE" ?>` as kea-dhcp4's lexer
// does (the name taken as is, like kea-dhcp4 opens it) and returns the
// file's expanded text; i ends on the closing '>'.
std::string
includeDirective(const std::string& in, size_t& i, int depth) {
    auto blanks = [&in](size_t at) {
        while (at < in.size() && (in[at] == ' ' || in[at] == '\t' || in[at] == '\r' ||
                                  in[at] == '\n')) {
            ++at;
        }
        return (at);
    };
    size_t at = blanks(i + 2);
    if (in.compare(at, 7, "include") != 0) {
        throw ConfigError("unknown <? directive: only <?include \"FILE\"?> is supported");
    }
    at = blanks(at + 7);
    size_t end = at < in.size() && in[at] == '"' ? in.find_first_of("\"\n", at + 1)
                                                   : std::string::npos;
    if (end == std::string::npos || in[end] != '"' || end == at + 1) {
        throw ConfigError("<?include must name a file in double quotes");
    }
    std::string file = in.substr(at + 1, end - at - 1);
    at = blanks(end + 1);
    if (in.compare(at, 2, "?>") != 0) {
        throw ConfigError("<?include \"" + file + "\" is not closed with ?>");
    }
    if (depth >= MAX_INCLUDE_DEPTH) {
        throw ConfigError("too many nested <?include?> (at " + file + ")");
    }
    i = at + 1;
    return (expandText(readFile(file), depth + 1));
}

// Blanks out the comments kea-dhcp4's own parser accepts (# and // to the
// end of the line, /* ... */), keeping newlines so Kea's JSON parser
// reports the file's real line numbers, and replaces <?include?> by the
// file's text. Strings are left alone.
std::string
expandText(const std::string& in, int depth) {
    std::string out;
    out.reserve(in.size());
    enum { CODE, STRING, LINE, BLOCK } state = CODE;
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        char next = i + 1 < in.size() ? in[i + 1] : '\0';
        switch (state) {
        case CODE:
            if (c == '"') {
                state = STRING;
                out += c;
            } else if (c == '#' || (c == '/' && next == '/')) {
                state = LINE;
                out += ' ';
            } else if (c == '/' && next == '*') {
                state = BLOCK;
                out += "  ";
                ++i;
            } else if (c == '<' && next == '?') {
                out += includeDirective(in, i, depth);
            } else {
                out += c;
            }
            break;
        case STRING:
            out += c;
            if (c == '\\' && i + 1 < in.size()) {
                out += in[++i];
            } else if (c == '"') {
                state = CODE;
            }
            break;
        case LINE:
            if (c == '\n') {
                state = CODE;
                out += c;
            } else {
                out += ' ';
            }
            break;
        case BLOCK:
            if (c == '*' && next == '/') {
                state = CODE;
                out += "  ";
                ++i;
            } else {
                out += c == '\n' ? '\n' : ' ';
            }
            break;
        }
    }
    if (state == BLOCK) {
        throw ConfigError("a /* comment is never closed");
    }
    return (out);
}

ConstElementPtr
readConfig(const std::string& path) {
    std::istringstream text(expandText(readFile(path), 0));
    try {
        return (Element::fromJSON(text, path, false));
    } catch (const isc::Exception& ex) {
        throw ConfigError(std::string("not valid JSON: ") + ex.what());
    }
}

std::string
baseName(const std::string& path) {
    size_t slash = path.rfind('/');
    return (slash == std::string::npos ? path : path.substr(slash + 1));
}

// The hooks-libraries entry of libdhcp_bsdp.so, as Kea hands it over.
HookLibInfo
findEntry(const ConstElementPtr& config) {
    if (!config || config->getType() != Element::map) {
        throw ConfigError("the file is not a JSON map");
    }
    ConstElementPtr dhcp4 = config->get("Dhcp4");
    if (!dhcp4 || dhcp4->getType() != Element::map) {
        throw ConfigError("no \"Dhcp4\" map: not a kea-dhcp4 configuration");
    }
    ConstElementPtr libs = dhcp4->get("hooks-libraries");
    if (!libs) {
        throw ConfigError("Dhcp4 has no \"hooks-libraries\": " + std::string(LIBRARY) +
                          " is not configured");
    }
    if (libs->getType() != Element::list) {
        throw ConfigError("\"hooks-libraries\" must be a list");
    }
    std::vector<HookLibInfo> found;
    for (const auto& entry : libs->listValue()) {
        if (!entry || entry->getType() != Element::map) {
            throw ConfigError("every \"hooks-libraries\" entry must be a map");
        }
        ConstElementPtr lib = entry->get("library");
        if (!lib || lib->getType() != Element::string) {
            throw ConfigError("a \"hooks-libraries\" entry has no \"library\" string");
        }
        // As Kea's hooks parser: quotes removed, spaces trimmed.
        std::string name;
        for (char c : lib->stringValue()) {
            if (c != '"') {
                name += c;
            }
        }
        size_t b = name.find_first_not_of(" \t\r\n");
        size_t e = name.find_last_not_of(" \t\r\n");
        name = b == std::string::npos ? std::string() : name.substr(b, e - b + 1);
        if (baseName(name) != LIBRARY) {
            continue;
        }
        for (auto const& item : entry->mapValue()) {
            if (item.first != "library" && item.first != "parameters") {
                throw ConfigError("unknown hooks library parameter \"" + item.first +
                                  "\" in the " + LIBRARY + " entry (kea-dhcp4 refuses it)");
            }
        }
        // Kea passes the parameters map as is, or nothing when absent.
        found.push_back(HookLibInfo(name, entry->get("parameters")));
    }
    if (found.empty()) {
        throw ConfigError(std::string("no \"hooks-libraries\" entry loads ") + LIBRARY);
    }
    if (found.size() > 1) {
        throw ConfigError(std::string(LIBRARY) + " is listed more than once in \"hooks-libraries\"");
    }
    return (found[0]);
}

// Kea's logging, all of it to stderr (the report goes to stdout).
void
initLogging(bool verbose) {
    setenv("KEA_LOCKFILE_DIR", "none", 0);
    isc::log::Severity sev = verbose ? isc::log::INFO : isc::log::WARN;
    isc::log::initLogger(PROG, sev, 0, nullptr, false);
    isc::log::LoggerSpecification spec(PROG, sev, 0);
    isc::log::OutputOption out;
    out.destination = isc::log::OutputOption::DEST_CONSOLE;
    out.stream = isc::log::OutputOption::STR_STDERR;
    spec.addOutputOption(out);
    isc::log::LoggerManager manager;
    manager.process(spec);
}

// Kea's DHCPv4 hook points, so a library that registers callouts on any
// of them loads here as it does in kea-dhcp4.
void
registerDhcp4Hooks() {
    static const char* const HOOKS[] = {
        "dhcp4_srv_configured", "cb4_updated", "buffer4_receive", "pkt4_receive",
        "subnet4_select", "host4_identifier", "lease4_select", "lease4_renew",
        "lease4_release", "lease4_decline", "leases4_committed", "pkt4_send",
        "buffer4_send", "lease4_expire", "lease4_recover", "command_processed",
    };
    ServerHooks& hooks = ServerHooks::getServerHooks();
    for (const char* h : HOOKS) {
        if (hooks.findIndex(h) < 0) {
            hooks.registerHook(h);
        }
    }
}

ConstElementPtr
runCommand(const std::string& name) {
    if (!HooksManager::commandHandlersPresent(name)) {
        throw ConfigError("the library registered no " + name + " command");
    }
    CalloutHandlePtr handle = HooksManager::createCalloutHandle();
    handle->setArgument("command", isc::config::createCommand(name));
    HooksManager::callCommandHandlers(name, *handle);
    ConstElementPtr response;
    handle->getArgument("response", response);
    return (response);
}

std::string
stringOf(const ConstElementPtr& map, const std::string& key) {
    ConstElementPtr v = map ? map->get(key) : ConstElementPtr();
    return (v && v->getType() == Element::string ? v->stringValue() : std::string());
}

int64_t
intOf(const ConstElementPtr& map, const std::string& key) {
    ConstElementPtr v = map ? map->get(key) : ConstElementPtr();
    return (v && v->getType() == Element::integer ? v->intValue() : 0);
}

bool
boolOf(const ConstElementPtr& map, const std::string& key) {
    ConstElementPtr v = map ? map->get(key) : ConstElementPtr();
    return (v && v->getType() == Element::boolean && v->boolValue());
}

std::string
joined(const ConstElementPtr& map, const std::string& key) {
    ConstElementPtr v = map ? map->get(key) : ConstElementPtr();
    std::string s;
    if (v && v->getType() == Element::list) {
        for (const auto& e : v->listValue()) {
            if (e && e->getType() == Element::string) {
                s += (s.empty() ? "" : ",") + e->stringValue();
            }
        }
    }
    return (s);
}

size_t
listSize(const ConstElementPtr& map, const std::string& key) {
    ConstElementPtr v = map ? map->get(key) : ConstElementPtr();
    return (v && v->getType() == Element::list ? v->size() : 0);
}

void
printDiags(const ConstElementPtr& args, const std::string& key, const char* title) {
    size_t n = listSize(args, key);
    if (n == 0) {
        return;
    }
    std::printf("\n%s:\n", title);
    for (const auto& d : args->get(key)->listValue()) {
        std::printf("  %s: %s\n", stringOf(d, "path").c_str(), stringOf(d, "reason").c_str());
    }
}

void
printReport(const ConstElementPtr& args) {
    std::printf("sets-directory %s: %zu image(s), %zu set(s) skipped, %zu warning(s)\n",
                stringOf(args, "sets-directory").c_str(), listSize(args, "images"),
                listSize(args, "skipped"), listSize(args, "warnings"));
    if (listSize(args, "images") > 0) {
        std::printf("\n  %-5s  %-10s  %-12s  %-8s  %-4s  %s\n", "INDEX", "ID", "TYPE", "ARCH",
                    "KIND", "NAME (SET) FLAGS");
        for (const auto& img : args->get("images")->listValue()) {
            std::string flags;
            auto flag = [&flags](bool on, const std::string& what) {
                if (on) {
                    flags += (flags.empty() ? "" : ", ") + what;
                }
            };
            flag(boolOf(img, "is-default"), "default");
            flag(boolOf(img, "install"), "install");
            flag(!boolOf(img, "is-enabled"), "DISABLED");
            flag(boolOf(img, "filter-only"), "filter-only");
            std::string models = joined(img, "enabled-system-identifiers");
            flag(!models.empty(), "only models " + models);
            std::string macs = joined(img, "enabled-mac-addresses");
            flag(!macs.empty(), "only MACs " + macs);
            std::string not_macs = joined(img, "disabled-mac-addresses");
            flag(!not_macs.empty(), "not MACs " + not_macs);
            flag(!stringOf(img, "chain-url").empty(), "chain " + stringOf(img, "chain-url"));
            std::printf("  %-5lld  0x%08llx  %-12s  %-8s  %-4lld  %s (%s)%s%s\n",
                        static_cast<long long>(intOf(img, "index")),
                        static_cast<unsigned long long>(intOf(img, "id")),
                        stringOf(img, "type").c_str(), joined(img, "architectures").c_str(),
                        static_cast<long long>(intOf(img, "kind")),
                        stringOf(img, "name").c_str(), stringOf(img, "set").c_str(),
                        flags.empty() ? "" : " ", flags.c_str());
        }
    }
    printDiags(args, "skipped", "skipped sets (not served)");
    printDiags(args, "warnings", "warnings (served, but clients may fail to boot)");
}

// A private folder under TMPDIR (else /tmp), removed with whatever it
// holds when it goes out of scope: also when an exception leaves the
// constructor of the object it belongs to. remove_all, not a shell: the
// name never passes through one.
class TempDir {
public:
    TempDir() = default;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        if (path_.empty()) {
            return;
        }
        std::error_code ec;
        fs::remove_all(path_, ec);
        if (ec) {
            std::fprintf(stderr, "%s: could not remove %s: %s\n", PROG, path_.c_str(),
                         ec.message().c_str());
        }
    }
    void create() {
        std::error_code ec;
        fs::path base = fs::temp_directory_path(ec);
        if (ec) {
            throw std::runtime_error("no folder for temporary files (TMPDIR): " + ec.message());
        }
        std::string tmpl = (base / "kea-bsdp-check.XXXXXX").string();
        if (!mkdtemp(&tmpl[0])) {
            throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
        }
        path_ = tmpl;
    }
    const std::string& path() const { return (path_); }
private:
    std::string path_;
};

// The running server owns its state file: loading the library writes a
// fresh copy of it at once and again at unload, which could overwrite
// newer selections. The check loads a private copy instead, so the file is
// still read and any damage reported, and the original is never touched.
//
// The configured path is resolved and checked by the library's own rule
// (parseParams: Kea's data directory from 2.6.3); only then is this
// process's data directory moved to the private folder, so the library
// accepts the copy there. A path the rule refuses is left in place for the
// library to refuse with its BSDP_LOAD_ERROR, naming state-file and the
// folder allowed, as kea-dhcp4 would.
class StateCopy {
public:
    explicit StateCopy(HookLibInfo& entry) {
        ConstElementPtr params = libParameters(entry);
        Params parsed;
        try {
            parsed = isc::bsdp::parseParams(params);
        } catch (const std::exception&) {
            return;     // the library reports it, naming the parameter
        }
        if (parsed.has_bindings_database) {
            return;     // no state file beside a database
        }
        const std::string& real = parsed.state_file;
        dir_.create();
        std::string copy_path = dir_.path() + "/state.csv";
        std::ifstream in(real.c_str(), std::ios::binary);
        if (in) {
            in.close();
            std::error_code ec;
            if (!fs::is_regular_file(real, ec) || !fs::copy_file(real, copy_path, ec)) {
                throw std::runtime_error("cannot copy state file " + real + " to " + copy_path +
                                         ": " + (ec ? ec.message() : "not a regular file"));
            }
            note_ = "state-file " + real + ": read from a copy, left untouched";
        } else {
            note_ = "state-file " + real + ": " + std::strerror(errno) +
                    " (kea-dhcp4 writes it at the first selection)";
        }
        isc::bsdp::kea_compat::useDataDir(dir_.path());
        isc::data::ElementPtr changed = isc::data::copy(params);
        changed->set("state-file", Element::create(copy_path));
        libParameters(entry) = changed;
    }
    const std::string& note() const { return (note_); }
private:
    TempDir dir_;   // the writer may leave its temporary file beside the copy
    std::string note_;
};

// The library opened before HooksManager loads it, and put in check mode
// (bsdp_check_mode.h says why this way); HooksManager's dlopen() of the
// same path then gets this same, already flagged, handle. Closed last.
class CheckModeLibrary {
public:
    explicit CheckModeLibrary(const std::string& path) {
        handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle_) {
            const char* err = dlerror();
            throw ConfigError("cannot open " + path + ": " + (err ? err : "dlopen failed"));
        }
        using Enter = int (*)(int);
        Enter enter = reinterpret_cast<Enter>(dlsym(handle_, "bsdp_check_mode_enter"));
        if (!enter || enter(BSDP_CHECK_MODE_INTERFACE) != 0) {
            dlclose(handle_);
            throw ConfigError(path + " has no check mode of this kea-bsdp-check's release "
                              "(install both from the same build)");
        }
    }
    ~CheckModeLibrary() {
        dlclose(handle_);
    }
    CheckModeLibrary(const CheckModeLibrary&) = delete;
    CheckModeLibrary& operator=(const CheckModeLibrary&) = delete;
private:
    void* handle_;
};

// The bindings-database probe's lines, on out; true when the library could
// work with that database. A defect also goes to stderr, naming the
// parameter (and conf, as every error of this program).
bool
reportDatabase(const std::string& conf, const Params& p, FILE* out) {
    std::vector<const char*> keywords, values;
    long long timeout_s = 5;
    for (size_t i = 0; i < p.database_keywords.size(); ++i) {
        keywords.push_back(p.database_keywords[i].c_str());
        values.push_back(p.database_values[i].c_str());
        if (p.database_keywords[i] == "connect_timeout") {
            timeout_s = std::stoll(p.database_values[i]);
        }
    }
    keywords.push_back(nullptr);
    values.push_back(nullptr);
    struct bsdp_pg_probe probe;
    if (bsdp_pg_probe(keywords.data(), values.data(),
                      static_cast<unsigned>(std::min(timeout_s, 86400LL) * 1000), &probe) != 0) {
        throw std::runtime_error("bindings-database: the probe refused its arguments");
    }
    const std::string what = "parameter 'bindings-database' (" + p.database_text + "): ";
    if (!probe.connected || probe.error[0]) {
        std::fprintf(stderr, "%s: %s: %s%s: %s\n", PROG, conf.c_str(), what.c_str(),
                     probe.connected ? "connected, but could not ask" : "cannot connect",
                     probe.error);
        return (false);
    }
    std::fprintf(out, "\nbindings-database %s: connected as %s (PostgreSQL %s), read only; "
                 "tables in schema %s\n", p.database_text.c_str(), probe.user,
                 probe.server_version, probe.schema[0] ? probe.schema : "(none: search_path)");
    std::string lacks;
    for (const auto& o : probe.objects) {
        std::string line;
        if (!o.present) {
            line = std::string("missing: the library creates it (needs CREATE on schema ") +
                   (probe.schema[0] ? probe.schema : "(none)") + ": " +
                   (probe.can_create ? "granted)" : "NOT GRANTED)");
            if (!probe.can_create) {
                lacks += (lacks.empty() ? "" : "; ") + std::string(o.name) +
                         " is missing and the role may not create it (CREATE on schema " +
                         (probe.schema[0] ? probe.schema : "(none)") + ")";
            }
        } else if (o.needs[0]) {
            line = std::string("present, LACKS ") + o.needs +
                   (o.is_sequence ? " (for nextval)" : "");
            lacks += (lacks.empty() ? "" : "; ") + std::string("no ") + o.needs + " on " + o.name;
        } else {
            line = o.is_sequence ? "present, USAGE granted (nextval)"
                                 : "present, SELECT, INSERT, UPDATE, DELETE granted";
        }
        std::fprintf(out, "  %-26s %s\n", o.name, line.c_str());
    }
    if (!probe.usable) {
        std::fprintf(stderr, "%s: %s: %srole %s: %s: the library could not keep its bindings "
                     "there\n", PROG, conf.c_str(), what.c_str(), probe.user, lacks.c_str());
        return (false);
    }
    std::fprintf(out, "  the library can work with this database (nothing was changed)\n");
    return (true);
}

// enable-multi-threading as kea-dhcp4 reads it, or this version's default.
bool
multiThreading(const ConstElementPtr& config) {
    ConstElementPtr mt = config->get("Dhcp4")->get("multi-threading");
    ConstElementPtr on = mt && mt->getType() == Element::map ? mt->get("enable-multi-threading")
                                                             : ConstElementPtr();
    if (on && on->getType() == Element::boolean) {
        return (on->boolValue());
    }
    return (isc::bsdp::kea_compat::MULTI_THREADING_DEFAULT);
}

int
check(const std::string& path, bool json) {
    ConstElementPtr config = readConfig(path);
    HookLibInfo entry = findEntry(config);
    // Where this Kea would load it from: 2.6.3+ refuses it outside its
    // hooks directory, as kea-dhcp4 -t and a start would.
    try {
        libName(entry) = isc::bsdp::kea_compat::libraryPathAsKeaLoadsIt(libName(entry));
    } catch (const std::exception& ex) {
        throw ConfigError(std::string("kea-dhcp4 would refuse the library: ") + ex.what());
    }
    CheckModeLibrary check_mode(libName(entry));
    StateCopy state(entry);
    registerDhcp4Hooks();
    HookLibsCollection libs;
    libs.push_back(entry);
    if (!isc::bsdp::kea_compat::loadLibraries(libs, multiThreading(config))) {
        std::fprintf(stderr, "%s: %s: %s refused its configuration (see the messages above)\n",
                     PROG, path.c_str(), libName(entry).c_str());
        return (1);
    }
    int result = 0;
    try {
        ConstElementPtr answer = runCommand("bsdp-images-list");
        int status = 1;
        ConstElementPtr args = isc::config::parseAnswer(status, answer);
        if (status != isc::config::CONTROL_RESULT_SUCCESS) {
            // kea-dhcp4 would start, but serve no NetBoot (for a missing
            // sets-directory: the text names it and the reason), so a check
            // before a restart fails.
            ConstElementPtr text = answer ? answer->get("text") : ConstElementPtr();
            throw ConfigError(text && text->getType() == Element::string ? text->stringValue()
                              : "bsdp-images-list failed: " + (args ? args->str() : answer->str()));
        }
        if (json) {
            std::printf("%s\n", answer->str().c_str());
        } else {
            std::printf("%s: %s loads with its parameters\n", path.c_str(), libName(entry).c_str());
            printReport(args);
            if (!state.note().empty()) {
                std::printf("\n%s\n", state.note().c_str());
            }
        }
        // The library loaded, so its parameters parse.
        Params params = isc::bsdp::parseParams(libParameters(entry));
        if (params.has_bindings_database && !reportDatabase(path, params, json ? stderr : stdout)) {
            result = 1;
        }
    } catch (...) {
        HooksManager::prepareUnloadLibraries();
        HooksManager::unloadLibraries();
        throw;
    }
    HooksManager::prepareUnloadLibraries();
    HooksManager::unloadLibraries();
    return (result);
}

} // namespace

int
main(int argc, char** argv) {
    bool json = false;
    bool verbose = false;
    std::string path;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--json") {
            json = true;
        } else if (a == "-v" || a == "--verbose") {
            verbose = true;
        } else if (a == "-h" || a == "--help") {
            usage(stdout);
            return (0);
        } else if (!a.empty() && a[0] == '-') {
            usage(stderr);
            return (2);
        } else if (path.empty()) {
            path = a;
        } else {
            usage(stderr);
            return (2);
        }
    }
    if (path.empty()) {
        usage(stderr);
        return (2);
    }
    try {
        initLogging(verbose);
        return (check(path, json));
    } catch (const ConfigError& ex) {
        std::fprintf(stderr, "%s: %s: %s\n", PROG, path.c_str(), ex.what());
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "%s: %s: %s\n", PROG, path.c_str(), ex.what());
    }
    return (1);
}
