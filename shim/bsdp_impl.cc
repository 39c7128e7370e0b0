// SPDX-License-Identifier: MPL-2.0
#include "bsdp_impl.h"

#include "bsdp_fast_path.h"
#include "bsdp_log.h"
#include "bsdp_option.h"
#include "bsdp_stats.h"

#include "hook/policy.h"
#include "plist/nbi_scan.h"

#include <asiolink/io_address.h>
#include <dhcp/dhcp4.h>
#include <dhcp/option_custom.h>
#include <dhcp/option_int.h>
#include <dhcp/option_string.h>
#include <dhcpsrv/host_mgr.h>
#include <hooks/callout_handle.h>
#include <stats/stats_mgr.h>

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <vector>

using isc::asiolink::IOAddress;
using isc::dhcp::Option;
using isc::dhcp::OptionBuffer;
using isc::dhcp::OptionPtr;
using isc::dhcp::Pkt4Ptr;
using isc::hooks::CalloutHandle;

namespace isc {
namespace bsdp {

namespace {

const char VENDOR_PREFIX[] = "AAPLBSDPC/";
const size_t VENDOR_PREFIX_LEN = sizeof(VENDOR_PREFIX) - 1;
// Largest option-43 area the core may write: BOOTPD's cap of 8192 bytes.
const size_t OPT43_OUT_MAX = 8192;
// iPXE's encapsulated options: their presence alone marks iPXE.
const uint16_t IPXE_ENCAP_OPTION = 175;
// One option 67.
const size_t BOOT_FILE_OPTION_MAX = 255;

std::string
macText(const Pkt4Ptr& query) {
    isc::dhcp::HWAddrPtr hw = query->getHWAddr();
    return (hw ? hw->toText(false) : std::string("(no hardware address)"));
}

std::string
idText(uint32_t id) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%u (0x%08x)", static_cast<unsigned>(BSDP_IMAGE_ID_INDEX(id)),
                  static_cast<unsigned>(id));
    return (buf);
}

// An option of a packet, read in place. Inside callouts Kea's getOption()
// clones every option it returns (so hooks cannot change shared objects);
// we only read, and a clone per lookup cost more than our whole reply.
OptionPtr
peekOption(const Pkt4Ptr& pkt, uint16_t code) {
    auto it = pkt->options_.find(code);
    return (it == pkt->options_.end() ? OptionPtr() : it->second);
}

// The exact bytes a client sent in an option (Kea fuses repeated
// instances), borrowed from the packet. Never Kea's re-packing of
// sub-options: it loses data.
const OptionBuffer*
optionBytes(const Pkt4Ptr& pkt, uint16_t code) {
    OptionPtr opt = peekOption(pkt, code);
    // The packet keeps the option (and so its buffer) alive.
    return (opt ? &opt->getData() : nullptr);
}

// Option 57 as Kea holds it (OptionInt<uint16_t>), or -1.
int
maxMessageSize(const Pkt4Ptr& pkt) {
    OptionPtr opt = peekOption(pkt, isc::dhcp::DHO_DHCP_MAX_MESSAGE_SIZE);
    if (!opt) {
        return (-1);
    }
    auto typed = boost::dynamic_pointer_cast<isc::dhcp::OptionInt<uint16_t>>(opt);
    if (typed) {
        return (typed->getValue());
    }
    OptionBuffer b = opt->toBinary(false);
    return (b.size() == 2 ? (b[0] << 8) | b[1] : -1);
}

// Bytes of every instance of `code` in a packet about to be packed.
size_t
optionsLen(const Pkt4Ptr& pkt, uint16_t code) {
    size_t len = 0;
    auto range = pkt->options_.equal_range(code);
    for (auto it = range.first; it != range.second; ++it) {
        len += it->second->len();
    }
    return (len);
}

// An IPv4 address option (option 54 is an OptionCustom in Kea), or 0.
uint32_t
addressOption(const Pkt4Ptr& pkt, uint16_t code) {
    OptionPtr opt = peekOption(pkt, code);
    if (!opt) {
        return (0);
    }
    auto typed = boost::dynamic_pointer_cast<isc::dhcp::OptionCustom>(opt);
    if (typed && typed->getDataFieldsNum() == 1) {
        try {
            IOAddress a = typed->readAddress(0);
            return (a.isV4() ? a.toUint32() : 0);
        } catch (const std::exception&) {
            return (0);
        }
    }
    OptionBuffer b = opt->toBinary(false);
    if (b.size() != 4) {
        return (0);
    }
    return ((uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3]);
}

// Largest DHCP message the link of `ifname` carries unfragmented (MTU minus
// IP and UDP headers), or 0 when unknown. Kea sends through raw sockets,
// which cannot fragment: a larger reply fails with EMSGSIZE and is lost.
size_t
readLinkMaxMessage(const std::string& ifname) {
    if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
        return (0);
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return (0);
    }
    struct ifreq ifr;
    std::memset(&ifr, 0, sizeof(ifr));
    std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
    int rc = ioctl(fd, SIOCGIFMTU, &ifr);
    close(fd);
    if (rc != 0 || ifr.ifr_mtu < 576) {
        return (0);
    }
    return (static_cast<size_t>(ifr.ifr_mtu) - 28);
}

