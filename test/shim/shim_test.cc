// SPDX-License-Identifier: MPL-2.0
// Loads the built libdhcp_bsdp.so through Kea's own HooksManager (no
// server), runs its pkt4_receive/pkt4_send callouts on real Pkt4 objects,
// packs the response with Pkt4::pack() and checks the bytes that would go
// on the wire: every option-43 instance holds whole BSDP sub-options and
// the instances decode back completely with the core's reply parser.
//
// usage: shim_test /abs/path/libdhcp_bsdp.so
#include "hook/bsdp_codec.h"
#include "store/state_file.h"
#define BSDP_KEA_COMPAT_TESTING
#include "shim/kea_compat.h"

#include <asiolink/io_address.h>
#include <cc/command_interpreter.h>
#include <cc/data.h>
#include <dhcp/dhcp4.h>
#include <dhcp/hwaddr.h>
#include <dhcp/iface_mgr.h>
#include <dhcp/libdhcp++.h>
#include <dhcp/option.h>
#include <dhcp/option_int.h>
#include <dhcp/option_string.h>
#include <dhcp/pkt4.h>
#include <dhcpsrv/timer_mgr.h>
#include <hooks/callout_handle.h>
#include <hooks/hooks_manager.h>
#include <hooks/server_hooks.h>
#include <log/logger_support.h>
#include <stats/stats_mgr.h>
#include <util/multi_threading_mgr.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <new>
#include <string>
#include <thread>
#include <vector>

using namespace isc;
using namespace isc::dhcp;
using namespace isc::hooks;
using isc::asiolink::IOAddress;
using isc::data::Element;
using isc::data::ConstElementPtr;
using isc::data::ElementPtr;

// Allocation failure on demand: with fail_countdown = k, the k-th
// allocation from then on (in this thread) throws std::bad_alloc. Replacing
// the global operator new reaches Kea's and the library's allocations too.
thread_local long fail_countdown = -1;
thread_local bool fail_fired = false;

void*
operator new(std::size_t n) {
    if (fail_countdown >= 0 && fail_countdown-- == 0) {
        fail_fired = true;
        throw std::bad_alloc();
    }
    void* p = std::malloc(n ? n : 1);
    if (!p) {
        throw std::bad_alloc();
    }
    return (p);
}

void
operator delete(void* p) noexcept {
    std::free(p);
}

void
operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

namespace {

int passed = 0;
int failed = 0;
std::string current;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            std::printf("  FAIL %s: %s (line %d)\n", current.c_str(), #cond, __LINE__); \
            ok = false;                                                                 \
        }                                                                               \
    } while (0)

void
run(const std::string& name, const std::function<bool()>& test) {
    current = name;
    bool ok = false;
    try {
        ok = test();
    } catch (const std::exception& ex) {
        std::printf("  FAIL %s: exception %s\n", name.c_str(), ex.what());
        ok = false;
    }
    std::printf("%s %s\n", ok ? "PASS" : "FAIL", name.c_str());
    (ok ? passed : failed)++;
}

std::string so_path;
std::string sets_dir;
int hook_receive = -1;
int hook_pkt4_receive = -1;
int hook_send = -1;
int hook_configured = -1;
int hook_subnet4_select = -1;
const IOAddress SERVER("198.18.0.1");
const IOAddress CLIENT("198.18.0.10");
const std::vector<uint8_t> MAC = {0x00, 0x1b, 0x63, 0x84, 0x45, 0xe6};
const size_t N_SETS = 40;

// ---- NetBoot sets -------------------------------------------------------

void
writeFile(const std::string& path, const std::string& text) {
    std::ofstream f(path.c_str(), std::ios::binary);
    f << text;
    if (!f) {
        throw std::runtime_error("cannot write " + path);
    }
}

void
mkdirs(const std::string& path) {
    std::string at;
    for (size_t i = 0; i <= path.size(); ++i) {
        if (i == path.size() || (path[i] == '/' && i > 0)) {
            at = path.substr(0, i);
            mkdir(at.c_str(), 0755);
        }
    }
}

std::string
imageName(size_t i) {
    char buf[80];
    std::snprintf(buf, sizeof(buf), "macOS Installer number %02zu (test image)", i + 1);
    return (buf);
}

uint16_t
imageIndex(size_t i) {
    return (static_cast<uint16_t>(4001 + i));
}

void
makeSets(const std::string& dir) {
    for (size_t i = 0; i < N_SETS; ++i) {
        char set[64];
        std::snprintf(set, sizeof(set), "%s/Image%02zu.nbi", dir.c_str(), i + 1);
        mkdirs(std::string(set) + "/i386/x86_64");
        writeFile(std::string(set) + "/i386/booter", "booter");
        writeFile(std::string(set) + "/i386/x86_64/kernelcache", "kernel");
        writeFile(std::string(set) + "/NetInstall.dmg", "dmg");
        std::string plist =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
            "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
            "<plist version=\"1.0\"><dict>\n"
            "<key>Name</key><string>" + imageName(i) + "</string>\n"
            "<key>Index</key><integer>" + std::to_string(imageIndex(i)) + "</integer>\n"
            "<key>Type</key><string>HTTP</string>\n"
            "<key>Kind</key><integer>1</integer>\n"
            "<key>IsInstall</key>" + std::string(i % 2 ? "<true/>" : "<false/>") + "\n"
            "<key>IsDefault</key>" + std::string(i == 7 ? "<true/>" : "<false/>") + "\n"
            "<key>BootFile</key><string>booter</string>\n"
            "<key>Architectures</key><array><string>i386</string></array>\n"
            "<key>RootPath</key><string>NetInstall.dmg</string>\n"
            "</dict></plist>\n";
        writeFile(std::string(set) + "/NBImageInfo.plist", plist);
    }
}

// ---- Hooks ------------------------------------------------------------

ElementPtr
params(const std::string& extra_json = "") {
    std::string json = "{ \"sets-directory\": \"" + sets_dir + "\", "
                       "\"state-file\": \"" + sets_dir + "/bindings.csv\", "
                       "\"http-url\": \"http://198.18.0.1/netboot\", "
                       "\"server-priority\": 40000" +
                       (extra_json.empty() ? "" : ", " + extra_json) + " }";
    return (Element::fromJSON(json));
}

bool
load(const ElementPtr& p) {
    HooksManager::prepareUnloadLibraries();
    HooksManager::unloadLibraries();
    HookLibsCollection libs;
    libs.push_back(HookLibInfo(so_path, p));
    return (HooksManager::loadLibraries(libs));
}

Pkt4Ptr
bsdpQuery(const std::vector<uint8_t>& opt43, const std::string& vendor_class =
              "AAPLBSDPC/i386/MacBookPro11,1", int opt57 = -1) {
    Pkt4Ptr q(new Pkt4(DHCPINFORM, 0x5eed0001));
    q->setHWAddr(HWAddrPtr(new HWAddr(MAC, HTYPE_ETHER)));
    q->setCiaddr(CLIENT);
    q->setLocalAddr(IOAddress("255.255.255.255"));
    q->setRemoteAddr(CLIENT);
    q->setIface("veth-test");
    if (!vendor_class.empty()) {
        q->addOption(OptionPtr(new OptionString(Option::V4, DHO_VENDOR_CLASS_IDENTIFIER,
                                                vendor_class)));
    }
    q->addOption(OptionPtr(new Option(Option::V4, DHO_VENDOR_ENCAPSULATED_OPTIONS,
                                      OptionBuffer(opt43.begin(), opt43.end()))));
    if (opt57 > 0) {
        q->addOption(OptionPtr(new OptionInt<uint16_t>(Option::V4, DHO_DHCP_MAX_MESSAGE_SIZE,
                                                       static_cast<uint16_t>(opt57))));
    }
    return (q);
}

// Kea's INFORM ACK before the hook edits it (including a stray option 43
// and 60 from some configuration, which the hook must replace).
Pkt4Ptr
keaResponse(const Pkt4Ptr& q, bool with_stray = true) {
    Pkt4Ptr r(new Pkt4(DHCPACK, q->getTransid()));
    r->setHWAddr(q->getHWAddr());
    r->setCiaddr(q->getCiaddr());
    r->setRemoteAddr(q->getCiaddr());
    r->setRemotePort(DHCP4_CLIENT_PORT);
    r->addOption(OptionPtr(new Option(Option::V4, DHO_DHCP_SERVER_IDENTIFIER,
                                      OptionBuffer{198, 18, 0, 1})));
    if (with_stray) {
        r->addOption(OptionPtr(new Option(Option::V4, DHO_VENDOR_ENCAPSULATED_OPTIONS,
                                          OptionBuffer{0x01, 0x01, 0x09})));
        r->addOption(OptionPtr(new OptionString(Option::V4, DHO_VENDOR_CLASS_IDENTIFIER,
                                                "kea")));
    }
    r->addOption(OptionPtr(new OptionString(Option::V4, DHO_DOMAIN_NAME, "example.test")));
    return (r);
}

struct Exchange {
    CalloutHandle::CalloutNextStep after_receive;
    CalloutHandle::CalloutNextStep after_send;
};

// A query as kea-dhcp4 receives it: only the wire bytes, nothing parsed.
Pkt4Ptr
asReceived(const Pkt4Ptr& q) {
    q->pack();
    const isc::util::OutputBuffer& b = q->getBuffer();
    Pkt4Ptr in(new Pkt4(static_cast<const uint8_t*>(b.getData()), b.getLength()));
    in->setIface(q->getIface());
    in->setIndex(q->getIndex());
    in->setLocalAddr(q->getLocalAddr());
    in->setRemoteAddr(q->getRemoteAddr());
    in->setLocalPort(DHCP4_SERVER_PORT);
    in->setRemotePort(DHCP4_CLIENT_PORT);
    return (in);
}

// Kea's order: buffer4_receive on the raw query, Kea's own parse unless a
// callout did it (SKIP), then pkt4_send with Kea's response.
// The subnet Kea selected (2.6+) when not 0: passed to subnet4_select, and
// to pkt4_send too unless the query is an INFORM as Kea's processInform
// (which passes pkt4_send an empty subnet4).
uint32_t selected_subnet = 0;
bool selected_as_inform = false;

Exchange
exchange(const Pkt4Ptr& q, const Pkt4Ptr& r) {
    Exchange ex;
    Pkt4Ptr in = asReceived(q);
    CalloutHandlePtr h = HooksManager::createCalloutHandle();
    h->setArgument("query4", in);
    h->setStatus(CalloutHandle::NEXT_STEP_CONTINUE);
    HooksManager::callCallouts(hook_receive, *h);
    ex.after_receive = h->getStatus();
    ex.after_send = ex.after_receive;
    if (ex.after_receive == CalloutHandle::NEXT_STEP_DROP) {
        return (ex);
    }
    if (ex.after_receive != CalloutHandle::NEXT_STEP_SKIP) {
        in->unpack();
    }
    h->setStatus(CalloutHandle::NEXT_STEP_CONTINUE);
    h->setArgument("query4", in);
    if (selected_subnet) {
        isc::bsdp::kea_compat::passSelectedSubnet(*h, selected_subnet);
        HooksManager::callCallouts(hook_subnet4_select, *h);
        h->deleteArgument("subnet4");
        isc::bsdp::kea_compat::passSelectedSubnet(*h, selected_as_inform ? 0 : selected_subnet);
    }
    h->setArgument("response4", r);
    HooksManager::callCallouts(hook_send, *h);
    ex.after_send = h->getStatus();
    h->deleteAllArguments();
    return (ex);
}

