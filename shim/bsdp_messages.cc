// File created from shim/bsdp_messages.mes by tools/mes2cc.py: do not edit.

#include <cstddef>
#include <log/message_types.h>
#include <log/message_initializer.h>

namespace isc {
namespace bsdp {

extern const isc::log::MessageID BSDP_BINDINGS_FULL = "BSDP_BINDINGS_FULL";
extern const isc::log::MessageID BSDP_BINDING_DELETED = "BSDP_BINDING_DELETED";
extern const isc::log::MessageID BSDP_BINDING_SET = "BSDP_BINDING_SET";
extern const isc::log::MessageID BSDP_COMMAND_ERROR = "BSDP_COMMAND_ERROR";
extern const isc::log::MessageID BSDP_DB_CONNECTED = "BSDP_DB_CONNECTED";
extern const isc::log::MessageID BSDP_DB_LOST = "BSDP_DB_LOST";
extern const isc::log::MessageID BSDP_DB_REFUSED = "BSDP_DB_REFUSED";
extern const isc::log::MessageID BSDP_DB_RENUMBERED = "BSDP_DB_RENUMBERED";
extern const isc::log::MessageID BSDP_DB_RESTORED = "BSDP_DB_RESTORED";
extern const isc::log::MessageID BSDP_DB_SCHEMA_CREATED = "BSDP_DB_SCHEMA_CREATED";
extern const isc::log::MessageID BSDP_DB_SPILLED = "BSDP_DB_SPILLED";
extern const isc::log::MessageID BSDP_DB_SPILL_FAILED = "BSDP_DB_SPILL_FAILED";
extern const isc::log::MessageID BSDP_DB_SPILL_WRITTEN = "BSDP_DB_SPILL_WRITTEN";
extern const isc::log::MessageID BSDP_DB_UNSPILLED = "BSDP_DB_UNSPILLED";
extern const isc::log::MessageID BSDP_HA_LOADED = "BSDP_HA_LOADED";
extern const isc::log::MessageID BSDP_IMAGE = "BSDP_IMAGE";
extern const isc::log::MessageID BSDP_IPXE_CHAIN = "BSDP_IPXE_CHAIN";
extern const isc::log::MessageID BSDP_IPXE_NO_CHAIN = "BSDP_IPXE_NO_CHAIN";
extern const isc::log::MessageID BSDP_IPXE_URL_TOO_LONG = "BSDP_IPXE_URL_TOO_LONG";
extern const isc::log::MessageID BSDP_LIST_CHOICE = "BSDP_LIST_CHOICE";
extern const isc::log::MessageID BSDP_LIST_IMAGE_OFFERED = "BSDP_LIST_IMAGE_OFFERED";
extern const isc::log::MessageID BSDP_LIST_IMAGE_REMOVED = "BSDP_LIST_IMAGE_REMOVED";
extern const isc::log::MessageID BSDP_LOADED = "BSDP_LOADED";
extern const isc::log::MessageID BSDP_LOAD_ERROR = "BSDP_LOAD_ERROR";
extern const isc::log::MessageID BSDP_OFFER_NOT_SENT = "BSDP_OFFER_NOT_SENT";
extern const isc::log::MessageID BSDP_OFFER_SENT = "BSDP_OFFER_SENT";
extern const isc::log::MessageID BSDP_PIN_FILTERED = "BSDP_PIN_FILTERED";
extern const isc::log::MessageID BSDP_PIN_IGNORED = "BSDP_PIN_IGNORED";
extern const isc::log::MessageID BSDP_PIN_INVALID = "BSDP_PIN_INVALID";
extern const isc::log::MessageID BSDP_PIN_LOOKUP_FAILED = "BSDP_PIN_LOOKUP_FAILED";
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
extern const isc::log::MessageID BSDP_SETS_AVAILABLE = "BSDP_SETS_AVAILABLE";
extern const isc::log::MessageID BSDP_SETS_UNAVAILABLE = "BSDP_SETS_UNAVAILABLE";
extern const isc::log::MessageID BSDP_SET_RECOVERED = "BSDP_SET_RECOVERED";
extern const isc::log::MessageID BSDP_SET_SKIPPED = "BSDP_SET_SKIPPED";
extern const isc::log::MessageID BSDP_SET_STALE = "BSDP_SET_STALE";
extern const isc::log::MessageID BSDP_SET_STALE_DROPPED = "BSDP_SET_STALE_DROPPED";
extern const isc::log::MessageID BSDP_SET_WARNING = "BSDP_SET_WARNING";
extern const isc::log::MessageID BSDP_STATE_BAD_LINE = "BSDP_STATE_BAD_LINE";
extern const isc::log::MessageID BSDP_STATE_DAMAGED = "BSDP_STATE_DAMAGED";
extern const isc::log::MessageID BSDP_STATE_FOLDER_UNWRITABLE = "BSDP_STATE_FOLDER_UNWRITABLE";
extern const isc::log::MessageID BSDP_STATE_LOADED = "BSDP_STATE_LOADED";
extern const isc::log::MessageID BSDP_STATE_MORE_BAD_LINES = "BSDP_STATE_MORE_BAD_LINES";
extern const isc::log::MessageID BSDP_STATE_NEW = "BSDP_STATE_NEW";
extern const isc::log::MessageID BSDP_STATE_SET_ASIDE = "BSDP_STATE_SET_ASIDE";
extern const isc::log::MessageID BSDP_STATE_SET_ASIDE_FAILED = "BSDP_STATE_SET_ASIDE_FAILED";
extern const isc::log::MessageID BSDP_STATE_UNREADABLE = "BSDP_STATE_UNREADABLE";
extern const isc::log::MessageID BSDP_STATE_WRITER_FAILED = "BSDP_STATE_WRITER_FAILED";
extern const isc::log::MessageID BSDP_STATE_WRITE_ERROR = "BSDP_STATE_WRITE_ERROR";
extern const isc::log::MessageID BSDP_UNLOADED = "BSDP_UNLOADED";

} // namespace bsdp
} // namespace isc