// Opening a socket for an ioctl costs more than the rest of a reply, so the
// value is kept per interface index and read again when older than
// MTU_REFRESH_SECONDS: an MTU change takes effect within that time. One
// atomic word per entry (value << 32 | time) keeps packet threads lock-free.
const int MTU_CACHE_SIZE = 1024;
const int64_t MTU_REFRESH_SECONDS = 5;
std::atomic<uint64_t> mtu_cache[MTU_CACHE_SIZE];

size_t
linkMaxMessage(const Pkt4Ptr& query, int64_t now) {
    int index = query->getIndex();
    if (index <= 0 || index >= MTU_CACHE_SIZE) {
        return (readLinkMaxMessage(query->getIface()));
    }
    uint64_t entry = mtu_cache[index].load(std::memory_order_relaxed);
    uint32_t stamp = static_cast<uint32_t>(entry);
    if (entry != 0 && static_cast<uint32_t>(now) - stamp < MTU_REFRESH_SECONDS) {
        return (static_cast<size_t>(entry >> 32));
    }
    size_t value = readLinkMaxMessage(query->getIface());
    mtu_cache[index].store((uint64_t(value) << 32) | static_cast<uint32_t>(now),
                           std::memory_order_relaxed);
    return (value);
}

void
catalogueDeleter(const struct bsdp_catalogue* c) {
    bsdp_catalogue_free(const_cast<struct bsdp_catalogue*>(c));
}

} // namespace

bool
isBsdpQuery(const Pkt4Ptr& query) {
    if (query->getType() != isc::dhcp::DHCPINFORM) {
        return (false);
    }
    OptionPtr vc = peekOption(query, isc::dhcp::DHO_VENDOR_CLASS_IDENTIFIER);
    if (!vc) {
        return (false);
    }
    const OptionBuffer& d = vc->getData();
    return (d.size() >= VENDOR_PREFIX_LEN &&
            std::memcmp(d.data(), VENDOR_PREFIX, VENDOR_PREFIX_LEN) == 0);
}

