// File created from shim/bsdp_messages.mes by tools/mes2cc.py: do not edit.

#ifndef BSDP_MESSAGES_H
#define BSDP_MESSAGES_H

#include <log/message_types.h>

namespace isc {
namespace bsdp {

extern const isc::log::MessageID BSDP_BINDING_DELETED;
extern const isc::log::MessageID BSDP_BINDING_SET;
extern const isc::log::MessageID BSDP_COMMAND_ERROR;
extern const isc::log::MessageID BSDP_IMAGE;
extern const isc::log::MessageID BSDP_LOADED;
extern const isc::log::MessageID BSDP_LOAD_ERROR;
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
extern const isc::log::MessageID BSDP_SET_SKIPPED;
extern const isc::log::MessageID BSDP_SET_WARNING;
extern const isc::log::MessageID BSDP_UNLOADED;

} // namespace bsdp
} // namespace isc

#endif // BSDP_MESSAGES_H