// ---- The wire -----------------------------------------------------------

struct Wire {
    std::vector<uint8_t> bytes;
    std::vector<std::vector<uint8_t>> opt43;   // payload of each instance
    std::vector<uint8_t> fused43;
    std::vector<std::pair<uint8_t, std::vector<uint8_t>>> options;
    bool well_formed = false;

    const std::vector<uint8_t>* first(uint8_t code) const {
        for (auto const& o : options) {
            if (o.first == code) {
                return (&o.second);
            }
        }
        return (nullptr);
    }
    size_t count(uint8_t code) const {
        size_t n = 0;
        for (auto const& o : options) {
            n += o.first == code;
        }
        return (n);
    }
};

// The bytes in a packet's output buffer, as they go on the wire, parsed.
Wire
wireOf(const Pkt4Ptr& r) {
    Wire w;
    const util::OutputBuffer& out = r->getBuffer();
    const uint8_t* p = static_cast<const uint8_t*>(out.getData());
    w.bytes.assign(p, p + out.getLength());
    const std::vector<uint8_t>& b = w.bytes;
    if (b.size() < 241 || b[236] != 0x63 || b[237] != 0x82 || b[238] != 0x53 ||
        b[239] != 0x63) {
        return (w);
    }
    size_t at = 240;
    while (at < b.size()) {
        uint8_t code = b[at];
        if (code == 0) {
            ++at;
            continue;
        }
        if (code == 255) {
            w.well_formed = true;
            break;
        }
        if (b.size() - at < 2 || b[at + 1] > b.size() - at - 2) {
            return (w);
        }
        std::vector<uint8_t> payload(b.begin() + at + 2, b.begin() + at + 2 + b[at + 1]);
        if (code == DHO_VENDOR_ENCAPSULATED_OPTIONS) {
            w.opt43.push_back(payload);
            w.fused43.insert(w.fused43.end(), payload.begin(), payload.end());
        }
        w.options.push_back(std::make_pair(code, payload));
        at += 2 + b[at + 1];
    }
    return (w);
}

Wire
wire(const Pkt4Ptr& r) {
    r->pack();
    return (wireOf(r));
}

// Each instance on its own is a complete list of sub-options, as Apple's
// parsers demand (docs/bsdp.md §3).
bool
instancesSelfContained(const Wire& w) {
    for (auto const& inst : w.opt43) {
        size_t at = 0;
        while (at < inst.size()) {
            if (inst[at] == 0) {
                ++at;
                continue;
            }
            if (inst[at] == 255) {
                break;
            }
            if (inst.size() - at < 2 || inst[at + 1] > inst.size() - at - 2) {
                return (false);
            }
            at += 2 + inst[at + 1];
        }
    }
    return (true);
}

std::vector<uint8_t>
listRequest(const std::vector<uint8_t>& extra = {}) {
    std::vector<uint8_t> v = {0x01, 0x01, 0x01, 0x02, 0x02, 0x01, 0x01};
    v.insert(v.end(), extra.begin(), extra.end());
    return (v);
}

std::vector<uint8_t>
selectRequest(uint32_t server, uint32_t image, const std::vector<uint8_t>& extra = {}) {
    std::vector<uint8_t> v = {0x01, 0x01, 0x02, 0x02, 0x02, 0x01, 0x01,
                              0x03, 0x04, uint8_t(server >> 24), uint8_t(server >> 16),
                              uint8_t(server >> 8), uint8_t(server),
                              0x08, 0x04, uint8_t(image >> 24), uint8_t(image >> 16),
                              uint8_t(image >> 8), uint8_t(image)};
    v.insert(v.end(), extra.begin(), extra.end());
    return (v);
}

uint32_t
imageId(size_t i) {
    return (BSDP_IMAGE_ID(i % 2 == 1, 1, imageIndex(i)));
}

// ---- Tests ----------------------------------------------------------------

bool
testKeaCutsLongPlainOption() {
    // The problem being solved: a plain option 43 over 253 bytes is cut at
    // raw offsets by Kea's Pkt4::pack().
    bool ok = true;
    Pkt4Ptr r(new Pkt4(DHCPACK, 1));
    r->setHWAddr(HWAddrPtr(new HWAddr(MAC, HTYPE_ETHER)));
    r->addOption(OptionPtr(new Option(Option::V4, DHO_VENDOR_ENCAPSULATED_OPTIONS,
                                      OptionBuffer(300, 0x09))));
    Wire w = wire(r);
    CHECK(w.well_formed);
    CHECK(w.opt43.size() == 2);
    CHECK(w.opt43.size() == 2 && w.opt43[0].size() == 253 && w.opt43[1].size() == 47);
    return (ok);
}

bool
testList40Images() {
    bool ok = true;
    Pkt4Ptr q = bsdpQuery(listRequest(), "AAPLBSDPC/i386/MacBookPro11,1", 8192);
    Pkt4Ptr r = keaResponse(q);
    Exchange ex = exchange(q, r);
    CHECK(ex.after_receive == CalloutHandle::NEXT_STEP_SKIP);   // parsed by us
    CHECK(ex.after_send == CalloutHandle::NEXT_STEP_CONTINUE);
    Wire w = wire(r);
    CHECK(w.well_formed);
    std::printf("  LIST reply: %zu bytes on the wire, %zu option-43 instance(s):",
                w.bytes.size(), w.opt43.size());
    for (auto const& inst : w.opt43) {
        std::printf(" %zu", inst.size());
    }
    std::printf("\n");
    CHECK(w.fused43.size() > 255);
    CHECK(w.opt43.size() >= 6);
    for (auto const& inst : w.opt43) {
        CHECK(inst.size() <= 255);
        CHECK(!inst.empty());
    }
    CHECK(instancesSelfContained(w));
    // The instances are contiguous (no other option between them).
    size_t first = w.options.size(), last = 0;
    for (size_t i = 0; i < w.options.size(); ++i) {
        if (w.options[i].first == DHO_VENDOR_ENCAPSULATED_OPTIONS) {
            first = std::min(first, i);
            last = i;
        }
    }
    CHECK(last - first + 1 == w.opt43.size());
    // Kea's stray 43/60 replaced: our 60 is exactly AAPLBSDPC.
    CHECK(w.count(DHO_VENDOR_CLASS_IDENTIFIER) == 1);
    const std::vector<uint8_t>* vc = w.first(DHO_VENDOR_CLASS_IDENTIFIER);
    CHECK(vc && std::string(vc->begin(), vc->end()) == "AAPLBSDPC");
    const std::vector<uint8_t>* sid = w.first(DHO_DHCP_SERVER_IDENTIFIER);
    CHECK(sid && *sid == (std::vector<uint8_t>{198, 18, 0, 1}));
    CHECK(w.first(DHO_DOMAIN_NAME) != nullptr);   // Kea's other options stay
    CHECK(w.first(DHO_DHCP_MESSAGE_TYPE) && (*w.first(DHO_DHCP_MESSAGE_TYPE))[0] == DHCPACK);

    struct bsdp_reply reply;
    int rc = bsdp_codec_parse_reply(w.fused43.data(), w.fused43.size(), &reply);
    CHECK(rc == 0);
    if (rc != 0) {
        return (false);
    }
    CHECK(reply.msg_type == BSDP_MSGTYPE_LIST);
    CHECK(reply.priority == 40000);
    CHECK(reply.default_id == imageId(7));
    CHECK(reply.selected_id == 0);
    CHECK(reply.n_images == N_SETS);
    // Every image, the default first, then the others in catalogue order.
    struct bsdp_image_iter it;
    bsdp_image_iter_init(&it, &reply);
    std::vector<bool> seen(N_SETS, false);
    uint32_t id;
    const uint8_t* name;
    size_t name_len;
    size_t n = 0;
    while (bsdp_image_iter_next(&it, &id, &name, &name_len) == 1) {
        size_t i = BSDP_IMAGE_ID_INDEX(id) - 4001;
        CHECK(i < N_SETS);
        if (i >= N_SETS) {
            break;
        }
        CHECK(id == imageId(i));
        CHECK(std::string(reinterpret_cast<const char*>(name), name_len) == imageName(i));
        if (n == 0) {
            CHECK(i == 7);
        }
        seen[i] = true;
        ++n;
    }
    CHECK(n == N_SETS);
    for (size_t i = 0; i < N_SETS; ++i) {
        CHECK(seen[i]);
    }
    // Fused by the core's own RFC 3396 walker, the same bytes.
    std::vector<uint8_t> fused(8192);
    size_t instances = 0;
    int len = bsdp_codec_dhcp_option(w.bytes.data() + 240, w.bytes.size() - 240,
                                     DHO_VENDOR_ENCAPSULATED_OPTIONS, fused.data(), fused.size(),
                                     &instances);
    CHECK(len == static_cast<int>(w.fused43.size()));
    CHECK(instances == w.opt43.size());
    CHECK(len > 0 && std::memcmp(fused.data(), w.fused43.data(), len) == 0);
    return (ok);
}

bool
testListFits576() {
    bool ok = true;
    // Sub-option 12: 576 bytes, the IPv4 minimum.
    Pkt4Ptr q = bsdpQuery(listRequest({0x0c, 0x02, 0x02, 0x40}));
    Pkt4Ptr r = keaResponse(q);
    Exchange ex = exchange(q, r);
    CHECK(ex.after_send == CalloutHandle::NEXT_STEP_CONTINUE);
    Wire w = wire(r);
    CHECK(w.well_formed);
    std::printf("  LIST under 576: %zu bytes, %zu instance(s)\n", w.bytes.size(), w.opt43.size());
    CHECK(w.bytes.size() <= 576 - 28);
    CHECK(instancesSelfContained(w));
    struct bsdp_reply reply;
    CHECK(bsdp_codec_parse_reply(w.fused43.data(), w.fused43.size(), &reply) == 0);
    CHECK(reply.default_id == imageId(7));
    CHECK(reply.n_images >= 1 && reply.n_images < N_SETS);
    struct bsdp_image_iter it;
    bsdp_image_iter_init(&it, &reply);
    uint32_t id = 0;
    const uint8_t* name;
    size_t name_len;
    CHECK(bsdp_image_iter_next(&it, &id, &name, &name_len) == 1 && id == imageId(7));
    return (ok);
}

bool
testSelectHttp() {
    bool ok = true;
    Pkt4Ptr q = bsdpQuery(selectRequest(SERVER.toUint32(), imageId(3)));
    Pkt4Ptr r = keaResponse(q);
    Exchange ex = exchange(q, r);
    CHECK(ex.after_send == CalloutHandle::NEXT_STEP_CONTINUE);
    Wire w = wire(r);
    CHECK(w.well_formed);
    struct bsdp_reply reply;
    CHECK(bsdp_codec_parse_reply(w.fused43.data(), w.fused43.size(), &reply) == 0);
    CHECK(reply.msg_type == BSDP_MSGTYPE_SELECT);
    CHECK(reply.selected_id == imageId(3));
    CHECK(std::string(reinterpret_cast<const char*>(reply.machine_name),
                      reply.machine_name_len) == "NetBoot001");
    CHECK(r->getSiaddr() == SERVER);
    std::string file(reinterpret_cast<const char*>(&w.bytes[108]));
    CHECK(file == "Image04.nbi/i386/booter");
    const std::vector<uint8_t>* rp = w.first(DHO_ROOT_PATH);
    CHECK(rp && std::string(rp->begin(), rp->end()) ==
          "http://198.18.0.1/netboot/Image04.nbi/NetInstall.dmg");
    CHECK(r->getRemoteAddr() == CLIENT);
    CHECK(r->getRemotePort() == DHCP4_CLIENT_PORT);
    return (ok);
}