Impl::Impl(const isc::data::ConstElementPtr& params)
    : params_(parseParams(params)), bindings_(nullptr) {
    struct bsdp_responder_config cfg;
    std::memset(&cfg, 0, sizeof(cfg));
    cfg.server_address = params_.server_address;
    cfg.priority = params_.server_priority;
    cfg.tftp_path_prefix = params_.tftp_path_prefix.c_str();
    cfg.http_url = params_.has_http_url ? params_.http_url.c_str() : nullptr;
    cfg.nfs_url = params_.has_nfs_url ? params_.nfs_url.c_str() : nullptr;
    cfg.machine_name_format =
        params_.has_machine_name_format ? params_.machine_name_format.c_str() : nullptr;
    char err[512] = "";
    std::memset(&responder_, 0, sizeof(responder_));
    if (bsdp_responder_init(&responder_, &cfg, err, sizeof(err)) != 0) {
        throw std::runtime_error(err[0] ? err : "invalid configuration");
    }
    publish(scan());
    bindings_ = bsdp_bindings_new(params_.max_bindings);
    if (!bindings_) {
        throw std::runtime_error("out of memory for the bindings table");
    }
    try {
        state_.reset(new StateFile(params_.state_file, bindings_));
    } catch (...) {
        bsdp_bindings_free(bindings_);
        throw;
    }
}

Impl::~Impl() {
    state_.reset();   // final save while the table still exists
    bsdp_bindings_free(bindings_);
}

CatalogueConstPtr
Impl::catalogue() const {
    return (std::atomic_load(&catalogue_));
}

void
Impl::publish(struct bsdp_catalogue* fresh) {
    CatalogueConstPtr next(fresh, catalogueDeleter);
    std::atomic_store(&catalogue_, next);
}

struct bsdp_catalogue*
Impl::scan(const struct bsdp_catalogue* previous) const {
    struct bsdp_scan_options opts;
    std::memset(&opts, 0, sizeof(opts));
    opts.nfs_available = params_.has_nfs_url;
    opts.previous = previous;
    int err = 0;
    struct bsdp_catalogue* c = bsdp_nbi_scan(params_.sets_directory.c_str(), &opts, &err);
    if (!c) {
        throw ParamError("sets-directory", "'" + params_.sets_directory +
                         "' cannot be scanned: " +
                         (err == -EAGAIN ? std::string("it kept changing during the scan "
                                                       "(renamed or sets added or removed)")
                                         : std::string(std::strerror(err < 0 ? -err : EIO))));
    }
    for (size_t i = 0; i < c->n_skipped; ++i) {
        LOG_WARN(bsdp_logger, BSDP_SET_SKIPPED).arg(c->skipped[i].path).arg(c->skipped[i].reason);
    }
    for (size_t i = 0; i < c->n_warnings; ++i) {
        LOG_WARN(bsdp_logger, BSDP_SET_WARNING).arg(c->warnings[i].path).arg(c->warnings[i].reason);
    }
    for (size_t i = 0; i < c->n_images; ++i) {
        const struct bsdp_image& img = c->images[i];
        LOG_DEBUG(bsdp_logger, isc::log::DBGLVL_START_SHUT, BSDP_IMAGE)
            .arg(idText(img.id))
            .arg(std::string(img.name, img.name_len))
            .arg(bsdp_image_type_name(img.type))
            .arg(img.is_enabled ? "enabled" : "disabled")
            .arg(img.set_dir);
    }
    LOG_INFO(bsdp_logger, BSDP_LOADED)
        .arg(c->n_images).arg(params_.sets_directory).arg(c->n_skipped).arg(c->n_warnings)
        .arg(params_.server_priority);
    return (c);
}

