// SPDX-License-Identifier: MPL-2.0
// The one place where kea-bsdp's C++ depends on which Kea it is built
// against (with kea_compat.cc). Kea installs no numeric version macro
// (KEA_HOOKS_VERSION is a const int, unusable in #if), so the Makefile
// reads it from hooks/hooks.h and passes it on as BSDP_KEA_VERSION (20200
// for 2.2.0, 20603 for 2.6.3, 30004 for 3.0.4). What lives here:
// - the API differences: HookLibInfo's fields, loadLibraries' arguments,
//   the hooks path check (kea-bsdp-check), pkt4_send's "subnet4" argument;
// - the Kea internals the library re-implements: the statistic names Kea
//   counts a packet under, how Kea builds its ACK to an INFORM (the fast
//   path: kea_compat.cc), option 54's type, and what Kea copies of option 82;
// - flags and helpers that let test/shim build Kea's side of the above.
// Every #if on the Kea version is in this header and kea_compat.cc; shim/
// and test/shim/ have none and compile unchanged on 2.2 to 3.0.
#ifndef BSDP_KEA_COMPAT_H
#define BSDP_KEA_COMPAT_H

#include <asiolink/io_address.h>
#include <cc/data.h>
#include <dhcp/dhcp4.h>
#include <dhcp/option.h>
#include <dhcp/pkt4.h>
#include <dhcp/pkt_filter.h>
#include <dhcp/socket_info.h>
#include <hooks/callout_handle.h>
#include <hooks/hooks.h>
#include <hooks/hooks_manager.h>
#include <hooks/libinfo.h>

#include <boost/any.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef BSDP_KEA_VERSION
#error "BSDP_KEA_VERSION is not set: build with the Makefile, which reads it from hooks/hooks.h"
#endif

// A -D from one Kea and headers from another would build a library Kea
// refuses (version() must match) or that crashes. (hooks.h declares
// KEA_HOOKS_VERSION in an anonymous namespace, hence unqualified.)
static_assert(BSDP_KEA_VERSION == KEA_HOOKS_VERSION,
              "BSDP_KEA_VERSION differs from the KEA_HOOKS_VERSION of the headers in use");

// From 2.6 the hook reads the subnet Kea selected (the "subnet4" argument
// of subnet4_select and pkt4_send: a Subnet4Ptr in 2.6, a ConstSubnet4Ptr
// in 3.0, read in Dhcpv4Srv::selectSubnet and processPacketPktSend of each).
// 2.2's pkt4_send passes none, and its dhcpsrv/subnet.h does not compile
// (Debian 12 lacks cfg_globals.h).
#define BSDP_KEA_PKT4_SEND_SUBNET (BSDP_KEA_VERSION >= 20600)
#if BSDP_KEA_VERSION >= 30000
#include <dhcp/libdhcp++.h>
#include <dhcp/option_custom.h>
#else
#include <dhcp/option4_addrlst.h>
#endif
// From 2.6.3 (CVE-2025-32801, ChangeLog 2264; 3.0: 2344) kea-dhcp4 loads a
// library only from its hooks directory, checked by this function.
#define BSDP_KEA_HOOKS_PATH_CHECK (BSDP_KEA_VERSION >= 20603)
// From 2.6.3 (ChangeLog 2266; 3.0: 2346) Kea writes its data files (the
// lease file) only in its data directory: compiled in, or
// KEA_DHCP_DATA_DIR. kea_compat.cc asks CfgMgr, whose header 2.2 cannot
// build (see BSDP_KEA_PKT4_SEND_SUBNET).
#define BSDP_KEA_DATA_PATH_CHECK (BSDP_KEA_VERSION >= 20603)
#if BSDP_KEA_HOOKS_PATH_CHECK
#include <hooks/hooks_parser.h>
#endif
#if BSDP_KEA_PKT4_SEND_SUBNET
#include <dhcpsrv/subnet.h>
#ifdef BSDP_KEA_COMPAT_TESTING
#if BSDP_KEA_VERSION >= 30000
// 3.0's asiolink/crypto_tls.h (under cfgmgr.h) requires Kea's own config.h,
// and OpenSSL's headers (libssl-dev, which kea-dev does not pull in).
#include <config.h>
#endif
#include <dhcpsrv/cfgmgr.h>
#include <dhcpsrv/host.h>
#endif
#endif