bool
testListAfterSelectShowsSelected() {
    bool ok = true;
    Pkt4Ptr q = bsdpQuery(listRequest(), "AAPLBSDPC/i386/MacBookPro11,1", 8192);
    Pkt4Ptr r = keaResponse(q);
    exchange(q, r);
    Wire w = wire(r);
    struct bsdp_reply reply;
    CHECK(bsdp_codec_parse_reply(w.fused43.data(), w.fused43.size(), &reply) == 0);
    CHECK(reply.selected_id == imageId(3));
    return (ok);
}

// unload() saves the bindings and load() reads them back: a reconfiguration
// keeps every remembered selection.
bool
testSelectionSurvivesReload() {
    bool ok = true;
    CHECK(load(params()));
    Pkt4Ptr q = bsdpQuery(listRequest(), "AAPLBSDPC/i386/MacBookPro11,1", 8192);
    Pkt4Ptr r = keaResponse(q);
    exchange(q, r);
    Wire w = wire(r);
    struct bsdp_reply reply;
    CHECK(bsdp_codec_parse_reply(w.fused43.data(), w.fused43.size(), &reply) == 0);
    CHECK(reply.selected_id == imageId(3));
    std::FILE* f = std::fopen((sets_dir + "/bindings.csv").c_str(), "r");
    CHECK(f != nullptr);
    if (f) {
        char line[128] = "";
        CHECK(std::fgets(line, sizeof(line), f) != nullptr);
        CHECK(std::string(line) == BSDP_STATE_HEADER "\n");
        std::fclose(f);
    }
    return (ok);
}

bool
testSelectUnknownFails() {
    bool ok = true;
    Pkt4Ptr q = bsdpQuery(selectRequest(SERVER.toUint32(), BSDP_IMAGE_ID(0, 1, 999)));
    Pkt4Ptr r = keaResponse(q);
    Exchange ex = exchange(q, r);
    CHECK(ex.after_send == CalloutHandle::NEXT_STEP_CONTINUE);
    Wire w = wire(r);
    CHECK(w.opt43.size() == 1);
    CHECK(w.fused43 == (std::vector<uint8_t>{0x01, 0x01, 0x03}));
    return (ok);
}

bool
testSelectOtherServerSilent() {
    bool ok = true;
    Pkt4Ptr q = bsdpQuery(selectRequest(IOAddress("198.18.0.99").toUint32(), imageId(3)));
    Pkt4Ptr r = keaResponse(q);
    Exchange ex = exchange(q, r);
    CHECK(ex.after_receive == CalloutHandle::NEXT_STEP_SKIP);
    CHECK(ex.after_send == CalloutHandle::NEXT_STEP_DROP);
    return (ok);
}

// The priority a LIST to this MAC announces, or -1.
long
listedPriority(const std::vector<uint8_t>& mac) {
    Pkt4Ptr q = bsdpQuery(listRequest(), "AAPLBSDPC/i386/MacBookPro11,1", 8192);
    q->setHWAddr(HWAddrPtr(new HWAddr(mac, HTYPE_ETHER)));
    Pkt4Ptr r = keaResponse(q);
    if (exchange(q, r).after_send != CalloutHandle::NEXT_STEP_CONTINUE) {
        return (-1);
    }
    Wire w = wire(r);
    struct bsdp_reply reply;
    if (!w.well_formed || bsdp_codec_parse_reply(w.fused43.data(), w.fused43.size(), &reply) != 0 ||
        !(reply.present & BSDP_HAS(BSDP_OPT_SERVER_PRIORITY))) {
        return (-1);
    }
    return (reply.priority);
}

// "server-priority": "load" through Kea's callouts: each LIST announces
// 32768 less the Macs holding a selection, and a SELECT naming another
// server forgets the Mac's (Apple's bootpd).
bool
testPriorityFromLoad() {
    bool ok = true;
    CHECK(load(Element::fromJSON("{ \"sets-directory\": \"" + sets_dir + "\", "
                                 "\"state-file\": \"" + sets_dir + "/load.csv\", "
                                 "\"server-priority\": \"load\" }")));
    CHECK(listedPriority(MAC) == 32768);
    for (uint8_t k = 0; k < 3; ++k) {
        Pkt4Ptr q = bsdpQuery(selectRequest(SERVER.toUint32(), imageId(3)));
        q->setHWAddr(HWAddrPtr(new HWAddr({0x02, 0x10, 0xad, 0x00, 0x00, k}, HTYPE_ETHER)));
        CHECK(exchange(q, keaResponse(q)).after_send == CalloutHandle::NEXT_STEP_CONTINUE);
    }
    CHECK(listedPriority(MAC) == 32765);
    Pkt4Ptr q = bsdpQuery(selectRequest(IOAddress("198.18.0.99").toUint32(), imageId(3)));
    q->setHWAddr(HWAddrPtr(new HWAddr({0x02, 0x10, 0xad, 0x00, 0x00, 0x01}, HTYPE_ETHER)));
    CHECK(exchange(q, keaResponse(q)).after_send == CalloutHandle::NEXT_STEP_DROP);
    long after = listedPriority(MAC);
    if (after != 32766) {
        std::printf("  priority %ld after a SELECT naming another server, want 32766\n", after);
    }
    CHECK(after == 32766);
    CHECK(load(params()));
    return (ok);
}

bool
testReplyPort() {
    bool ok = true;
    Pkt4Ptr q = bsdpQuery(listRequest({0x05, 0x02, 0x02, 0x7f}));
    Pkt4Ptr r = keaResponse(q);
    Exchange ex = exchange(q, r);
    CHECK(ex.after_send == CalloutHandle::NEXT_STEP_CONTINUE);
    CHECK(r->getRemotePort() == 639);
    CHECK(r->getRemoteAddr() == CLIENT);
    Pkt4Ptr q2 = bsdpQuery(listRequest({0x05, 0x02, 0x04, 0x00}));
    Pkt4Ptr r2 = keaResponse(q2);
    ex = exchange(q2, r2);
    CHECK(ex.after_send == CalloutHandle::NEXT_STEP_DROP);   // 1024: BOOTPD drops
    return (ok);
}

bool
testMalformedDropped() {
    bool ok = true;
    const std::vector<std::vector<uint8_t>> bad43 = {
        {0x01},                                  // truncated header
        {0x01, 0x01, 0x01, 0x02, 0x05, 0x01},    // TLV past the end
        {0x01, 0x02, 0x01, 0x01},                // message type of length 2
    };
    for (auto const& b : bad43) {
        Pkt4Ptr q = bsdpQuery(b);
        Pkt4Ptr r = keaResponse(q);
        Exchange ex = exchange(q, r);
        CHECK(ex.after_receive == CalloutHandle::NEXT_STEP_DROP);
    }
    Pkt4Ptr q = bsdpQuery(listRequest(), std::string("AAPLBSDPC/i386/Mac\nBook", 23));
    Exchange ex = exchange(q, keaResponse(q));
    CHECK(ex.after_receive == CalloutHandle::NEXT_STEP_DROP);
    return (ok);
}

// A statistic's value in StatsMgr (0 before its first sample).
int64_t
statValue(const std::string& name) {
    isc::stats::ObservationPtr o = isc::stats::StatsMgr::instance().getObservation(name);
    return (o ? o->getInteger().first : 0);
}

// Callouts of "another library" that runs before ours (Kea's pre-callouts).
int
priorParses(CalloutHandle& h) {
    Pkt4Ptr q;
    h.getArgument("query4", q);
    q->unpack();
    h.setStatus(CalloutHandle::NEXT_STEP_SKIP);
    return (0);
}

int
priorDrops(CalloutHandle& h) {
    h.setStatus(CalloutHandle::NEXT_STEP_DROP);
    return (0);
}

// buffer4_receive with `prior` registered before our library's callout.
CalloutHandlePtr
runAfter(isc::hooks::CalloutPtr prior, const Pkt4Ptr& query) {
    isc::hooks::LibraryHandle& pre = HooksManager::preCalloutsLibraryHandle();
    pre.registerCallout("buffer4_receive", prior);
    CalloutHandlePtr h = HooksManager::createCalloutHandle();
    h->setArgument("query4", query);
    HooksManager::callCallouts(hook_receive, *h);
    pre.deregisterAllCallouts("buffer4_receive");
    return (h);
}

// buffer4_receive parses a BSDP query with Kea's parser and keeps option 43
// as the bytes sent, so that Kea does not parse it again into sub-option
// objects; anything else is left unparsed for Kea.
bool
testReceiveParsesBsdpOnce() {
    bool ok = true;
    std::vector<uint8_t> opt43 = listRequest();
    // What Kea's own parse does with the same bytes: option 43 deferred.
    Pkt4Ptr plain = asReceived(bsdpQuery(opt43));
    plain->unpack();
    CHECK(plain->getDeferredOptions().size() == 1);

    Pkt4Ptr in = asReceived(bsdpQuery(opt43));
    CalloutHandlePtr h = HooksManager::createCalloutHandle();
    h->setArgument("query4", in);
    HooksManager::callCallouts(hook_receive, *h);
    CHECK(h->getStatus() == CalloutHandle::NEXT_STEP_SKIP);
    CHECK(in->getType() == DHCPINFORM);
    CHECK(in->getHWAddr() && in->getHWAddr()->hwaddr_ == MAC);
    CHECK(in->getDeferredOptions().empty());
    OptionPtr o43 = in->getOption(DHO_VENDOR_ENCAPSULATED_OPTIONS);
    CHECK(o43 && o43->getData() == opt43);
    CHECK(o43 && o43->getOptions().empty());
    OptionPtr o60 = in->getOption(DHO_VENDOR_CLASS_IDENTIFIER);
    CHECK(boost::dynamic_pointer_cast<OptionString>(o60));   // Kea's VENDOR_CLASS_ needs it
    h->deleteAllArguments();

    // A library before us parsed it already (SKIP): no second parse, but
    // Kea's second parse of option 43 is still avoided.
    Pkt4Ptr parsed = asReceived(bsdpQuery(opt43));
    h = runAfter(priorParses, parsed);
    CHECK(h->getStatus() == CalloutHandle::NEXT_STEP_SKIP);
    CHECK(parsed->options_.count(DHO_VENDOR_CLASS_IDENTIFIER) == 1);
    CHECK(parsed->options_.count(DHO_VENDOR_ENCAPSULATED_OPTIONS) == 1);
    CHECK(parsed->getDeferredOptions().empty());
    h->deleteAllArguments();

    // A library before us dropped it: left alone.
    Pkt4Ptr dropped = asReceived(bsdpQuery(opt43));
    h = runAfter(priorDrops, dropped);
    CHECK(h->getStatus() == CalloutHandle::NEXT_STEP_DROP);
    CHECK(dropped->options_.empty());
    h->deleteAllArguments();

    // Not BSDP: untouched, status unchanged, nothing parsed.
    Pkt4Ptr other = asReceived(bsdpQuery(opt43, "MSFT 5.0"));
    h = HooksManager::createCalloutHandle();
    h->setArgument("query4", other);
    HooksManager::callCallouts(hook_receive, *h);
    CHECK(h->getStatus() == CalloutHandle::NEXT_STEP_CONTINUE);
    CHECK(other->options_.empty());
    h->deleteAllArguments();

    // A message Kea cannot parse is dropped as Kea would, and counted.
    Pkt4Ptr bad = asReceived(bsdpQuery(opt43));
    bad->data_.resize(300);
    size_t at = 240;
    for (uint8_t b : std::vector<uint8_t>{53, 1, 8, 60, 10, 'A', 'A', 'P', 'L', 'B', 'S', 'D', 'P', 'C', '/',
                      54, 3, 198, 18, 0}) {   // a server identifier of 3 bytes
        bad->data_[at++] = b;
    }
    bad->data_[at] = 255;
    int64_t failed0 = statValue("pkt4-parse-failed");
    int64_t drop0 = statValue("pkt4-receive-drop");
    h = HooksManager::createCalloutHandle();
    h->setArgument("query4", bad);
    HooksManager::callCallouts(hook_receive, *h);
    CHECK(h->getStatus() == CalloutHandle::NEXT_STEP_DROP);
    CHECK(statValue("pkt4-parse-failed") == failed0 + 1);
    CHECK(statValue("pkt4-receive-drop") == drop0 + 1);
    h->deleteAllArguments();
    return (ok);
}