void
Impl::receive(CalloutHandle& handle, const Pkt4Ptr& query) const {
    // Decided from the raw message: anything else is left for Kea to parse.
    const OptionBuffer& raw = query->data_;
    if (!bsdp_codec_is_bsdp_inform(raw.data(), raw.size())) {
        return;
    }
    // We parse it with Kea's own parser (unless a library before us did),
    // so that Kea does not parse option 43 a second time into sub-option
    // objects after classification: we only read its bytes, and that
    // second parse costs more than our whole answer.
    if (handle.getStatus() != CalloutHandle::NEXT_STEP_SKIP) {
        try {
            query->unpack();
        } catch (const isc::dhcp::SkipRemainingOptionsError&) {
            // Kea goes on with the options read so far; so do we.
        } catch (const std::exception& ex) {
            // What Kea does with a message it cannot parse, plus our count.
            handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
            isc::stats::StatsMgr::instance().addValue("pkt4-parse-failed", int64_t(1));
            isc::stats::StatsMgr::instance().addValue("pkt4-receive-drop", int64_t(1));
            stats::count(stats::dropped(BSDP_DROP_MALFORMED));
            LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_QUERY_MALFORMED).arg(macText(query))
                .arg(std::string("the message cannot be parsed: ") + ex.what());
            return;
        }
        handle.setStatus(CalloutHandle::NEXT_STEP_SKIP);
    }
    if (!isBsdpQuery(query)) {
        return;
    }
    query->getDeferredOptions().remove(isc::dhcp::DHO_VENDOR_ENCAPSULATED_OPTIONS);

    OptionPtr vc_opt = peekOption(query, isc::dhcp::DHO_VENDOR_CLASS_IDENTIFIER);
    const OptionBuffer& vc = vc_opt->getData();
    struct bsdp_vendor_class vcp;
    const char* why = nullptr;
    if (bsdp_codec_parse_vendor_class(reinterpret_cast<const char*>(vc.data()), vc.size(),
                                      &vcp) != 0) {
        why = "option 60 is not a valid BSDP client class";
    } else {
        const OptionBuffer* o43 = optionBytes(query, isc::dhcp::DHO_VENDOR_ENCAPSULATED_OPTIONS);
        struct bsdp_request req;
        if (o43 && bsdp_codec_parse_request(o43->data(), o43->size(), &req) != 0) {
            why = "option 43 is not a valid list of BSDP sub-options";
        }
    }
    if (why) {
        handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
        stats::count(stats::dropped(BSDP_DROP_MALFORMED));
        LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_QUERY_MALFORMED).arg(macText(query)).arg(why);
        return;
    }
    if (params_.fast_path) {
        answerBeforeKea(*this, handle, query);
    }
}

