// File created from shim/bsdp_messages.mes by tools/mes2cc.py: do not edit.

#ifndef BSDP_MESSAGES_H
#define BSDP_MESSAGES_H

#include <log/message_types.h>

namespace isc {
namespace bsdp {

extern const isc::log::MessageID BSDP_BINDINGS_FULL;
extern const isc::log::MessageID BSDP_BINDING_DELETED;
extern const isc::log::MessageID BSDP_BINDING_SET;
extern const isc::log::MessageID BSDP_COMMAND_ERROR;
extern const isc::log::MessageID BSDP_DB_CONNECTED;
extern const isc::log::MessageID BSDP_DB_LOST;
extern const isc::log::MessageID BSDP_DB_REFUSED;
extern const isc::log::MessageID BSDP_DB_RENUMBERED;
extern const isc::log::MessageID BSDP_DB_RESTORED;
extern const isc::log::MessageID BSDP_DB_SCHEMA_CREATED;
extern const isc::log::MessageID BSDP_DB_SPILLED;
extern const isc::log::MessageID BSDP_DB_SPILL_FAILED;
extern const isc::log::MessageID BSDP_DB_SPILL_WRITTEN;
extern const isc::log::MessageID BSDP_DB_UNSPILLED;
extern const isc::log::MessageID BSDP_HA_LOADED;
extern const isc::log::MessageID BSDP_IMAGE;
extern const isc::log::MessageID BSDP_IPXE_CHAIN;
extern const isc::log::MessageID BSDP_IPXE_NO_CHAIN;
extern const isc::log::MessageID BSDP_IPXE_URL_TOO_LONG;
extern const isc::log::MessageID BSDP_LIST_CHOICE;
extern const isc::log::MessageID BSDP_LIST_IMAGE_OFFERED;
extern const isc::log::MessageID BSDP_LIST_IMAGE_REMOVED;
extern const isc::log::MessageID BSDP_LOADED;
extern const isc::log::MessageID BSDP_LOAD_ERROR;
extern const isc::log::MessageID BSDP_OFFER_NOT_SENT;
extern const isc::log::MessageID BSDP_OFFER_SENT;
extern const isc::log::MessageID BSDP_PIN_FILTERED;
extern const isc::log::MessageID BSDP_PIN_IGNORED;
extern const isc::log::MessageID BSDP_PIN_INVALID;
extern const isc::log::MessageID BSDP_PIN_LOOKUP_FAILED;
extern const isc::log::MessageID BSDP_QUERY_DROPPED;
extern const isc::log::MessageID BSDP_QUERY_MALFORMED;
extern const isc::log::MessageID BSDP_RELOADED;
extern const isc::log::MessageID BSDP_RELOAD_FAILED;
extern const isc::log::MessageID BSDP_REPLY_ERROR;
extern const isc::log::MessageID BSDP_REPLY_FAILED;
extern const isc::log::MessageID BSDP_REPLY_LIST;
extern const isc::log::MessageID BSDP_REPLY_SELECT;
extern const isc::log::MessageID BSDP_RESCAN_CHANGED;
extern const isc::log::MessageID BSDP_RESCAN_ERROR;
extern const isc::log::MessageID BSDP_RESCAN_STARTED;
extern const isc::log::MessageID BSDP_RESCAN_STOPPED;
extern const isc::log::MessageID BSDP_SETS_AVAILABLE;
extern const isc::log::MessageID BSDP_SETS_UNAVAILABLE;
extern const isc::log::MessageID BSDP_SET_RECOVERED;
extern const isc::log::MessageID BSDP_SET_SKIPPED;
extern const isc::log::MessageID BSDP_SET_STALE;
extern const isc::log::MessageID BSDP_SET_STALE_DROPPED;
extern const isc::log::MessageID BSDP_SET_WARNING;
extern const isc::log::MessageID BSDP_STATE_BAD_LINE;
extern const isc::log::MessageID BSDP_STATE_DAMAGED;
extern const isc::log::MessageID BSDP_STATE_FOLDER_UNWRITABLE;
extern const isc::log::MessageID BSDP_STATE_LOADED;
extern const isc::log::MessageID BSDP_STATE_MORE_BAD_LINES;
extern const isc::log::MessageID BSDP_STATE_NEW;
extern const isc::log::MessageID BSDP_STATE_SET_ASIDE;
extern const isc::log::MessageID BSDP_STATE_SET_ASIDE_FAILED;
extern const isc::log::MessageID BSDP_STATE_UNREADABLE;
extern const isc::log::MessageID BSDP_STATE_WRITER_FAILED;
extern const isc::log::MessageID BSDP_STATE_WRITE_ERROR;
extern const isc::log::MessageID BSDP_UNLOADED;

} // namespace bsdp
} // namespace isc

#endif // BSDP_MESSAGES_H