bool
testNotBsdpUntouched() {
    bool ok = true;
    const std::vector<std::string> classes = {"", "MSFT 5.0", "AAPLBSDPC", "AAPLBSDP/i386/x"};
    for (auto const& vc : classes) {
        Pkt4Ptr q = bsdpQuery({0x01, 0x01, 0x01}, vc);
        Pkt4Ptr r = keaResponse(q);
        Pkt4Ptr copy = keaResponse(q);
        Exchange ex = exchange(q, r);
        CHECK(ex.after_receive == CalloutHandle::NEXT_STEP_CONTINUE);
        CHECK(ex.after_send == CalloutHandle::NEXT_STEP_CONTINUE);
        CHECK(wire(r).bytes == wire(copy).bytes);
        CHECK(r->getRemotePort() == DHCP4_CLIENT_PORT);
    }
    // A DISCOVER with the BSDP vendor class is not a BSDP INFORM.
    Pkt4Ptr q = bsdpQuery(listRequest());
    q->setType(DHCPDISCOVER);
    Pkt4Ptr r = keaResponse(q);
    Pkt4Ptr copy = keaResponse(q);
    Exchange ex = exchange(q, r);
    CHECK(ex.after_send == CalloutHandle::NEXT_STEP_CONTINUE);
    CHECK(wire(r).bytes == wire(copy).bytes);
    return (ok);
}

bool
testInstancesOfExactly255Bytes() {
    // Descriptions of 23 bytes (5 + an 18-byte name): a continuation
    // instance holds 2 + 11 * 23 = 255 bytes, one more than a plain Kea
    // option may carry (Option::packHeader refuses len() > 255).
    bool ok = true;
    char tmpl[] = "/tmp/bsdp-shim-255.XXXXXX";
    if (!mkdtemp(tmpl)) {
        return (false);
    }
    std::string dir = tmpl;
    const size_t n = 30;
    for (size_t i = 0; i < n; ++i) {
        char set[96], name[32];
        std::snprintf(set, sizeof(set), "%s/S%02zu.nbi", dir.c_str(), i);
        std::snprintf(name, sizeof(name), "Exact-size img %03zu", i);
        mkdirs(std::string(set) + "/i386");
        writeFile(std::string(set) + "/i386/booter", "booter");
        writeFile(std::string(set) + "/NBImageInfo.plist",
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
                  "<key>Name</key><string>" + std::string(name) + "</string>"
                  "<key>Index</key><integer>" + std::to_string(100 + i) + "</integer>"
                  "<key>Type</key><string>BootFileOnly</string><key>Kind</key><integer>1</integer>"
                  "<key>BootFile</key><string>booter</string>"
                  "<key>Architectures</key><array><string>i386</string></array>"
                  "</dict></plist>\n");
    }
    // From 2.6.3 the state file must be in Kea's data directory: this one's.
    isc::bsdp::kea_compat::useDataDir(dir);
    CHECK(load(Element::fromJSON("{ \"sets-directory\": \"" + dir + "\", \"state-file\": \"" +
                                 dir + "/bindings.csv\" }")));
    isc::bsdp::kea_compat::useDataDir(sets_dir);
    Pkt4Ptr q = bsdpQuery(listRequest(), "AAPLBSDPC/i386/MacBookPro11,1", 1500);
    Pkt4Ptr r = keaResponse(q);
    exchange(q, r);
    Wire w = wire(r);
    CHECK(w.well_formed);
    std::printf("  instances:");
    size_t full = 0;
    for (auto const& inst : w.opt43) {
        std::printf(" %zu", inst.size());
        full += inst.size() == 255;
    }
    std::printf("\n");
    CHECK(full >= 1);
    CHECK(instancesSelfContained(w));
    struct bsdp_reply reply;
    CHECK(bsdp_codec_parse_reply(w.fused43.data(), w.fused43.size(), &reply) == 0);
    CHECK(reply.n_images == n);
    r.reset();
    q.reset();
    CHECK(load(params()));
    std::string rm = "rm -rf '" + dir + "'";
    CHECK(std::system(rm.c_str()) == 0);
    return (ok);
}

// ---- Commands and reload ---------------------------------------------------

ConstElementPtr
command(const std::string& name, const ConstElementPtr& args = ConstElementPtr()) {
    CalloutHandlePtr h = HooksManager::createCalloutHandle();
    h->setArgument("command", isc::config::createCommand(name, args));
    HooksManager::callCommandHandlers(name, *h);
    ConstElementPtr response;
    h->getArgument("response", response);
    return (response);
}

int
resultOf(const ConstElementPtr& answer) {
    int rc = -1;
    isc::config::parseAnswer(rc, answer);
    return (rc);
}

// Images in an ACK[LIST] for a fresh LIST, or -1 when none came.
long
listedImages(const std::vector<uint8_t>& mac = MAC, uint32_t* selected = nullptr) {
    Pkt4Ptr q = bsdpQuery(listRequest(), "AAPLBSDPC/i386/MacBookPro11,1", 8192);
    q->setHWAddr(HWAddrPtr(new HWAddr(mac, HTYPE_ETHER)));
    Pkt4Ptr r = keaResponse(q);
    Exchange ex = exchange(q, r);
    if (ex.after_send != CalloutHandle::NEXT_STEP_CONTINUE) {
        return (-1);
    }
    Wire w = wire(r);
    struct bsdp_reply reply;
    if (!w.well_formed || !instancesSelfContained(w) ||
        bsdp_codec_parse_reply(w.fused43.data(), w.fused43.size(), &reply) != 0 ||
        reply.msg_type != BSDP_MSGTYPE_LIST) {
        return (-1);
    }
    if (selected) {
        *selected = reply.selected_id;
    }
    return (static_cast<long>(reply.n_images));
}

// Whether the library holds a binding for this MAC: the one-binding page
// that follows the MAC just below it.
bool
bound(const std::vector<uint8_t>& mac) {
    std::vector<uint8_t> below = mac;
    for (int k = 5; k >= 0 && below[k]-- == 0; --k) {
    }
    ElementPtr args = Element::createMap();
    bool lowest = std::all_of(mac.begin(), mac.end(), [](uint8_t b) { return (b == 0); });
    args->set("from", Element::create(lowest ? std::string("start")
                                             : HWAddr(below, HTYPE_ETHER).toText(false)));
    args->set("limit", Element::create(1));
    return (command("bsdp-bindings-list", args)->str().find(
                "\"" + HWAddr(mac, HTYPE_ETHER).toText(false) + "\"") != std::string::npos);
}

// Whatever allocation fails in pkt4_send, the outcome is all or nothing: a
// dropped query and no binding, or a finished ACK[SELECT] that goes out
// and its binding. A reply whose building completed is never dropped
// because counting or logging it failed.
bool
testAllocationFailureNeverDropsAFinishedReply() {
    bool ok = true;
    int finished_kept = 0, dropped = 0;
    for (long k = 0; k < 2000; ++k) {
        Pkt4Ptr q = bsdpQuery(selectRequest(SERVER.toUint32(), imageId(3)));
        const std::vector<uint8_t> mac = {0x02, 0xa1, 0x10, 0x00, uint8_t(k >> 8), uint8_t(k)};
        q->setHWAddr(HWAddrPtr(new HWAddr(mac, HTYPE_ETHER)));
        Pkt4Ptr r = keaResponse(q);
        Pkt4Ptr in = asReceived(q);
        CalloutHandlePtr h = HooksManager::createCalloutHandle();
        h->setArgument("query4", in);
        h->setStatus(CalloutHandle::NEXT_STEP_CONTINUE);
        HooksManager::callCallouts(hook_receive, *h);
        h->setStatus(CalloutHandle::NEXT_STEP_CONTINUE);
        h->setArgument("response4", r);
        fail_fired = false;
        fail_countdown = k;
        bool keas_frame_failed = false;
        try {
            HooksManager::callCallouts(hook_send, *h);
        } catch (const std::bad_alloc&) {
            // Kea's own frame failed, not the library: not this test's case.
            keas_frame_failed = true;
        }
        fail_countdown = -1;
        if (!fail_fired) {
            break;   // every allocation point was tried
        }
        if (keas_frame_failed) {
            h->deleteAllArguments();
            continue;
        }
        OptionPtr vc = r->getOption(DHO_VENDOR_CLASS_IDENTIFIER);
        OptionPtr rp = r->getOption(DHO_ROOT_PATH);
        bool finished = vc && vc->toString() == BSDP_VENDOR_CLASS_PREFIX && rp &&
            rp->toString() == "http://198.18.0.1/netboot/Image04.nbi/NetInstall.dmg";
        bool drop = h->getStatus() == CalloutHandle::NEXT_STEP_DROP;
        if (finished && drop) {
            std::printf("  allocation %ld failed after the reply was built: reply dropped\n", k);
        }
        CHECK(!(finished && drop));
        if (drop == bound(mac)) {
            std::printf("  allocation %ld failed: reply %s, query %s, binding %s\n", k,
                        finished ? "finished" : "unfinished", drop ? "dropped" : "kept",
                        drop ? "kept" : "missing");
        }
        CHECK(drop ? !bound(mac) : bound(mac));
        finished_kept += finished && !drop;
        dropped += drop;
        h->deleteAllArguments();
    }
    CHECK(fail_countdown == -1 && !fail_fired);
    CHECK(dropped > 0);
    CHECK(finished_kept > 0);
    std::printf("  %d failures dropped the query, %d hit after the reply was built and it was kept\n",
                dropped, finished_kept);
    return (ok);
}

