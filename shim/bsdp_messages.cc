// File created from shim/bsdp_messages.mes by tools/mes2cc.py: do not edit.

#include <cstddef>
#include <log/message_types.h>
#include <log/message_initializer.h>

namespace isc {
namespace bsdp {

extern const isc::log::MessageID BSDP_BINDING_DELETED = "BSDP_BINDING_DELETED";
extern const isc::log::MessageID BSDP_BINDING_SET = "BSDP_BINDING_SET";
extern const isc::log::MessageID BSDP_COMMAND_ERROR = "BSDP_COMMAND_ERROR";
extern const isc::log::MessageID BSDP_IMAGE = "BSDP_IMAGE";
extern const isc::log::MessageID BSDP_LOADED = "BSDP_LOADED";
extern const isc::log::MessageID BSDP_LOAD_ERROR = "BSDP_LOAD_ERROR";
extern const isc::log::MessageID BSDP_QUERY_DROPPED = "BSDP_QUERY_DROPPED";
extern const isc::log::MessageID BSDP_QUERY_MALFORMED = "BSDP_QUERY_MALFORMED";
extern const isc::log::MessageID BSDP_RELOADED = "BSDP_RELOADED";
extern const isc::log::MessageID BSDP_RELOAD_FAILED = "BSDP_RELOAD_FAILED";
extern const isc::log::MessageID BSDP_REPLY_ERROR = "BSDP_REPLY_ERROR";
extern const isc::log::MessageID BSDP_REPLY_FAILED = "BSDP_REPLY_FAILED";
extern const isc::log::MessageID BSDP_REPLY_LIST = "BSDP_REPLY_LIST";
extern const isc::log::MessageID BSDP_REPLY_SELECT = "BSDP_REPLY_SELECT";
extern const isc::log::MessageID BSDP_RESCAN_CHANGED = "BSDP_RESCAN_CHANGED";
extern const isc::log::MessageID BSDP_RESCAN_ERROR = "BSDP_RESCAN_ERROR";
extern const isc::log::MessageID BSDP_RESCAN_STARTED = "BSDP_RESCAN_STARTED";
extern const isc::log::MessageID BSDP_RESCAN_STOPPED = "BSDP_RESCAN_STOPPED";
extern const isc::log::MessageID BSDP_SET_SKIPPED = "BSDP_SET_SKIPPED";
extern const isc::log::MessageID BSDP_SET_WARNING = "BSDP_SET_WARNING";
extern const isc::log::MessageID BSDP_UNLOADED = "BSDP_UNLOADED";

} // namespace bsdp
} // namespace isc

namespace {

const char* values[] = {
    "BSDP_BINDING_DELETED", "binding of %1 deleted by command",
    "BSDP_BINDING_SET", "binding of %1 set to image %2 '%3' by command",
    "BSDP_COMMAND_ERROR", "command %1 failed: %2",
    "BSDP_IMAGE", "image %1 '%2' (%3, %4, set %5)",
    "BSDP_LOADED", "serving %1 NetBoot image(s) from %2 (%3 set(s) skipped, %4 warning(s)), server priority %5",
    "BSDP_LOAD_ERROR", "%1",
    "BSDP_QUERY_DROPPED", "dropped a BSDP INFORM from %1: %2",
    "BSDP_QUERY_MALFORMED", "dropped a BSDP INFORM from %1: %2",
    "BSDP_RELOADED", "reloaded NetBoot sets from %1 (%2): %3 image(s) served, %4 set(s) skipped, %5 warning(s), in %6 ms",
    "BSDP_RELOAD_FAILED", "reload of %1 (%2) failed; still serving the previous %3 image(s): %4",
    "BSDP_REPLY_ERROR", "BSDP reply to %1 not sent: %2",
    "BSDP_REPLY_FAILED", "%1 (%2, model %3) asked for image %4: FAILED (%5)",
    "BSDP_REPLY_LIST", "%1 (%2, model %3): listed %4 of %5 image(s), default %6%7",
    "BSDP_REPLY_SELECT", "%1 (%2, model %3) selected image %4 '%5': file %6, root path '%7', machine name '%8'",
    "BSDP_RESCAN_CHANGED", "%1 changed; rescanning",
    "BSDP_RESCAN_ERROR", "rescan of %1 failed unexpectedly: %2",
    "BSDP_RESCAN_STARTED", "watching %1 for changes every %2 s",
    "BSDP_RESCAN_STOPPED", "stopped watching %1",
    "BSDP_SET_SKIPPED", "NetBoot set %1 skipped: %2",
    "BSDP_SET_WARNING", "NetBoot set %1: %2",
    "BSDP_UNLOADED", "BSDP hooks library unloaded",
    NULL
};

const isc::log::MessageInitializer initializer(values);

} // Anonymous namespace