void
Impl::send(CalloutHandle& handle, const Pkt4Ptr& query, const Pkt4Ptr& response) const {
    if (!isBsdpQuery(query)) {
        chainIpxe(query, response);
        return;
    }
    CatalogueConstPtr cat = catalogue();

    // The query as the core sees it.
    const OptionBuffer* o43 = optionBytes(query, isc::dhcp::DHO_VENDOR_ENCAPSULATED_OPTIONS);
    const OptionBuffer* o60 = optionBytes(query, isc::dhcp::DHO_VENDOR_CLASS_IDENTIFIER);
    bool has43 = o43 != nullptr;
    struct bsdp_query q;
    std::memset(&q, 0, sizeof(q));
    q.opt43 = has43 ? o43->data() : nullptr;
    q.opt43_len = has43 ? o43->size() : 0;
    q.opt60 = o60 ? reinterpret_cast<const char*>(o60->data()) : nullptr;
    q.opt60_len = o60 ? o60->size() : 0;
    isc::dhcp::HWAddrPtr hw = query->getHWAddr();
    if (hw && hw->htype_ == isc::dhcp::HTYPE_ETHER && hw->hwaddr_.size() == 6) {
        std::memcpy(q.mac, hw->hwaddr_.data(), 6);
        q.mac_valid = true;
    }
    q.ciaddr = query->getCiaddr().toUint32();
    q.local_address = addressOption(response, isc::dhcp::DHO_DHCP_SERVER_IDENTIFIER);
    if (q.local_address == 0 && query->getLocalAddr().isV4() &&
        !query->getLocalAddr().isV4Bcast()) {
        q.local_address = query->getLocalAddr().toUint32();
    }
    q.opt57 = maxMessageSize(query);
    // The packed response without option 43: header, cookie, Kea's other
    // options, our option 60 (2 + 9) and END.
    size_t overhead = response->len() + 4 + 1 + (2 + 9);
    overhead -= optionsLen(response, isc::dhcp::DHO_VENDOR_ENCAPSULATED_OPTIONS);
    overhead -= optionsLen(response, isc::dhcp::DHO_VENDOR_CLASS_IDENTIFIER);
    q.reply_overhead = overhead;
    q.now = static_cast<int64_t>(std::time(nullptr));
    q.link_max = linkMaxMessage(query, q.now);
    // The core asks for a pin only when it answers a LIST: no host lookup
    // for anything else.
    PinRequest pin = {this, &q, &query};
    if (q.mac_valid) {
        q.pin_lookup = &Impl::pinLookup;
        q.pin_ctx = &pin;
    }

    uint8_t out[OPT43_OUT_MAX];
    struct bsdp_answer ans;
    std::memset(&ans, 0, sizeof(ans));
    int rc = bsdp_responder_answer(&responder_, cat.get(), bindings_, &q, out, sizeof(out),
                                   BSDP_REPLY_BLOCK_SIZE, &ans);
    if (rc != 0) {
        handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
        LOG_ERROR(bsdp_logger, BSDP_REPLY_ERROR).arg(macText(query))
            .arg(std::string("responder error ") + std::strerror(-rc));
        return;
    }
    if (ans.req.msg_type == BSDP_MSGTYPE_LIST) {
        stats::count(stats::REQUESTS_LIST);
    } else if (ans.req.msg_type == BSDP_MSGTYPE_SELECT) {
        stats::count(stats::REQUESTS_SELECT);
    }

    if (ans.verdict == BSDP_VERDICT_NOT_BSDP) {
        return;
    }
    if (ans.verdict == BSDP_VERDICT_DROP) {
        // A BSDP request gets a BSDP answer or nothing: Kea's ACK is suppressed.
        handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
        stats::count(stats::dropped(ans.drop));
        LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_QUERY_DROPPED).arg(macText(query))
            .arg(std::string(bsdp_drop_reason_name(ans.drop)) + (ans.why ? ": " : "") +
                 (ans.why ? ans.why : ""));
        return;
    }

    try {
        // Our option 43 and 60 replace Kea's.
        OptionPtr blocks(new VendorBlocksOption(out, ans.opt43_len));
        while (response->delOption(isc::dhcp::DHO_VENDOR_ENCAPSULATED_OPTIONS)) {}
        while (response->delOption(isc::dhcp::DHO_VENDOR_CLASS_IDENTIFIER)) {}
        response->addOption(OptionPtr(new isc::dhcp::OptionString(
            Option::V4, isc::dhcp::DHO_VENDOR_CLASS_IDENTIFIER, BSDP_VENDOR_CLASS_PREFIX)));
        response->addOption(blocks);

        if (ans.server_id != 0 &&
            addressOption(response, isc::dhcp::DHO_DHCP_SERVER_IDENTIFIER) != ans.server_id) {
            while (response->delOption(isc::dhcp::DHO_DHCP_SERVER_IDENTIFIER)) {}
            response->addOption(serverIdOption(ans.server_id));
        }

        if (ans.sent == BSDP_MSGTYPE_SELECT) {
            response->setSiaddr(IOAddress(ans.siaddr));
            size_t flen = strnlen(ans.file, sizeof(ans.file));
            response->setFile(reinterpret_cast<const uint8_t*>(ans.file), flen);
            while (response->delOption(isc::dhcp::DHO_ROOT_PATH)) {}
            size_t rlen = strnlen(ans.root_path, sizeof(ans.root_path));
            if (rlen > 0) {
                response->addOption(OptionPtr(new isc::dhcp::OptionString(
                    Option::V4, isc::dhcp::DHO_ROOT_PATH, std::string(ans.root_path, rlen))));
            }
        }

        // Apple answers at ciaddr, on the reply port when the client asked.
        if (q.ciaddr != 0) {
            response->setRemoteAddr(IOAddress(q.ciaddr));
        }
        if (ans.reply_port != 0) {
            response->setRemotePort(ans.reply_port);
        }
    } catch (const std::exception& ex) {
        handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
        LOG_ERROR(bsdp_logger, BSDP_REPLY_ERROR).arg(macText(query)).arg(ex.what());
        return;
    }

    // The reply is whole: what is counted and logged about it from here on
    // must never cost the client its answer.
    try {
        reportAnswer(cat.get(), q, ans, query);
    } catch (...) {
    }
}