// The fast path sends the reply itself: one it could not send (here: the
// query's interface does not exist) leaves no binding behind, as Kea's
// path leaves none for a reply it dropped.
bool
testFastPathUnsentSelectRecordsNothing() {
    bool ok = true;
    CHECK(load(params("\"fast-path\": true")));
    const std::vector<uint8_t> mac = {0x02, 0xfa, 0x57, 0x00, 0x00, 0x01};
    Pkt4Ptr q = bsdpQuery(selectRequest(SERVER.toUint32(), imageId(3)));
    q->setHWAddr(HWAddrPtr(new HWAddr(mac, HTYPE_ETHER)));
    q->setLocalAddr(SERVER);
    int64_t informs = statValue(isc::bsdp::kea_compat::STAT_INFORM_RECEIVED);
    CalloutHandlePtr h = HooksManager::createCalloutHandle();
    h->setArgument("query4", asReceived(q));
    h->setStatus(CalloutHandle::NEXT_STEP_CONTINUE);
    HooksManager::callCallouts(hook_receive, *h);
    // The fast path took it (it counts the INFORM as Kea would) and Kea
    // has nothing left to do.
    CHECK(statValue(isc::bsdp::kea_compat::STAT_INFORM_RECEIVED) == informs + 1);
    CHECK(h->getStatus() == CalloutHandle::NEXT_STEP_DROP);
    CHECK(!bound(mac));
    h.reset();   // a live handle keeps the library open
    CHECK(load(params()));
    return (ok);
}

// ---- OFFER* (subsequent boot) -----------------------------------------

// An interface of the test in IfaceMgr, with a socket whose packet filter
// records what the library sends through it.
struct OfferLink {
    boost::shared_ptr<isc::bsdp::kea_compat::RecordingPktFilter> filter;
    static const unsigned INDEX = 41;
    OfferLink() : filter(new isc::bsdp::kea_compat::RecordingPktFilter()) {
        IfaceMgr& mgr = IfaceMgr::instance();
        mgr.setPacketFilter(filter);
        IfacePtr iface(new Iface("veth-offer", INDEX));
        const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
        iface->setMac(mac, sizeof(mac));
        iface->setHWType(HTYPE_ETHER);
        iface->addAddress(SERVER);
        iface->flag_up_ = iface->flag_running_ = true;
        iface->addSocket(SocketInfo(SERVER, DHCP4_SERVER_PORT, -1));
        mgr.addInterface(iface);
    }
    ~OfferLink() {
        IfaceMgr::instance().clearIfaces();
        IfaceMgr::instance().detectIfaces();
    }
};

const std::vector<uint8_t> RELAY_MAC = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};

// A DISCOVER as Mac firmware sends it once told to NetBoot, as Kea
// receives it: broadcast on the test's link, or from a relay.
Pkt4Ptr
bsdpDiscover(const std::vector<uint8_t>& mac, bool relayed, bool broadcast_flag = false) {
    Pkt4Ptr q(new Pkt4(DHCPDISCOVER, 0x0ffe0001));
    q->setHWAddr(HWAddrPtr(new HWAddr(mac, HTYPE_ETHER)));
    q->setFlags(broadcast_flag ? 0x8000 : 0);
    if (relayed) {
        q->setGiaddr(IOAddress("198.19.0.1"));
        q->setHops(1);
    }
    q->addOption(OptionPtr(new OptionString(Option::V4, DHO_VENDOR_CLASS_IDENTIFIER,
                                            "AAPLBSDPC/i386/MacBookPro11,1")));
    q->addOption(OptionPtr(new Option(Option::V4, DHO_VENDOR_ENCAPSULATED_OPTIONS,
                                      OptionBuffer{0x02, 0x02, 0x01, 0x01})));
    q->setIface("veth-offer");
    q->setIndex(OfferLink::INDEX);
    q->setLocalAddr(relayed ? SERVER : IOAddress("255.255.255.255"));
    q->setRemoteAddr(relayed ? IOAddress("198.19.0.1") : IOAddress("0.0.0.0"));
    Pkt4Ptr in = asReceived(q);
    in->setRemoteHWAddr(HWAddrPtr(new HWAddr(relayed ? RELAY_MAC : mac, HTYPE_ETHER)));
    return (in);
}

// Kea's path for a DISCOVER: buffer4_receive, Kea's parse, pkt4_receive,
// then pkt4_send with Kea's OFFER of an address. True when no callout
// dropped or changed Kea's processing or its OFFER.
bool
discoverExchange(const Pkt4Ptr& in) {
    bool ok = true;
    CalloutHandlePtr h = HooksManager::createCalloutHandle();
    h->setArgument("query4", in);
    h->setStatus(CalloutHandle::NEXT_STEP_CONTINUE);
    HooksManager::callCallouts(hook_receive, *h);
    CHECK(h->getStatus() != CalloutHandle::NEXT_STEP_DROP);
    if (h->getStatus() != CalloutHandle::NEXT_STEP_SKIP) {
        in->unpack();
    }
    h->setStatus(CalloutHandle::NEXT_STEP_CONTINUE);
    HooksManager::callCallouts(hook_pkt4_receive, *h);
    CHECK(h->getStatus() == CalloutHandle::NEXT_STEP_CONTINUE);
    Pkt4Ptr offer(new Pkt4(DHCPOFFER, in->getTransid()));
    offer->setYiaddr(IOAddress("198.18.0.50"));
    offer->setHWAddr(in->getHWAddr());
    offer->addOption(OptionPtr(new Option(Option::V4, DHO_DHCP_SERVER_IDENTIFIER,
                                          OptionBuffer{198, 18, 0, 1})));
    std::vector<uint8_t> before = wire(offer).bytes;
    h->setArgument("response4", offer);
    HooksManager::callCallouts(hook_send, *h);
    CHECK(h->getStatus() == CalloutHandle::NEXT_STEP_CONTINUE);
    CHECK(wire(offer).bytes == before);   // Kea's OFFER untouched
    h->deleteAllArguments();
    return (ok);
}

// A Mac that SELECTed here and then DISCOVERs (broadcast, and relayed)
// gets one OFFER* per DISCOVER beside Kea's OFFER, with bootpd's fields,
// where an OFFER goes; an unbound Mac none; offer-bound-clients false
// none; the fast path sends it from buffer4_receive, once.
bool
testOfferToBoundDiscover() {
    bool ok = true;
    OfferLink link;
    const std::vector<uint8_t> mac = {0x02, 0x0f, 0xfe, 0x00, 0x00, 0x01};
    Pkt4Ptr sel = bsdpQuery(selectRequest(SERVER.toUint32(), imageId(3)));
    sel->setHWAddr(HWAddrPtr(new HWAddr(mac, HTYPE_ETHER)));
    exchange(sel, keaResponse(sel));
    CHECK(bound(mac));
    int64_t sent = statValue("bsdp.offers-sent");

    CHECK(discoverExchange(bsdpDiscover(mac, false)));
    CHECK(link.filter->sent.size() == 1);
    CHECK(statValue("bsdp.offers-sent") == sent + 1);
    if (link.filter->sent.size() == 1) {
        Pkt4Ptr o = link.filter->sent[0];
        Wire w = wireOf(o);
        const std::vector<uint8_t>& b = w.bytes;
        CHECK(w.well_formed);
        CHECK(b.size() >= 300 && b[0] == 2 && b[4] == 0x0f && b[5] == 0xfe && b[7] == 0x01);
        CHECK(std::vector<uint8_t>(b.begin() + 12, b.begin() + 20) == std::vector<uint8_t>(8, 0));
        CHECK(std::vector<uint8_t>(b.begin() + 20, b.begin() + 24) ==
              (std::vector<uint8_t>{198, 18, 0, 1}));
        CHECK(std::vector<uint8_t>(b.begin() + 28, b.begin() + 34) == mac);
        CHECK(std::string(reinterpret_cast<const char*>(&b[108])) == "Image04.nbi/i386/booter");
        std::vector<uint8_t> codes;
        for (auto const& opt : w.options) {
            codes.push_back(opt.first);
        }
        CHECK(codes == (std::vector<uint8_t>{53, 54, 60, 17, 43}));   // bootpd's order
        CHECK(w.first(53) && *w.first(53) == std::vector<uint8_t>{2});
        CHECK(w.first(60) && std::string(w.first(60)->begin(), w.first(60)->end()) == "AAPLBSDPC");
        CHECK(w.first(17) && std::string(w.first(17)->begin(), w.first(17)->end()) ==
              "http://198.18.0.1/netboot/Image04.nbi/NetInstall.dmg");
        uint32_t id = imageId(3);
        CHECK(w.first(43) && w.first(43)->size() > 8 &&
              std::vector<uint8_t>(w.first(43)->begin(), w.first(43)->begin() + 6) ==
              (std::vector<uint8_t>{8, 4, uint8_t(id >> 24), uint8_t(id >> 16),
                                    uint8_t(id >> 8), uint8_t(id)}) &&
              (*w.first(43))[6] == 130);
        CHECK(o->getRemoteAddr().toText() == "255.255.255.255");
        CHECK(o->getRemotePort() == DHCP4_CLIENT_PORT);
        CHECK(o->getLocalAddr() == SERVER);
        CHECK(o->getRemoteHWAddr() && o->getRemoteHWAddr()->hwaddr_ == mac);
    }
    // The broadcast flag: a broadcast frame.
    link.filter->sent.clear();
    CHECK(discoverExchange(bsdpDiscover(mac, false, true)));
    CHECK(link.filter->sent.size() == 1 && link.filter->sent[0]->getRemoteHWAddr() &&
          link.filter->sent[0]->getRemoteHWAddr()->hwaddr_ == std::vector<uint8_t>(6, 0xff));
    // Relayed: to the relay, port 67, giaddr echoed.
    link.filter->sent.clear();
    CHECK(discoverExchange(bsdpDiscover(mac, true)));
    CHECK(link.filter->sent.size() == 1);
    if (link.filter->sent.size() == 1) {
        Pkt4Ptr o = link.filter->sent[0];
        CHECK(o->getRemoteAddr().toText() == "198.19.0.1");
        CHECK(o->getRemotePort() == DHCP4_SERVER_PORT);
        CHECK(o->getRemoteHWAddr() && o->getRemoteHWAddr()->hwaddr_ == RELAY_MAC);
        Wire w = wireOf(o);
        CHECK(std::vector<uint8_t>(w.bytes.begin() + 24, w.bytes.begin() + 28) ==
              (std::vector<uint8_t>{198, 19, 0, 1}));
    }
    // An unbound Mac: Kea's OFFER only.
    link.filter->sent.clear();
    const std::vector<uint8_t> stranger = {0x02, 0x0f, 0xfe, 0x00, 0x00, 0x02};
    CHECK(discoverExchange(bsdpDiscover(stranger, false)));
    CHECK(discoverExchange(bsdpDiscover(stranger, true)));
    CHECK(link.filter->sent.empty());
    CHECK(statValue("bsdp.offers-sent") == sent + 3);

    // Turned off.
    CHECK(load(params("\"offer-bound-clients\": false")));
    CHECK(bound(mac));
    CHECK(discoverExchange(bsdpDiscover(mac, false)));
    CHECK(link.filter->sent.empty());
    // The fast path: sent from buffer4_receive, once; Kea's DISCOVER goes on.
    CHECK(load(params("\"fast-path\": true")));
    CHECK(discoverExchange(bsdpDiscover(mac, false)));
    CHECK(discoverExchange(bsdpDiscover(stranger, false)));
    CHECK(link.filter->sent.size() == 1);
    CalloutHandlePtr h = HooksManager::createCalloutHandle();
    h->setArgument("query4", bsdpDiscover(mac, true));
    h->setStatus(CalloutHandle::NEXT_STEP_CONTINUE);
    HooksManager::callCallouts(hook_receive, *h);
    CHECK(h->getStatus() == CalloutHandle::NEXT_STEP_CONTINUE);
    CHECK(link.filter->sent.size() == 2);
    h.reset();
    CHECK(load(params()));
    return (ok);
}