namespace isc {
namespace bsdp {
namespace kea_compat {

using isc::data::ConstElementPtr;
using isc::hooks::HookLibInfo;

// HookLibInfo was a std::pair<library, parameters> up to 2.6 and is a
// struct (libname_, parameters_, cfgname_) from 3.0 (Kea ChangeLog 2363);
// its (name, parameters) constructor works on both.
#if BSDP_KEA_VERSION >= 30000
inline std::string& libName(HookLibInfo& i) { return (i.libname_); }
inline ConstElementPtr& libParameters(HookLibInfo& i) { return (i.parameters_); }
#else
inline std::string& libName(HookLibInfo& i) { return (i.first); }
inline ConstElementPtr& libParameters(HookLibInfo& i) { return (i.second); }
#endif

// ---- Loading the library as kea-dhcp4 does (kea-bsdp-check) -------------

// The path this version's kea-dhcp4 would dlopen for a "library" value:
// from 2.6.3 Kea's own HooksLibrariesParser::validatePath, which throws
// (with Kea's message) for a library outside the hooks directory
// (kea-dhcp4 -W's; KEA_HOOKS_PATH where it applies); before, as written.
inline std::string
libraryPathAsKeaLoadsIt(const std::string& library) {
#if BSDP_KEA_HOOKS_PATH_CHECK
    return (isc::hooks::HooksLibrariesParser::validatePath(library));
#else
    return (library);
#endif
}

// ---- Files the library writes --------------------------------------------

// Kea's data directory, where its lease file goes: from 2.6.3 CfgMgr's
// (KEA_DHCP_DATA_DIR when set); on 2.2, Debian's compiled-in /var/lib/kea
// (2.2 has no rule about it), or KEA_DHCP_DATA_DIR when set, as later
// versions read it.
std::string dataDir();

// The path a file the library writes (state file, spill file) gets, by
// the rule of Kea's own lease file: from 2.6.3 CfgMgr::validatePath (a
// bare name goes in the data directory; another folder throws, with Kea's
// message naming the allowed one); on 2.2 as written.
std::string dataFilePath(const std::string& path);

// kea-bsdp-check only: makes dir this process's data directory (from 2.6.3;
// nothing on 2.2, where any path is taken), so the library, loaded in the
// same process, accepts the private copy of the state file there.
void useDataDir(const std::string& dir);

// Multi-threading when the configuration does not say: on from 2.4 (Kea
// ChangeLog 2103), off before.
const bool MULTI_THREADING_DEFAULT = BSDP_KEA_VERSION >= 20400;

// HooksManager::loadLibraries, checking multi_threading_compatible() as
// the server does when multi-threading is on (2.4+ takes the flag; 2.2
// checks it at start-up instead, not here).
inline bool
loadLibraries(const isc::hooks::HookLibsCollection& libs, bool multi_threading) {
#if BSDP_KEA_VERSION >= 20400
    return (isc::hooks::HooksManager::loadLibraries(libs, multi_threading));
#else
    static_cast<void>(multi_threading);
    return (isc::hooks::HooksManager::loadLibraries(libs));
#endif
}

// ---- What the library re-implements of Kea's packet processing ----------
// (read in Dhcpv4Srv::processPacket, processInform, adjustIfaceData,
// adjustRemoteAddr, appendServerID, Dhcpv4Exchange::initResponse,
// copyDefaultFields and copyDefaultOptions of Kea-2.2.0, Kea-2.6.3 and
// Kea-3.0.4.)

// Statistics, the same names in all three. A message Kea cannot parse
// (buffer4_receive parses a BSDP query in Kea's stead):
const char* const STAT_PARSE_FAILED = "pkt4-parse-failed";
const char* const STAT_RECEIVE_DROP = "pkt4-receive-drop";
// An INFORM answered (the fast path answers in Kea's stead):
const char* const STAT_INFORM_RECEIVED = "pkt4-inform-received";
const char* const STAT_ACK_SENT = "pkt4-ack-sent";
const char* const STAT_SENT = "pkt4-sent";

// Option 54 as this version's Kea adds it (the bytes are the same; a later
// hook library may cast it): an Option4AddrLst up to 2.6, an OptionCustom
// of Kea's own definition from 3.0.
#if BSDP_KEA_VERSION >= 30000
typedef isc::dhcp::OptionCustom ServerIdOption;
#else
typedef isc::dhcp::Option4AddrLst ServerIdOption;
#endif

inline isc::dhcp::OptionPtr
serverIdOption(const isc::asiolink::IOAddress& address) {
#if BSDP_KEA_VERSION >= 30000
    isc::dhcp::OptionCustomPtr opt(new isc::dhcp::OptionCustom(
        isc::dhcp::LibDHCP::DHO_DHCP_SERVER_IDENTIFIER_DEF(), isc::dhcp::Option::V4));
    opt->writeAddress(address);
    return (opt);
#else
    return (isc::dhcp::OptionPtr(new isc::dhcp::Option4AddrLst(
        isc::dhcp::DHO_DHCP_SERVER_IDENTIFIER, address)));
#endif
}

// Whether Kea may recover a query's relay agent information (option 82)
// from a lease (stash-agent-options, from 2.6; the query is then in class
// STASH_AGENT_OPTIONS) and then does not copy it into the reply.
const bool RECOVERS_STASHED_AGENT_OPTIONS = BSDP_KEA_VERSION >= 20600;

// Whether Kea copies the query's relay agent information (option 82, when
// not empty) into the reply: not when it was recovered from a lease.
inline bool
copiesRelayAgentInfo(const isc::dhcp::Pkt4Ptr& query) {
    return (!RECOVERS_STASHED_AGENT_OPTIONS || !query->inClass("STASH_AGENT_OPTIONS"));
}

// Kea's ACK to an INFORM, for the fast path (kea_compat.cc). The same in
// all three versions for an INFORM with a ciaddr (the only kind the core
// answers), but for copiesRelayAgentInfo(). Kea's -p/-P port overrides and
// its relayed replies over UDP sockets that follow routing are not mirrored.

// The address Kea answers an INFORM from and names in option 54: the one
// the query reached, the socket's for a broadcast. False when there is
// none (nor an IPv4 unicast address).
bool informReplySource(const isc::dhcp::Pkt4Ptr& query, isc::asiolink::IOAddress& local);

// The DHCPACK Kea starts from before its configured options: the header
// fields Kea copies (RFC 2131: ciaddr, hops, chaddr, giaddr, flags), the
// options it echoes (RFC 6842 client identifier unless echo_client_id is
// false, RFC 3046 relay agent information, RFC 3011 subnet selection),
// option 54 (local), sent from local and the port the query came to, to
// ciaddr:68; and, when ciaddr is not the relay (giaddr), without hops,
// giaddr and option 82, which the client never sees.
isc::dhcp::Pkt4Ptr informAck(const isc::dhcp::Pkt4Ptr& query,
                             const isc::asiolink::IOAddress& local, bool echo_client_id);

// ---- The subnet Kea selected --------------------------------------------
// From 2.6 pkt4_send has a "subnet4" argument, but for an INFORM it is
// empty: processInform does not hand the exchange's context back, as
// processDiscover and processRequest do (read in 2.6.3 and 3.0.4). So a
// subnet4_select callout (same argument type) keeps the selected subnet's
// id in the packet's callout handle, which pkt4_send gets too.
const bool PKT4_SEND_HAS_SUBNET = BSDP_KEA_PKT4_SEND_SUBNET;
const char* const SELECTED_SUBNET_CONTEXT = "bsdp-selected-subnet";

#if BSDP_KEA_PKT4_SEND_SUBNET
#if BSDP_KEA_VERSION >= 30000
typedef isc::dhcp::ConstSubnet4Ptr Pkt4SendSubnetPtr;
#else
typedef isc::dhcp::Subnet4Ptr Pkt4SendSubnetPtr;
#endif

// The "subnet4" argument of subnet4_select or pkt4_send, or null (no such
// argument, or another type than this version's Kea passes).
inline Pkt4SendSubnetPtr
subnetArgument(isc::hooks::CalloutHandle& handle) {
    Pkt4SendSubnetPtr subnet;
    try {
        handle.getArgument("subnet4", subnet);
    } catch (const isc::hooks::NoSuchArgument&) {
    } catch (const boost::bad_any_cast&) {
    }
    return (subnet);
}

// subnet4_select: remembers the subnet Kea selected (so far: a library
// after this one may still change it) in the packet's handle.
inline void
rememberSelectedSubnet(isc::hooks::CalloutHandle& handle) {
    Pkt4SendSubnetPtr subnet = subnetArgument(handle);
    if (subnet) {
        handle.setContext(SELECTED_SUBNET_CONTEXT, static_cast<uint32_t>(subnet->getID()));
    } else {
        handle.deleteContext(SELECTED_SUBNET_CONTEXT);
    }
}

// pkt4_send: the id of the subnet Kea selected for the packet, into id:
// pkt4_send's own, else what subnet4_select saw. False when there is none
// to tell: a packet in no subnet, or a handle that is not pkt4_send's
// (the fast path answers from buffer4_receive, before Kea selects one).
inline bool
selectedSubnetId(isc::hooks::CalloutHandle& handle, uint32_t& id) {
    Pkt4SendSubnetPtr subnet = subnetArgument(handle);
    if (subnet) {
        id = subnet->getID();
        return (true);
    }
    try {
        handle.getContext(SELECTED_SUBNET_CONTEXT, id);
        return (true);
    } catch (const isc::hooks::NoSuchCalloutContext&) {
    } catch (const boost::bad_any_cast&) {
    }
    return (false);
}
#else
// 2.2: the hook cannot read a subnet (see BSDP_KEA_PKT4_SEND_SUBNET).
inline void
rememberSelectedSubnet(isc::hooks::CalloutHandle&) {
}

inline bool
selectedSubnetId(isc::hooks::CalloutHandle&, uint32_t&) {
    return (false);
}
#endif

#ifdef BSDP_KEA_COMPAT_TESTING
// A packet filter for an interface the test adds to IfaceMgr: it keeps
// what IfaceMgr::send() hands it (the library's own sends, the OFFER*)
// and sends nothing. 2.6 added isSocketReceivedTimeSupported().
class RecordingPktFilter : public isc::dhcp::PktFilter {
public:
    std::vector<isc::dhcp::Pkt4Ptr> sent;
    bool isDirectResponseSupported() const override { return (true); }
#if BSDP_KEA_VERSION >= 20600
    bool isSocketReceivedTimeSupported() const override { return (false); }
#endif
    isc::dhcp::SocketInfo openSocket(isc::dhcp::Iface&, const isc::asiolink::IOAddress& addr,
                                     const uint16_t port, const bool, const bool) override {
        return (isc::dhcp::SocketInfo(addr, port, -1));
    }
    isc::dhcp::Pkt4Ptr receive(isc::dhcp::Iface&, const isc::dhcp::SocketInfo&) override {
        return (isc::dhcp::Pkt4Ptr());
    }
    int send(const isc::dhcp::Iface&, uint16_t, const isc::dhcp::Pkt4Ptr& pkt) override {
        sent.push_back(pkt);
        return (0);
    }
};

// Kea's side of the above, for test/shim only (which defines the macro).
// 2.2 has no such argument, and its dhcpsrv/cfgmgr.h does not compile:
// there both throw, and the test runs them only if PKT4_SEND_HAS_SUBNET.
#if BSDP_KEA_PKT4_SEND_SUBNET

// Passes a subnet with this id (0: an empty pointer, as pkt4_send for an
// INFORM) as "subnet4", typed as this version's Kea does.
inline void
passSelectedSubnet(isc::hooks::CalloutHandle& handle, uint32_t id) {
    handle.setArgument("subnet4", id == 0 ? Pkt4SendSubnetPtr() :
                       Pkt4SendSubnetPtr(isc::dhcp::Subnet4::create(
                           isc::asiolink::IOAddress("198.19.0.0"), 24, 1000, 2000, 3000, id)));
}

// Adds (or with index 0 removes) a reservation of this MAC in subnet id
// (0: global) with user-context {"bsdp-image": index} to Kea's current
// configuration.
inline void
setHostPin(const std::vector<uint8_t>& mac, uint32_t id, int64_t index) {
    isc::dhcp::CfgHostsPtr hosts = isc::dhcp::CfgMgr::instance().getCurrentCfg()->getCfgHosts();
    hosts->del4(id, isc::dhcp::Host::IDENT_HWADDR, mac.data(), mac.size());
    if (index == 0) {
        return;
    }
    isc::dhcp::HostPtr host(new isc::dhcp::Host(mac.data(), mac.size(), isc::dhcp::Host::IDENT_HWADDR,
                                                id, isc::dhcp::SUBNET_ID_UNUSED,
                                                isc::asiolink::IOAddress::IPV4_ZERO_ADDRESS(),
                                                "pin-" + std::to_string(id)));
    isc::data::ElementPtr ctx = isc::data::Element::createMap();
    ctx->set("bsdp-image", isc::data::Element::create(static_cast<long long int>(index)));
    host->setContext(ctx);
    hosts->add(host);
}
#else
inline void
passSelectedSubnet(isc::hooks::CalloutHandle&, uint32_t) {
    throw std::logic_error("this Kea's pkt4_send passes no subnet4");
}

inline void
setHostPin(const std::vector<uint8_t>&, uint32_t, int64_t) {
    throw std::logic_error("this Kea's pkt4_send passes no subnet4 to pick a pin by");
}
#endif
#endif // BSDP_KEA_COMPAT_TESTING

} // namespace kea_compat
} // namespace bsdp
} // namespace isc

#endif