void
Impl::reportAnswer(const struct bsdp_catalogue* cat, const struct bsdp_query& q,
                   const struct bsdp_answer& ans, const Pkt4Ptr& query) const {
    std::string model(ans.vc.model, ans.vc.model_len);
    std::string arch(ans.vc.arch, ans.vc.arch_len);
    if (ans.pinned_image != 0) {
        explainPin(cat, q, ans, ans.pinned_image, query);
    }
    switch (ans.sent) {
    case BSDP_MSGTYPE_LIST:
        stats::count(stats::REPLIES_LIST);
        if (ans.truncated) {
            stats::count(stats::LISTS_TRUNCATED);
        }
        LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_REPLY_LIST)
            .arg(macText(query)).arg(arch).arg(model)
            .arg(ans.images_listed).arg(ans.images_visible).arg(idText(ans.default_id))
            .arg(ans.truncated ? " (list truncated to fit the client's maximum size)" : "");
        break;
    case BSDP_MSGTYPE_SELECT: {
        stats::count(stats::REPLIES_SELECT);
        noteEvictions(query);
        const struct bsdp_image* img = ans.image;
        LOG_INFO(bsdp_logger, BSDP_REPLY_SELECT)
            .arg(macText(query)).arg(arch).arg(model).arg(idText(ans.selected_id))
            .arg(img ? std::string(img->name, img->name_len) : std::string("?"))
            .arg(ans.file).arg(ans.root_path).arg(ans.machine_name);
        break;
    }
    case BSDP_MSGTYPE_FAILED:
        stats::count(stats::REPLIES_FAILED);
        LOG_INFO(bsdp_logger, BSDP_REPLY_FAILED)
            .arg(macText(query)).arg(arch).arg(model)
            .arg((ans.req.present & BSDP_HAS(BSDP_OPT_SELECTED_BOOT_IMAGE)) ?
                 idText(ans.req.selected_image) : std::string("(default)"))
            .arg(ans.why ? ans.why : "refused");
        break;
    default:
        break;
    }
}

void
Impl::noteEvictions(const Pkt4Ptr& query) const {
    // Each thread publishes only the evictions it is first to see, so the
    // statistic adds up exactly without a lock.
    uint64_t now = bsdp_bindings_evictions(bindings_);
    uint64_t seen = evictions_seen_.load(std::memory_order_relaxed);
    while (now > seen) {
        if (evictions_seen_.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
            stats::add(stats::BINDINGS_EVICTED, now - seen);
            if (seen == 0) {
                LOG_WARN(bsdp_logger, BSDP_BINDINGS_FULL).arg(params_.max_bindings)
                    .arg(macText(query));
            }
            break;
        }
    }
}

uint32_t
Impl::pinLookup(void* ctx) {
    const PinRequest* pin = static_cast<const PinRequest*>(ctx);
    try {
        if (!pin->impl->pinsPossible()) {
            return (0);
        }
        return (pin->impl->pinnedImage(pin->query->mac, *pin->packet));
    } catch (...) {
        return (0);  // a C caller: nothing may escape
    }
}