bool
testCommandsThroughHooksManager() {
    bool ok = true;
    ConstElementPtr a = command("bsdp-images-list");
    CHECK(resultOf(a) == 0);
    ConstElementPtr args = a->get("arguments");
    CHECK(args && args->get("images") && args->get("images")->size() == N_SETS);
    CHECK(args && args->get("skipped") && args->get("skipped")->size() == 0);
    const std::vector<uint8_t> mac = {0x02, 0x00, 0x00, 0x00, 0xbe, 0xef};
    a = command("bsdp-binding-set", Element::fromJSON(
        "{ \"hw-address\": \"02:00:00:00:be:ef\", \"image\": 4003 }"));
    CHECK(resultOf(a) == 0);
    uint32_t selected = 0;
    CHECK(listedImages(mac, &selected) == long(N_SETS));
    CHECK(selected == imageId(2));
    CHECK(resultOf(command("bsdp-binding-set", Element::fromJSON(
        "{ \"hw-address\": \"02:00:00:00:be:ef\", \"image\": 9999 }"))) == 1);
    a = command("bsdp-bindings-list");
    CHECK(resultOf(a) == 0);
    CHECK(a->str().find("\"02:00:00:00:be:ef\"") != std::string::npos);
    CHECK(resultOf(command("bsdp-binding-del", Element::fromJSON(
        "{ \"hw-address\": \"02:00:00:00:be:ef\" }"))) == 0);
    CHECK(listedImages(mac, &selected) == long(N_SETS));
    CHECK(selected == 0);
    CHECK(resultOf(command("bsdp-binding-del", Element::fromJSON(
        "{ \"hw-address\": \"02:00:00:00:be:ef\" }"))) == 3);
    return (ok);
}

// bsdp-explain through Kea's command handlers: what a MAC last sent is the
// question, each image's rule is the answer, a SELECT is only simulated.
bool
testExplainCommand() {
    bool ok = true;
    auto explain = [](const std::string& json) {
        return (command("bsdp-explain", Element::fromJSON(json)));
    };
    auto text = [](const ConstElementPtr& a) {
        return (a && a->get("text") ? a->get("text")->stringValue() : std::string());
    };
    // A MAC that never asked, without a model: a clear error.
    ConstElementPtr a = explain("{ \"hw-address\": \"02:00:00:00:e0:01\" }");
    CHECK(resultOf(a) == 1);
    CHECK(text(a).find("no LIST from 02:00:00:00:e0:01 is remembered") != std::string::npos);
    CHECK(text(a).find("give 'model'") != std::string::npos);
    CHECK(resultOf(explain("{ \"hw-address\": \"02:00:00:00:e0:01\", \"modle\": \"x\" }")) == 1);
    CHECK(resultOf(explain("{ \"hw-address\": \"02:00:00:00:e0:01\", "
                           "\"attribute-filter\": \"install\" }")) == 1);
    CHECK(resultOf(explain("{ \"hw-address\": \"02:00:00:00:e0:01\", \"model\": \"a/b\" }")) == 1);

    // A LIST asking for install images only (attributes 0x8100), from this MAC.
    const std::vector<uint8_t> mac = {0x02, 0x00, 0x00, 0x00, 0xe0, 0x02};
    Pkt4Ptr q = bsdpQuery(listRequest({0x0b, 0x02, 0x81, 0x00}), "AAPLBSDPC/i386/iMac14,2", 1500);
    q->setHWAddr(HWAddrPtr(new HWAddr(mac, HTYPE_ETHER)));
    Pkt4Ptr r = keaResponse(q);
    exchange(q, r);
    a = explain("{ \"hw-address\": \"02:00:00:00:e0:02\" }");
    CHECK(resultOf(a) == 0);
    ConstElementPtr args = a->get("arguments");
    ConstElementPtr req = args ? args->get("request") : ConstElementPtr();
    CHECK(req && req->get("remembered")->boolValue());
    CHECK(req && req->get("model")->stringValue() == "iMac14,2");
    CHECK(req && req->get("attribute-filter")->str() == "[ 33024 ]");
    CHECK(req && req->get("option-57")->intValue() == 1500);
    ConstElementPtr images = args ? args->get("images") : ConstElementPtr();
    CHECK(images && images->size() == N_SETS);
    for (size_t i = 0; images && i < images->size(); ++i) {
        ConstElementPtr e = images->get(i);
        bool install = i % 2 == 1;
        CHECK(e->get("id")->intValue() == imageId(i));
        CHECK(e->get("offered")->boolValue() == install);
        CHECK(e->get("rule")->stringValue() == (install ? "offered" : "attribute-filter"));
    }
    ConstElementPtr list = args ? args->get("list") : ConstElementPtr();
    CHECK(list && list->get("default")->get("index")->intValue() == imageIndex(7));
    CHECK(list && list->get("default-why")->stringValue() == "IsDefault (for every model)");
    CHECK(list && list->get("selected-by")->stringValue() == "none");
    ConstElementPtr sel = images && images->size() > 3 ? images->get(3)->get("select")
                                                       : ConstElementPtr();
    CHECK(sel && sel->get("result")->stringValue() == "ack");
    CHECK(sel && sel->get("boot-file")->stringValue() == "Image04.nbi/i386/booter");
    CHECK(sel && sel->get("siaddr")->stringValue() == "198.18.0.1");
    CHECK(sel && sel->get("root-path")->stringValue() ==
          "http://198.18.0.1/netboot/Image04.nbi/NetInstall.dmg");
    CHECK(text(a).find("20 of 40 image(s) offered") != std::string::npos);
    // Explaining changes nothing: no binding, no machine number taken.
    CHECK(!bound(mac));

    // What the Mac sent, overridden: no filter, then another architecture.
    // Without its filter, 40 images do not fit the 1500 bytes it accepts:
    // those after the last that fit are "no-room", as in its real LIST.
    a = explain("{ \"hw-address\": \"02:00:00:00:e0:02\", \"attribute-filter\": null }");
    list = a->get("arguments")->get("list");
    images = a->get("arguments")->get("images");
    long listed = list->get("listed")->intValue();
    CHECK(list->get("truncated")->boolValue() && listed > 10 && listed < long(N_SETS));
    CHECK(list->get("offered")->intValue() == listed);
    for (size_t i = 0; i < images->size(); ++i) {
        CHECK(images->get(i)->get("rule")->stringValue() ==
              (long(i) < listed || i == 7 ? "offered" : "no-room"));
    }
    a = explain("{ \"hw-address\": \"02:00:00:00:e0:02\", \"architecture\": \"ppc\" }");
    CHECK(resultOf(a) == 0);
    list = a->get("arguments")->get("list");
    CHECK(list->get("drop")->stringValue() == "no-image");
    CHECK(a->get("arguments")->get("images")->get(0)->get("rule")->stringValue() == "architecture");
    // A Mac never seen, described.
    a = explain("{ \"hw-address\": \"02:00:00:00:e0:03\", \"model\": \"Macmini8,1\", "
                "\"message-size\": 8192 }");
    CHECK(resultOf(a) == 0);
    CHECK(!a->get("arguments")->get("request")->get("remembered")->boolValue());
    CHECK(text(a).find("40 of 40 image(s) offered") != std::string::npos);
    if (!ok) {
        std::printf("  %s\n", a ? a->str().substr(0, 800).c_str() : "(no answer)");
    }
    return (ok);
}

// An integer of an answer's arguments, or -1 when it has none.
int64_t
answerInt(const ConstElementPtr& answer, const std::string& name) {
    ConstElementPtr args = answer ? answer->get("arguments") : ConstElementPtr();
    ConstElementPtr v = args ? args->get(name) : ConstElementPtr();
    return (v && v->getType() == Element::integer ? v->intValue() : -1);
}

// bsdp-bindings-list pages as Kea's lease4-get-page: "from" ("start" or the
// last MAC of the page before) and "limit"; each page ascending by MAC
// with its "count" and the "total"; result 3 with an empty page at the end;
// no arguments is the first page of 1000; bad arguments are refused.
bool
testBindingsListPages() {
    bool ok = true;
    const int N = 2500;
    for (int k = 0; k < N; ++k) {
        char mac[18];
        std::snprintf(mac, sizeof(mac), "02:5e:%02x:%02x:%02x:01", (k * 37) & 0xff, k >> 8, k & 0xff);
        ElementPtr args = Element::createMap();
        args->set("hw-address", Element::create(std::string(mac)));
        args->set("image", Element::create(4003));
        if (resultOf(command("bsdp-binding-set", args)) != 0) {
            CHECK(!"bsdp-binding-set");
            return (ok);
        }
    }
    ConstElementPtr first = command("bsdp-bindings-list");
    CHECK(resultOf(first) == 0);
    int64_t total = answerInt(first, "total");
    CHECK(total >= N);
    CHECK(answerInt(first, "count") == 1000 &&
          first->get("arguments")->get("bindings")->size() == 1000);
    CHECK(first->get("text")->stringValue() ==
          "1000 binding(s) found, " + std::to_string(total) + " in all");
    ElementPtr start = Element::fromJSON("{ \"from\": \"start\", \"limit\": 1000 }");
    CHECK(command("bsdp-bindings-list", start)->str() == first->str());
    std::vector<std::string> walk;
    std::string from = "start";
    int pages = 0;
    for (; pages < 100; ++pages) {
        ElementPtr args = Element::createMap();
        args->set("from", Element::create(from));
        args->set("limit", Element::create(700));
        ConstElementPtr a = command("bsdp-bindings-list", args);
        ConstElementPtr list = a->get("arguments")->get("bindings");
        CHECK(answerInt(a, "count") == int64_t(list->size()));
        CHECK(answerInt(a, "total") == total);
        if (resultOf(a) == 3) {
            CHECK(list->empty());
            CHECK(a->get("text")->stringValue() == "0 binding(s) found, " +
                  std::to_string(total) + " in all");
            break;
        }
        CHECK(resultOf(a) == 0 && !list->empty() && list->size() <= 700);
        if (list->empty() || list->size() > 700) {
            break;
        }
        for (auto const& b : list->listValue()) {
            std::string mac = b->get("hw-address")->stringValue();
            CHECK(walk.empty() || walk.back() < mac);
            walk.push_back(mac);
        }
        from = walk.back();
    }
    CHECK(int64_t(walk.size()) == total);
    CHECK(pages == int((total + 699) / 700));
    for (int k = 0; k < N; ++k) {
        char mac[18];
        std::snprintf(mac, sizeof(mac), "02:5e:%02x:%02x:%02x:01", (k * 37) & 0xff, k >> 8, k & 0xff);
        if (!std::binary_search(walk.begin(), walk.end(), std::string(mac))) {
            CHECK(!"every binding set is in the walk");
            break;
        }
    }
    // Bad arguments: result 1 naming the argument; nothing else changes.
    const char* bad[][2] = {
        {"{ \"from\": 5 }", "'from' parameter must be a string"},
        {"{ \"from\": \"02:5e\" }", "'from' parameter value is neither 'start' keyword nor a MAC"},
        {"{ \"limit\": \"10\" }", "'limit' parameter must be a number"},
        {"{ \"limit\": 0 }", "'limit' parameter must be 1..10000 (got 0)"},
        {"{ \"limit\": 10001 }", "'limit' parameter must be 1..10000 (got 10001)"},
        {"{ \"count\": 10 }", "unknown argument 'count'"},
        {"[ 1 ]", "arguments must be a map"},
    };
    for (auto const& b : bad) {
        ConstElementPtr a = command("bsdp-bindings-list", Element::fromJSON(b[0]));
        std::string text = a->get("text")->stringValue();
        if (resultOf(a) != 1 || text.find(std::string("bsdp-bindings-list: ") + b[1]) != 0) {
            std::printf("    %s: %.300s\n", b[0], a->str().c_str());
            CHECK(!"bad argument refused");
        }
    }
    for (int k = 0; k < N; ++k) {
        char mac[18];
        std::snprintf(mac, sizeof(mac), "02:5e:%02x:%02x:%02x:01", (k * 37) & 0xff, k >> 8, k & 0xff);
        ElementPtr args = Element::createMap();
        args->set("hw-address", Element::create(std::string(mac)));
        command("bsdp-binding-del", args);
    }
    return (ok);
}