namespace {

const char* values[] = {
    "BSDP_BINDINGS_FULL", "the bindings table is full (max-bindings %1): the least recently selected Mac's binding was evicted to record %2",
    "BSDP_BINDING_DELETED", "binding of %1 deleted by command",
    "BSDP_BINDING_SET", "binding of %1 set to image %2 '%3' by command",
    "BSDP_COMMAND_ERROR", "command %1 failed: %2",
    "BSDP_DB_CONNECTED", "bindings database %1 connected (PostgreSQL server version %2)",
    "BSDP_DB_LOST", "bindings database %1 unreachable or failing: %2; serving from memory, up to %3 changes queued",
    "BSDP_DB_REFUSED", "bindings database %1 refused the change of %2 for good; dropped",
    "BSDP_DB_RENUMBERED", "bindings database %1: the machine number of %2 was handed out while the database was unreachable and another server holds it; the Mac gets a new one",
    "BSDP_DB_RESTORED", "bindings database %1 reachable again: writing %2 queued change(s)",
    "BSDP_DB_SCHEMA_CREATED", "bindings database %1 had no bsdp_bindings table: created it",
    "BSDP_DB_SPILLED", "bindings database %1 unreachable at stop: %2 change(s) not written kept in %3",
    "BSDP_DB_SPILL_FAILED", "bindings database %1 unreachable at stop, and %2 change(s) not written could not be kept: %3",
    "BSDP_DB_SPILL_WRITTEN", "bindings database %1: the changes of spill file %2 are written; file removed",
    "BSDP_DB_UNSPILLED", "bindings database %1: %2 change(s) an earlier stop could not write read back from %3",
    "BSDP_HA_LOADED", "libdhcp_ha.so is hooks library %1, this library %2 (fast-path %3): HA decides which server answers each BSDP query",
    "BSDP_IMAGE", "image %1 '%2' (%3, %4, set %5)",
    "BSDP_IPXE_CHAIN", "%1 (iPXE, %2) chained to %3 (image %4 selected %5 s ago)",
    "BSDP_IPXE_NO_CHAIN", "%1 (iPXE, %2): no recent selection of an image with a ChainURL; Kea's answer unchanged",
    "BSDP_IPXE_URL_TOO_LONG", "%1 (iPXE): ChainURL of image %2 is longer than 255 bytes; Kea's answer unchanged",
    "BSDP_LIST_CHOICE", "%1: LIST default image %2; selected image %3",
    "BSDP_LIST_IMAGE_OFFERED", "%1: image %2 (set %3) is offered in its LIST",
    "BSDP_LIST_IMAGE_REMOVED", "%1: image %2 (set %3) is not offered: %4",
    "BSDP_LOADED", "serving %1 NetBoot image(s) from %2 (%3 set(s) skipped, %4 warning(s)), server priority %5",
    "BSDP_LOAD_ERROR", "%1",
    "BSDP_OFFER_NOT_SENT", "no OFFER* for the DISCOVER of %1: %2",
    "BSDP_OFFER_SENT", "%1 (%2, model %3) restarts into image %4 '%5': OFFER* sent to %6 with file %7, root path '%8', machine name '%9'",
    "BSDP_PIN_FILTERED", "host reservation for %1 pins image index %2, not listed: excluded by the client's attribute filter",
    "BSDP_PIN_IGNORED", "host reservation for %1 pins image index %2, ignored: %3",
    "BSDP_PIN_INVALID", "host reservation for %1 has user-context bsdp-image %2: not an image index 1..65535; ignored",
    "BSDP_PIN_LOOKUP_FAILED", "host reservations of %1 could not be read: %2",
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
    "BSDP_SETS_AVAILABLE", "NetBoot sets folder %1 can be read now (%2): BSDP requests are answered",
    "BSDP_SETS_UNAVAILABLE", "NetBoot sets folder %1 cannot be read (%2): no BSDP request is answered until it can; retrying every %3 s",
    "BSDP_SET_RECOVERED", "NetBoot set %1 reads again (it failed from %2 on); serving it fresh",
    "BSDP_SET_SKIPPED", "NetBoot set %1 skipped: %2",
    "BSDP_SET_STALE", "NetBoot set %1 no longer reads (%2), failing since %3: still serving its last good version until it reads again or its folder is removed",
    "BSDP_SET_STALE_DROPPED", "NetBoot set %1, failing since %2, is no longer served: its folder is gone or it was skipped",
    "BSDP_SET_WARNING", "NetBoot set %1: %2",
    "BSDP_STATE_BAD_LINE", "state file %1 line %2: %3; line ignored",
    "BSDP_STATE_DAMAGED", "state file %1 is damaged: it is left as it is until the first change, then kept as %1.damaged-<time> and replaced by a new file with the %2 good binding(s) and the change",
    "BSDP_STATE_FOLDER_UNWRITABLE", "state file %1: its folder %2 cannot be written (%3); selections will not be saved until it can",
    "BSDP_STATE_LOADED", "loaded %1 binding(s) from state file %2 (%3 bad line(s))",
    "BSDP_STATE_MORE_BAD_LINES", "state file %1: %2 more bad line(s) not shown",
    "BSDP_STATE_NEW", "state file %1 does not exist yet; it is written at the first selection",
    "BSDP_STATE_SET_ASIDE", "damaged state file %1 set aside as %2; a new one is written",
    "BSDP_STATE_SET_ASIDE_FAILED", "damaged state file %1 could not be set aside: %2",
    "BSDP_STATE_UNREADABLE", "state file %1 cannot be read: %2",
    "BSDP_STATE_WRITER_FAILED", "the state file writer for %1 could not start; selections will not be saved",
    "BSDP_STATE_WRITE_ERROR", "state file %1 cannot be written: %2; selections are kept in memory and saved when it works again",
    "BSDP_UNLOADED", "BSDP hooks library unloaded",
    NULL
};

const isc::log::MessageInitializer initializer(values);

} // Anonymous namespace