uint32_t
Impl::pinnedImage(const uint8_t mac[6], const Pkt4Ptr& query) const {
    isc::dhcp::ConstHostCollection hosts;
    try {
        // Every reservation of this MAC, global or in any subnet: a relayed
        // Mac may be in no subnet of Kea's.
        hosts = isc::dhcp::HostMgr::instance().getAll(isc::dhcp::Host::IDENT_HWADDR, mac, 6);
    } catch (const std::exception& ex) {
        LOG_ERROR(bsdp_logger, BSDP_PIN_LOOKUP_FAILED).arg(macText(query)).arg(ex.what());
        return (0);
    }
    for (auto const& host : hosts) {
        isc::data::ConstElementPtr ctx = host ? host->getContext() : isc::data::ConstElementPtr();
        if (!ctx || ctx->getType() != isc::data::Element::map) {
            continue;
        }
        isc::data::ConstElementPtr v = ctx->get("bsdp-image");
        if (!v) {
            continue;
        }
        if (v->getType() == isc::data::Element::integer && v->intValue() >= 1 &&
            v->intValue() <= 65535) {
            return (static_cast<uint32_t>(v->intValue()));
        }
        LOG_WARN(bsdp_logger, BSDP_PIN_INVALID).arg(macText(query)).arg(v->str());
    }
    return (0);
}

namespace {

using isc::data::ConstElementPtr;
using isc::data::Element;

// A list of maps from a configuration map, or null.
ConstElementPtr
listIn(const ConstElementPtr& map, const char* key) {
    ConstElementPtr v = map && map->getType() == Element::map ? map->get(key) : ConstElementPtr();
    return (v && v->getType() == Element::list ? v : ConstElementPtr());
}

bool
pinInReservations(const ConstElementPtr& scope) {
    ConstElementPtr list = listIn(scope, "reservations");
    for (size_t i = 0; list && i < list->size(); ++i) {
        ConstElementPtr ctx = list->get(i)->getType() == Element::map ?
                              list->get(i)->get("user-context") : ConstElementPtr();
        if (ctx && ctx->getType() == Element::map && ctx->get("bsdp-image")) {
            return (true);   // valid or not: pinnedImage() reports bad values
        }
    }
    return (false);
}

bool
pinInSubnets(const ConstElementPtr& scope) {
    ConstElementPtr subnets = listIn(scope, "subnet4");
    for (size_t i = 0; subnets && i < subnets->size(); ++i) {
        if (pinInReservations(subnets->get(i))) {
            return (true);
        }
    }
    return (false);
}

} // namespace

void
Impl::configured(const ConstElementPtr& config) {
    ConstElementPtr dhcp4 = config && config->getType() == Element::map && config->get("Dhcp4") ?
                            config->get("Dhcp4") : config;
    if (!dhcp4 || dhcp4->getType() != Element::map) {
        pin_state_.store(PINS_UNKNOWN);
        return;
    }
    ConstElementPtr echo = dhcp4->get("echo-client-id");
    echo_client_id_.store(!(echo && echo->getType() == Element::boolean && !echo->boolValue()));
    bool any = pinInReservations(dhcp4) || pinInSubnets(dhcp4);
    ConstElementPtr networks = listIn(dhcp4, "shared-networks");
    for (size_t i = 0; !any && networks && i < networks->size(); ++i) {
        any = pinInSubnets(networks->get(i));
    }
    pin_state_.store(any ? PINS_SOME : PINS_NONE);
}

bool
Impl::pinsPossible() const {
    if (pin_state_.load(std::memory_order_relaxed) != PINS_NONE) {
        return (true);
    }
    // A host database may gain a pin at any time.
    return (!isc::dhcp::HostMgr::instance().getHostDataSourceList().empty());
}