// Two threads answer LISTs (as Kea's packet threads do) while the main
// thread adds and removes a set and reloads 40 times: every reply is whole
// and comes from one snapshot, old or new, never a mix.
bool
testReloadDuringConcurrentLists() {
    bool ok = true;
    const std::string extra = sets_dir + "/Zz-extra.nbi";
    // StatsMgr only locks in multi-threaded mode, as kea-dhcp4 -MT runs it.
    isc::util::MultiThreadingMgr::instance().setMode(true);
    std::atomic<bool> stop(false);
    std::atomic<long> replies(0), wrong(0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&]() {
            while (!stop) {
                long n = -1;
                try {
                    n = listedImages();
                } catch (...) {
                }
                if (n == long(N_SETS) || n == long(N_SETS) + 1) {
                    ++replies;
                } else {
                    ++wrong;
                }
            }
        });
    }
    int failed_reloads = 0;
    for (int i = 0; i < 40; ++i) {
        if (i % 2 == 0) {
            mkdirs(extra + "/i386/x86_64");
            writeFile(extra + "/i386/booter", "booter");
            writeFile(extra + "/i386/x86_64/kernelcache", "kernel");
            writeFile(extra + "/NetInstall.dmg", "dmg");
            writeFile(extra + "/NBImageInfo.plist",
                      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
                      "<key>Name</key><string>Extra</string><key>Index</key><integer>4999</integer>"
                      "<key>Type</key><string>HTTP</string><key>BootFile</key><string>booter</string>"
                      "<key>Architectures</key><array><string>i386</string></array>"
                      "<key>RootPath</key><string>NetInstall.dmg</string></dict></plist>\n");
        } else {
            std::string rm = "rm -rf '" + extra + "'";
            if (std::system(rm.c_str()) != 0) {
                ++failed_reloads;
            }
        }
        ConstElementPtr a = command("bsdp-reload");
        ConstElementPtr args = a->get("arguments");
        if (resultOf(a) != 0 || !args || !args->get("images") ||
            args->get("images")->intValue() != long(N_SETS) + (i % 2 == 0 ? 1 : 0)) {
            ++failed_reloads;
        }
    }
    stop = true;
    for (auto& t : threads) {
        t.join();
    }
    isc::util::MultiThreadingMgr::instance().setMode(false);
    std::printf("  %ld whole LIST replies during 40 reloads, %ld wrong\n", long(replies),
                long(wrong));
    CHECK(failed_reloads == 0);
    CHECK(wrong == 0);
    CHECK(replies > 0);
    CHECK(resultOf(command("bsdp-reload")) == 0);
    CHECK(listedImages() == long(N_SETS));
    return (ok);
}

bool
testBadParametersRefused() {
    bool ok = true;
    const std::vector<std::string> bad = {
        "\"server-priority\": 70000",
        "\"server-priority\": -1",
        "\"server-priority\": \"high\"",
        "\"server-priority\": \"Load\"",
        "\"server-priority\": \"\"",
        "\"server-priority\": 2.5",
        "\"server-priority\": [ \"load\" ]",
        "\"sets-directry\": \"/tmp\"",
        "\"server-address\": \"198.18.0.300\"",
        "\"server-address\": 5",
        "\"rescan-interval\": -5",
        "\"chain-window\": true",
        "\"state-file\": 3",
        "\"nfs-url\": \"http://x/y\"",
        "\"http-url\": \"ftp://198.18.0.1/x\"",
        "\"machine-name-format\": \"Mac%s\"",
        "\"machine-name-format\": \"Mac%d-%d\"",
        "\"machine-name-format\": \"Mac\"",
        "\"machine-name-format\": \"%n%d\"",
        "\"machine-name-format\": \"\"",
        "\"tftp-path-prefix\": [ ]",
        "\"fast-path\": \"yes\"",
        "\"fast-path\": 1",
        "\"offer-bound-clients\": \"yes\"",
        "\"offer-bound-clients\": 0",
        "\"max-bindings\": 0",
        "\"max-bindings\": 16777217",
        "\"max-bindings\": \"many\"",
    };
    for (auto const& b : bad) {
        bool loaded = load(params(b));
        if (loaded) {
            std::printf("  loaded with bad parameter %s\n", b.c_str());
        }
        CHECK(!loaded);
    }
    CHECK(!load(Element::fromJSON("{ }")));
    CHECK(!load(Element::fromJSON("{ \"sets-directory\": \"\" }")));
    CHECK(load(params("\"server-address\": \"198.18.0.1\", \"nfs-url\": \"nfs:198.18.0.1:/srv/sets\", "
                      "\"tftp-path-prefix\": \"\", \"state-file\": \"" + sets_dir + "/x.csv\", "
                      "\"rescan-interval\": 0, \"chain-window\": 600, "
                      "\"machine-name-format\": \"Mac%03d\", \"max-bindings\": 16777216")));
    CHECK(load(params("\"max-bindings\": 1")));
    return (ok);
}

// A sets-directory that cannot be read is no configuration error (a late
// NFS mount must not take DHCP down): the library loads, answers no BSDP
// query (neither ACK[LIST] nor ACK[FAILED]), counts it, says why in
// bsdp-images-list, and serves once bsdp-reload reads the folder.
bool
testUnreadableSetsDirectoryLoads() {
    bool ok = true;
    const std::string late = sets_dir + "/late/sets";
    const std::string state = "\"state-file\": \"" + sets_dir + "/late-bindings.csv\"";
    // The missing folder last: it is the one that appears.
    for (const auto& c : {std::make_pair(sets_dir + "/Image01.nbi/NBImageInfo.plist/sets",
                                         std::string("Not a directory")),
                          std::make_pair(late, std::string("No such file or directory"))}) {
        CHECK(load(Element::fromJSON("{ \"sets-directory\": \"" + c.first + "\", " + state +
                                     " }")));
        ConstElementPtr a = command("bsdp-images-list");
        CHECK(resultOf(a) == 1);
        CHECK(a->str().find(c.first) != std::string::npos);
        CHECK(a->str().find(c.second) != std::string::npos);
        int64_t dropped = statValue("bsdp.dropped-no-catalogue");
        CHECK(listedImages() == -1);
        Pkt4Ptr sel = bsdpQuery(selectRequest(SERVER.toUint32(), imageId(0)));
        Exchange ex = exchange(sel, keaResponse(sel));
        CHECK(ex.after_send == CalloutHandle::NEXT_STEP_DROP);
        CHECK(statValue("bsdp.dropped-no-catalogue") == dropped + 2);
        CHECK(resultOf(command("bsdp-reload")) == 1);
    }
    makeSets(late);
    CHECK(listedImages() == -1);
    CHECK(resultOf(command("bsdp-reload")) == 0);
    CHECK(listedImages() == long(N_SETS));
    CHECK(resultOf(command("bsdp-images-list")) == 0);
    return (ok);
}

// ---- Loading as a check -------------------------------------------------

// What kea-dhcp4 -T must leave as it was: the bytes, the inode (no rename),
// the modification time and the folder's other entries.
struct FileState {
    std::string text;
    ino_t ino = 0;
    struct timespec mtime = {0, 0};
    std::vector<std::string> folder;
    bool operator==(const FileState& o) const {
        return (text == o.text && ino == o.ino && mtime.tv_sec == o.mtime.tv_sec &&
                mtime.tv_nsec == o.mtime.tv_nsec && folder == o.folder);
    }
};

FileState
fileState(const std::string& dir, const std::string& path) {
    FileState fs;
    std::ifstream f(path.c_str(), std::ios::binary);
    fs.text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    struct stat st;
    if (stat(path.c_str(), &st) == 0) {
        fs.ino = st.st_ino;
        fs.mtime = st.st_mtim;
    }
    if (DIR* d = opendir(dir.c_str())) {
        for (struct dirent* e; (e = readdir(d));) {
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
                fs.folder.push_back(e->d_name);
            }
        }
        closedir(d);
    }
    std::sort(fs.folder.begin(), fs.folder.end());
    return (fs);
}

void
unloadAll() {
    HooksManager::prepareUnloadLibraries();
    HooksManager::unloadLibraries();
}

// Threads of this process now.
size_t
threadCount() {
    size_t n = 0;
    DIR* d = opendir("/proc/self/task");
    for (struct dirent* e; d && (e = readdir(d)) != nullptr;) {
        n += e->d_name[0] != '.';
    }
    if (d) {
        closedir(d);
    }
    return (n);
}

// A bindings-database load that fails after the store started (here its
// statistics timer cannot be registered: a timer of that name exists)
// leaves no store thread behind running on the freed parameters.
bool
testDatabaseLoadFailureLeavesNoThread() {
    bool ok = true;
    unloadAll();
    setenv("KEA_DHCP_DATA_DIR", sets_dir.c_str(), 1);   // the spill file's folder
    const std::string timer = "bsdp-bindings-db-stats";
    TimerMgr::instance()->registerTimer(timer, []() {}, 1000,
                                        isc::asiolink::IntervalTimer::REPEATING);
    size_t before = threadCount();
    std::string json = "{ \"sets-directory\": \"" + sets_dir + "\", "
                       "\"http-url\": \"http://198.18.0.1/netboot\", "
                       "\"bindings-database\": { \"type\": \"postgresql\", \"name\": \"kea\", "
                       "\"host\": \"" + sets_dir + "/no-server\", \"connect-timeout\": 1, "
                       "\"reconnect-wait-time\": 100 } }";
    CHECK(!load(Element::fromJSON(json)));
    // A store left running reconnects every 100 ms: wait (bounded) for the
    // count to come back.
    size_t after = threadCount();
    for (int i = 0; i < 100 && after > before; ++i) {
        usleep(10000);
        after = threadCount();
    }
    if (after > before) {
        std::printf("  %zu threads before the load, %zu after it failed\n", before, after);
    }
    CHECK(after <= before);
    TimerMgr::instance()->unregisterTimer(timer);
    unsetenv("KEA_DHCP_DATA_DIR");
    return (ok);
}

// kea-dhcp4 -T (2.4+) loads the library (and calls dhcp4_srv_configured)
// as a check, then unloads it, while a server may own the state file: a
// good, a damaged and a missing file all stay exactly as they were. The
// first change then writes it, a damaged one set aside first.
bool
testCheckLoadWritesNothing() {
    bool ok = true;
    std::string dir = sets_dir + "/check-state";
    mkdirs(dir);
    std::string state = dir + "/b.csv";
    ElementPtr p = params();
    p->set("state-file", Element::create(state));
    isc::bsdp::kea_compat::useDataDir(dir);     // from 2.6.3 the only folder allowed
    char good[80];
    std::snprintf(good, sizeof(good), "02:00:00:00:00:01,0x%08x,1700000000,1\n", imageId(3));
    for (int kind = 0; kind < 3; ++kind) {
        const char* what = kind == 0 ? "good" : kind == 1 ? "damaged" : "missing";
        std::string text = std::string(BSDP_STATE_HEADER "\n") + good + (kind == 1 ? "garbage\n" : "");
        if (kind < 2) {
            writeFile(state, text);
        } else {
            unlink(state.c_str());
        }
        FileState before = fileState(dir, state);
        CHECK(load(p));
        isc::hooks::CalloutHandlePtr h = HooksManager::createCalloutHandle();
        h->setArgument("json_config", ConstElementPtr(Element::fromJSON("{ \"Dhcp4\": {} }")));
        HooksManager::callCallouts(hook_configured, *h);
        h.reset();
        unloadAll();
        bool same = fileState(dir, state) == before;
        if (!same) {
            std::printf("  %s state file changed by load and unload alone\n", what);
        }
        CHECK(same);
        // A SELECT is a change: saved (at the latest by unload's final save).
        CHECK(load(p));
        Pkt4Ptr q = bsdpQuery(selectRequest(SERVER.toUint32(), imageId(5)));
        exchange(q, keaResponse(q));
        unloadAll();
        FileState after = fileState(dir, state);
        CHECK(after.text.find("00:1b:63:84:45:e6,") != std::string::npos);
        CHECK((after.text.find(good) != std::string::npos) == (kind < 2));
        CHECK(after.text.find("garbage") == std::string::npos);
        size_t aside = 0;
        for (auto const& name : after.folder) {
            if (name.compare(0, 14, "b.csv.damaged-") == 0) {
                std::ifstream f((dir + "/" + name).c_str(), std::ios::binary);
                std::string kept((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
                CHECK(kept == text);
                ++aside;
            }
        }
        CHECK(aside == (kind == 1 ? 1u : 0u));
        CHECK(after.folder.size() == 1 + aside);
        std::string rm = "rm -f '" + dir + "'/*";
        CHECK(std::system(rm.c_str()) == 0);
    }
    isc::bsdp::kea_compat::useDataDir(sets_dir);
    CHECK(load(params()));
    return (ok);
}

// ---- Kea internals the fast path re-implements ---------------------------

// Option 54 as this version's Kea builds it (Option4AddrLst to 2.6,
// OptionCustom from 3.0): same bytes on the wire, same type for a later
// hook library's cast.
bool
testServerIdOptionAsKeaBuildsIt() {
    bool ok = true;
    isc::dhcp::OptionPtr opt = isc::bsdp::kea_compat::serverIdOption(SERVER);
    util::OutputBuffer out(0);
    opt->pack(out);
    const uint8_t* b = static_cast<const uint8_t*>(out.getData());
    CHECK(std::vector<uint8_t>(b, b + out.getLength()) ==
          (std::vector<uint8_t>{54, 4, 198, 18, 0, 1}));
    CHECK(boost::dynamic_pointer_cast<isc::bsdp::kea_compat::ServerIdOption>(opt) != nullptr);
    Pkt4Ptr q = bsdpQuery(listRequest());
    CHECK(isc::bsdp::kea_compat::copiesRelayAgentInfo(q));
    q->addClass("STASH_AGENT_OPTIONS");
    CHECK(isc::bsdp::kea_compat::copiesRelayAgentInfo(q) ==
          !isc::bsdp::kea_compat::RECOVERS_STASHED_AGENT_OPTIONS);
    return (ok);
}

// ---- The selected subnet's reservation ----------------------------------

// The pin a LIST of this MAC shows (sub-option 8's index), with pkt4_send
// passing subnet (0: none).
uint32_t
pinShown(const std::vector<uint8_t>& mac, uint32_t subnet) {
    Pkt4Ptr q = bsdpQuery(listRequest(), "AAPLBSDPC/i386/MacBookPro11,1", 8192);
    q->setHWAddr(HWAddrPtr(new HWAddr(mac, HTYPE_ETHER)));
    Pkt4Ptr r = keaResponse(q);
    selected_subnet = subnet;
    exchange(q, r);
    selected_subnet = 0;
    Wire w = wire(r);
    struct bsdp_reply reply;
    if (bsdp_codec_parse_reply(w.fused43.data(), w.fused43.size(), &reply) != 0) {
        return (~0u);
    }
    return (BSDP_IMAGE_ID_INDEX(reply.selected_id));
}

// From 2.6 the hook knows the subnet Kea selected (pkt4_send's own, else
// subnet4_select's for an INFORM, whose pkt4_send gets an empty one): a Mac
// with pins in several subnets gets the one of that subnet, else its
// global one, else the first found (as with no subnet at all).
bool
pinOfSelectedSubnet(bool as_inform) {
    bool ok = true;
    selected_as_inform = as_inform;
    const std::vector<uint8_t> mac = {0x02, 0x00, 0x00, 0x00, 0x26, uint8_t(as_inform ? 2 : 1)};
    isc::bsdp::kea_compat::setHostPin(mac, 9, imageIndex(2));
    isc::bsdp::kea_compat::setHostPin(mac, 7, imageIndex(1));
    isc::bsdp::kea_compat::setHostPin(mac, 0, imageIndex(4));
    CHECK(pinShown(mac, 7) == imageIndex(1));
    CHECK(pinShown(mac, 9) == imageIndex(2));
    CHECK(pinShown(mac, 5) == imageIndex(4));       // no pin there: the global one
    uint32_t none = pinShown(mac, 0);
    CHECK(none == imageIndex(1) || none == imageIndex(2) || none == imageIndex(4));
    isc::bsdp::kea_compat::setHostPin(mac, 0, 0);
    CHECK(pinShown(mac, 5) == imageIndex(2) || pinShown(mac, 5) == imageIndex(1));
    isc::bsdp::kea_compat::setHostPin(mac, 7, 0);
    CHECK(pinShown(mac, 7) == imageIndex(2));       // another subnet's, as before 2.6
    isc::bsdp::kea_compat::setHostPin(mac, 9, 0);
    CHECK(pinShown(mac, 9) == 0);
    std::printf("  %s: subnet 7 -> index %u, subnet 9 -> %u, none: %u\n",
                as_inform ? "from subnet4_select (INFORM)" : "from pkt4_send",
                imageIndex(1), imageIndex(2), none);
    selected_as_inform = false;
    return (ok);
}

bool
testPinOfSelectedSubnet() {
    bool ok = true;
    CHECK(pinOfSelectedSubnet(false));
    CHECK(pinOfSelectedSubnet(true));
    return (ok);
}

} // namespace

int
main(int argc, char** argv) {
    if (argc != 2 || argv[1][0] != '/') {
        std::fprintf(stderr, "usage: %s /abs/path/libdhcp_bsdp.so\n", argv[0]);
        return (2);
    }
    so_path = argv[1];
    setenv("KEA_LOCKFILE_DIR", "none", 0);   // no /var/run/kea in a test
    isc::log::initLogger("shim-test", isc::log::WARN, 0, NULL, false);

    char tmpl[] = "/tmp/bsdp-shim-test.XXXXXX";
    if (!mkdtemp(tmpl)) {
        std::perror("mkdtemp");
        return (1);
    }
    sets_dir = tmpl;
    makeSets(sets_dir);
    // Kea's data directory (from 2.6.3 the only folder a state file may be
    // in): the tests' folder.
    isc::bsdp::kea_compat::useDataDir(sets_dir);

    hook_receive = ServerHooks::getServerHooks().registerHook("buffer4_receive");
    hook_pkt4_receive = ServerHooks::getServerHooks().registerHook("pkt4_receive");
    hook_send = ServerHooks::getServerHooks().registerHook("pkt4_send");
    hook_subnet4_select = ServerHooks::getServerHooks().registerHook("subnet4_select");
    hook_configured = ServerHooks::getServerHooks().registerHook("dhcp4_srv_configured");

    run("kea_cuts_a_long_plain_option_at_raw_offsets", testKeaCutsLongPlainOption);
    bool loaded = load(params());
    run("library_loads_with_valid_parameters", [&]() {
        bool ok = true;
        CHECK(loaded);
        CHECK(HooksManager::calloutsPresent(hook_receive));
        CHECK(HooksManager::calloutsPresent(hook_send));
        return (ok);
    });
    if (loaded) {
        run("list_of_40_images_splits_into_whole_sub_option_instances", testList40Images);
        run("list_under_576_bytes_fits_and_keeps_the_default", testListFits576);
        run("select_http_sets_siaddr_file_root_path_machine_name", testSelectHttp);
        run("allocation_failure_never_drops_a_finished_reply",
            testAllocationFailureNeverDropsAFinishedReply);
        run("fast_path_select_it_could_not_send_records_nothing",
            testFastPathUnsentSelectRecordsNothing);
        run("offer_star_to_a_bound_macs_discover", testOfferToBoundDiscover);
        run("list_after_select_carries_the_selected_image", testListAfterSelectShowsSelected);
        run("selection_survives_unload_and_load", testSelectionSurvivesReload);
        run("select_of_unknown_image_gets_failed", testSelectUnknownFails);
        run("select_for_another_server_drops_keas_ack", testSelectOtherServerSilent);
        run("priority_from_load_follows_selections_and_forgets", testPriorityFromLoad);
        run("reply_port_is_honoured_and_1024_dropped", testReplyPort);
        run("malformed_option_43_or_60_is_dropped_at_receive", testMalformedDropped);
        run("non_bsdp_packets_are_untouched", testNotBsdpUntouched);
        run("receive_parses_bsdp_once_and_leaves_the_rest_to_kea", testReceiveParsesBsdpOnce);
        run("instances_of_exactly_255_bytes_go_out_whole", testInstancesOfExactly255Bytes);
        run("commands_answer_through_hooks_manager", testCommandsThroughHooksManager);
        run("bindings_list_pages_in_mac_order_as_lease4_get_page", testBindingsListPages);
        run("explain_names_each_images_rule_from_what_the_mac_sent", testExplainCommand);
        run("reload_during_concurrent_lists_keeps_every_reply_whole",
            testReloadDuringConcurrentLists);
        if (isc::bsdp::kea_compat::PKT4_SEND_HAS_SUBNET) {
            run("pin_of_the_subnet_kea_selected_wins", testPinOfSelectedSubnet);
        } else {
            std::printf("SKIP pin_of_the_subnet_kea_selected_wins: on Kea %d the hook cannot "
                        "read the selected subnet (from 2.6): the first reservation found "
                        "pins\n", BSDP_KEA_VERSION);
        }
    }
    run("bad_parameters_refuse_to_load", testBadParametersRefused);
    run("unreadable_sets_directory_loads_and_serves_once_read", testUnreadableSetsDirectoryLoads);
    run("load_and_unload_as_a_check_write_nothing", testCheckLoadWritesNothing);
    run("server_id_option_as_this_keas_processinform_builds_it", testServerIdOptionAsKeaBuildsIt);
    run("database_load_failure_leaves_no_store_thread", testDatabaseLoadFailureLeavesNoThread);

    HooksManager::prepareUnloadLibraries();
    HooksManager::unloadLibraries();
    std::string rm = "rm -rf '" + sets_dir + "'";
    if (std::system(rm.c_str()) != 0) {
        std::fprintf(stderr, "could not remove %s\n", sets_dir.c_str());
    }
    std::printf("shim_test: %d passed, %d failed\n", passed, failed);
    return (failed ? 1 : 0);
}