void
Impl::explainPin(const struct bsdp_catalogue* cat, const struct bsdp_query& q,
                 const struct bsdp_answer& ans, uint32_t pinned, const Pkt4Ptr& query) const {
    if (ans.sent != BSDP_MSGTYPE_LIST ||
        (ans.selected_id != 0 && BSDP_IMAGE_ID_INDEX(ans.selected_id) == pinned)) {
        return;
    }
    struct bsdp_client client;
    std::memset(&client, 0, sizeof(client));
    client.arch = bsdp_arch_from_name(ans.vc.arch, ans.vc.arch_len);
    client.model = ans.vc.model;
    client.model_len = ans.vc.model_len;
    std::memcpy(client.mac, q.mac, 6);
    const char* why = "no image with this index";
    for (size_t i = 0; i < cat->n_images; ++i) {
        const struct bsdp_image& img = cat->images[i];
        if (img.index != pinned) {
            continue;
        }
        if (bsdp_policy_applicable(&img, &client)) {
            // Applicable but not listed: the client's filter left it out.
            LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_PIN_FILTERED).arg(macText(query)).arg(pinned);
            return;
        }
        why = img.is_enabled ?
            "the image may not be booted by this client (architecture, model or MAC address)" :
            "the image is disabled";
    }
    LOG_WARN(bsdp_logger, BSDP_PIN_IGNORED).arg(macText(query)).arg(pinned).arg(why);
}

void
Impl::chainIpxe(const Pkt4Ptr& query, const Pkt4Ptr& response) const {
    // Cheap checks first: ordinary traffic stops at the message type or at
    // two option lookups, with nothing copied.
    uint8_t type = query->getType();
    if (type != isc::dhcp::DHCPDISCOVER && type != isc::dhcp::DHCPREQUEST &&
        type != isc::dhcp::DHCPINFORM) {
        return;
    }
    OptionPtr encap = peekOption(query, IPXE_ENCAP_OPTION);
    OptionPtr user_class = peekOption(query, isc::dhcp::DHO_USER_CLASS);
    if (!encap && !user_class) {
        return;
    }
    uint8_t rtype = response->getType();
    if (rtype != isc::dhcp::DHCPOFFER && rtype != isc::dhcp::DHCPACK) {
        return;
    }
    const OptionBuffer* uc = user_class ? &user_class->getData() : nullptr;
    if (!bsdp_responder_is_ipxe(uc && !uc->empty() ? uc->data() : nullptr, uc ? uc->size() : 0,
                                encap != nullptr)) {
        return;
    }
    isc::dhcp::HWAddrPtr hw = query->getHWAddr();
    if (!hw || hw->htype_ != isc::dhcp::HTYPE_ETHER || hw->hwaddr_.size() != 6) {
        return;
    }
    const char* what = type == isc::dhcp::DHCPDISCOVER ? "DISCOVER" :
                       type == isc::dhcp::DHCPREQUEST ? "REQUEST" : "INFORM";
    CatalogueConstPtr cat = catalogue();
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    const char* url = bsdp_responder_chain_url(cat.get(), bindings_, hw->hwaddr_.data(), now,
                                               params_.chain_window);
    if (!url) {
        LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_IPXE_NO_CHAIN).arg(macText(query)).arg(what);
        return;
    }
    struct bsdp_binding b;
    std::memset(&b, 0, sizeof(b));
    bsdp_bindings_lookup(bindings_, hw->hwaddr_.data(), &b);
    size_t len = std::strlen(url);
    if (len > BOOT_FILE_OPTION_MAX) {
        LOG_WARN(bsdp_logger, BSDP_IPXE_URL_TOO_LONG).arg(macText(query)).arg(idText(b.image_id));
        return;
    }
    // The file field holds 127 bytes and a NUL; option 67 always carries it.
    if (len <= BSDP_FILE_MAX) {
        response->setFile(reinterpret_cast<const uint8_t*>(url), len);
    }
    while (response->delOption(isc::dhcp::DHO_BOOT_FILE_NAME)) {}
    response->addOption(OptionPtr(new isc::dhcp::OptionString(
        Option::V4, isc::dhcp::DHO_BOOT_FILE_NAME, std::string(url, len))));
    LOG_INFO(bsdp_logger, BSDP_IPXE_CHAIN).arg(macText(query)).arg(what).arg(url)
        .arg(idText(b.image_id)).arg(now - b.time);
}

} // namespace bsdp
} // namespace isc
