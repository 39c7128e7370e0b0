// SPDX-License-Identifier: MPL-2.0
#include "bsdp_commands.h"

#include "bsdp_log.h"
#include "bsdp_reload.h"
#include "bsdp_stats.h"

#include "hook/bsdp_codec.h"

#include <cc/command_interpreter.h>
#include <cc/data.h>
#include <hooks/callout_handle.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <new>
#include <stdexcept>
#include <vector>

using isc::config::CONTROL_RESULT_EMPTY;
using isc::config::CONTROL_RESULT_ERROR;
using isc::config::CONTROL_RESULT_SUCCESS;
using isc::config::createAnswer;
using isc::data::ConstElementPtr;
using isc::data::Element;
using isc::data::ElementPtr;
using isc::hooks::CalloutHandle;

namespace isc {
namespace bsdp {

namespace {

// Set by startOperations, cleared by stopOperations. Commands, load and
// unload all run on Kea's main thread, so plain pointers suffice here.
ImplPtr ops_impl;
std::unique_ptr<Reloader> ops_reloader;

ElementPtr
integer(uint64_t v) {
    return (Element::create(static_cast<long long int>(v)));
}

std::string
macText(const uint8_t mac[6]) {
    char buf[18];
    std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x",
                  mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return (buf);
}

std::string
imageName(const struct bsdp_image& img) {
    return (std::string(img.name, img.name_len));
}

ElementPtr
stringOrNull(const char* s) {
    return (s ? Element::create(std::string(s)) : Element::create());
}

ElementPtr
macList(const uint8_t (*macs)[6], size_t n) {
    ElementPtr list = Element::createList();
    for (size_t i = 0; i < n; ++i) {
        list->add(Element::create(macText(macs[i])));
    }
    return (list);
}

// Why a set is served from its last good version, and since when.
ElementPtr
staleElement(const struct bsdp_image& img) {
    ElementPtr e = Element::createMap();
    e->set("path", stringOrNull(img.stale.path));
    e->set("reason", stringOrNull(img.stale.reason));
    e->set("since", Element::create(utcText(img.stale_since)));
    return (e);
}

ElementPtr
imageElement(const struct bsdp_image& img) {
    ElementPtr e = Element::createMap();
    e->set("id", integer(img.id));
    e->set("index", integer(img.index));
    e->set("kind", integer(img.kind));
    e->set("install", Element::create(img.install));
    e->set("name", Element::create(imageName(img)));
    e->set("set", Element::create(std::string(img.set_dir ? img.set_dir : "")));
    e->set("type", Element::create(std::string(bsdp_image_type_name(img.type))));
    ElementPtr archs = Element::createList();
    for (unsigned bit : {unsigned(BSDP_ARCH_PPC), unsigned(BSDP_ARCH_I386),
                         unsigned(BSDP_ARCH_ARM)}) {
        if (img.archs & bit) {
            archs->add(Element::create(std::string(bsdp_arch_name(bit))));
        }
    }
    e->set("architectures", archs);
    e->set("boot-file", stringOrNull(img.boot_file));
    e->set("root-path", stringOrNull(img.root_path));
    e->set("chain-url", stringOrNull(img.chain_url));
    e->set("is-enabled", Element::create(img.is_enabled));
    e->set("is-default", Element::create(img.is_default));
    e->set("filter-only", Element::create(img.filter_only));
    e->set("supports-diskless", Element::create(img.supports_diskless));
    ElementPtr models = Element::createList();
    for (size_t i = 0; i < img.n_enabled_models; ++i) {
        models->add(Element::create(std::string(img.enabled_models[i])));
    }
    e->set("enabled-system-identifiers", models);
    e->set("enabled-mac-addresses", macList(img.enabled_macs, img.n_enabled_macs));
    e->set("disabled-mac-addresses", macList(img.disabled_macs, img.n_disabled_macs));
    if (img.load_balance_server != 0) {
        uint32_t a = img.load_balance_server;
        char buf[16];
        std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
                      (a >> 8) & 0xff, a & 0xff);
        e->set("load-balance-server", Element::create(std::string(buf)));
    }
    if (img.stale.reason) {
        e->set("stale", staleElement(img));
    }
    return (e);
}

ElementPtr
diagList(const struct bsdp_diag* d, size_t n) {
    ElementPtr list = Element::createList();
    for (size_t i = 0; i < n; ++i) {
        ElementPtr e = Element::createMap();
        e->set("path", Element::create(std::string(d[i].path ? d[i].path : "")));
        e->set("reason", Element::create(std::string(d[i].reason ? d[i].reason : "")));
        list->add(e);
    }
    return (list);
}

// What the commands answer while sets-directory has never been read.
std::string
unavailableText() {
    return ("sets-directory '" + ops_impl->params().sets_directory + "' cannot be read: " +
            ops_impl->setsError() + "; no BSDP request is answered until it can (retried every " +
            std::to_string(ops_reloader->retrySeconds()) + " s)");
}

ConstElementPtr
imagesList(const ConstElementPtr&) {
    if (!ops_impl->available()) {
        ElementPtr args = Element::createMap();
        args->set("sets-directory", Element::create(ops_impl->params().sets_directory));
        args->set("error", Element::create(ops_impl->setsError()));
        return (createAnswer(CONTROL_RESULT_ERROR, unavailableText(), args));
    }
    CatalogueConstPtr cat = ops_impl->catalogue();
    ElementPtr images = Element::createList();
    // The problems beside skipped and warnings: sets served stale.
    ElementPtr stale = Element::createList();
    for (size_t i = 0; i < cat->n_images; ++i) {
        images->add(imageElement(cat->images[i]));
        if (cat->images[i].stale.reason) {
            ElementPtr e = staleElement(cat->images[i]);
            e->set("set", Element::create(std::string(cat->images[i].set_dir)));
            stale->add(e);
        }
    }
    ElementPtr args = Element::createMap();
    args->set("sets-directory", Element::create(ops_impl->params().sets_directory));
    args->set("images", images);
    args->set("skipped", diagList(cat->skipped, cat->n_skipped));
    args->set("warnings", diagList(cat->warnings, cat->n_warnings));
    args->set("stale", stale);
    char text[200];
    int n = std::snprintf(text, sizeof(text), "%zu image(s), %zu set(s) skipped, %zu warning(s)",
                          cat->n_images, cat->n_skipped, cat->n_warnings);
    if (!stale->empty() && n > 0 && static_cast<size_t>(n) < sizeof(text)) {
        std::snprintf(text + n, sizeof(text) - n, ", %zu served stale", stale->size());
    }
    return (createAnswer(CONTROL_RESULT_SUCCESS, text, args));
}

ConstElementPtr
reloadNow(const ConstElementPtr&) {
    ReloadResult r = ops_reloader->reload("bsdp-reload command");
    ops_reloader->applyGauges();
    if (!r.ok && !ops_impl->available()) {
        return (createAnswer(CONTROL_RESULT_ERROR, unavailableText()));
    }
    if (!r.ok) {
        CatalogueConstPtr old = ops_impl->catalogue();
        return (createAnswer(CONTROL_RESULT_ERROR, r.error + "; still serving the previous " +
                             std::to_string(old->n_images) + " image(s)"));
    }
    ElementPtr args = Element::createMap();
    args->set("images", integer(r.images));
    args->set("skipped", integer(r.skipped));
    args->set("warnings", integer(r.warnings));
    args->set("stale", integer(r.stale));
    args->set("seconds", Element::create(r.seconds));
    char text[160];
    std::snprintf(text, sizeof(text), "%zu image(s), %zu set(s) skipped, %zu warning(s) in %.1f ms",
                  r.images, r.skipped, r.warnings, r.seconds * 1000.0);
    return (createAnswer(CONTROL_RESULT_SUCCESS, text, args));
}

ElementPtr
bindingElement(const struct bsdp_binding& b, const struct bsdp_catalogue* cat) {
    ElementPtr e = Element::createMap();
    e->set("hw-address", Element::create(macText(b.mac)));
    e->set("image", integer(b.image_id));
    e->set("image-index", integer(BSDP_IMAGE_ID_INDEX(b.image_id)));
    const struct bsdp_image* img = b.image_id ? bsdp_catalogue_find(cat, b.image_id) : nullptr;
    e->set("image-name", img ? Element::create(imageName(*img)) : Element::create());
    e->set("time", Element::create(static_cast<long long int>(b.time)));
    e->set("machine-number", integer(b.number));
    const Params& p = ops_impl->params();
    const char* fmt = p.has_machine_name_format ? p.machine_name_format.c_str()
                                                : BSDP_DEFAULT_MACHINE_NAME_FORMAT;
    char name[BSDP_MACHINE_NAME_MAX + 1];
    if (bsdp_responder_format_name(fmt, b.number, name, sizeof(name)) >= 0) {
        e->set("machine-name", Element::create(std::string(name)));
    }
    return (e);
}

// Checks the arguments map has only the given keys (a misspelt one would
// otherwise be silently ignored).
void
checkKeys(const ConstElementPtr& args, std::initializer_list<const char*> keys) {
    if (!args || args->getType() != Element::map) {
        std::string list;
        for (const char* k : keys) {
            list += (list.empty() ? "\"" : ", \"") + std::string(k) + "\"";
        }
        throw BadArguments("arguments must be a map with " + list);
    }
    for (auto const& entry : args->mapValue()) {
        bool known = false;
        for (const char* k : keys) {
            known = known || entry.first == k;
        }
        if (!known) {
            throw BadArguments("unknown argument '" + entry.first + "'");
        }
    }
}

void
hwAddress(const ConstElementPtr& args, uint8_t mac[6]) {
    ConstElementPtr v = args->get("hw-address");
    if (!v) {
        throw BadArguments("'hw-address' is required");
    }
    if (v->getType() != Element::string ||
        bsdp_mac_parse(v->stringValue().c_str(), v->stringValue().size(), mac) != 0) {
        throw BadArguments("'hw-address' must be a MAC address such as \"00:11:22:33:44:55\" (got " +
                           v->str() + ")");
    }
}

// "image": an index 1..65535, or a full boot image id, of an image in the
// catalogue.
const struct bsdp_image*
imageArgument(const ConstElementPtr& args, const struct bsdp_catalogue* cat) {
    ConstElementPtr v = args->get("image");
    if (!v) {
        throw BadArguments("'image' is required (an image index or a full image id)");
    }
    if (v->getType() != Element::integer || v->intValue() < 1 ||
        v->intValue() > int64_t(UINT32_MAX)) {
        throw BadArguments("'image' must be an image index 1..65535 or a full image id (got " +
                           v->str() + ")");
    }
    uint32_t want = static_cast<uint32_t>(v->intValue());
    if (want > 0xffff) {
        const struct bsdp_image* img = bsdp_catalogue_find(cat, want);
        if (!img) {
            throw BadArguments("no image with id " + std::to_string(want) + " in the catalogue");
        }
        return (img);
    }
    const struct bsdp_image* found = nullptr;
    for (size_t i = 0; i < cat->n_images; ++i) {
        if (cat->images[i].index == want) {
            if (found) {
                throw BadArguments("image index " + std::to_string(want) +
                                   " is used by several images; give the full image id");
            }
            found = &cat->images[i];
        }
    }
    if (!found) {
        throw BadArguments("no image with index " + std::to_string(want) + " in the catalogue");
    }
    return (found);
}

// bsdp-bindings-list pages, as Kea's lease4-get-page: a page of at most
// PAGE_LIMIT_MAX bindings keeps one answer (about 250 bytes a binding)
// bounded whatever max-bindings is.
const size_t PAGE_LIMIT_DEFAULT = 1000;
const size_t PAGE_LIMIT_MAX = 10000;

// "from": "start" (or absent) for the first page, else the last MAC of
// the page before. "limit": the page size.
ConstElementPtr
bindingsList(const ConstElementPtr& args) {
    uint8_t from[6];
    bool has_from = false;
    size_t limit = PAGE_LIMIT_DEFAULT;
    if (args) {
        checkKeys(args, {"from", "limit"});
        ConstElementPtr f = args->get("from");
        if (f && f->getType() != Element::string) {
            throw BadArguments("'from' parameter must be a string");
        }
        if (f && f->stringValue() != "start") {
            if (bsdp_mac_parse(f->stringValue().c_str(), f->stringValue().size(), from) != 0) {
                throw BadArguments("'from' parameter value is neither 'start' keyword nor a MAC "
                                   "address such as \"00:11:22:33:44:55\" (got " + f->str() + ")");
            }
            has_from = true;
        }
        ConstElementPtr l = args->get("limit");
        if (l && l->getType() != Element::integer) {
            throw BadArguments("'limit' parameter must be a number");
        }
        if (l && (l->intValue() < 1 || l->intValue() > int64_t(PAGE_LIMIT_MAX))) {
            throw BadArguments("'limit' parameter must be 1.." + std::to_string(PAGE_LIMIT_MAX) +
                               " (got " + l->str() + ")");
        }
        if (l) {
            limit = static_cast<size_t>(l->intValue());
        }
    }
    std::vector<struct bsdp_binding> page(limit);
    size_t total = 0;
    size_t n = bsdp_bindings_page(ops_impl->bindings(), has_from ? from : nullptr, page.data(),
                                  limit, &total);
    CatalogueConstPtr cat = ops_impl->catalogue();
    ElementPtr list = Element::createList();
    for (size_t i = 0; i < n; ++i) {
        list->add(bindingElement(page[i], cat.get()));
    }
    ElementPtr answer = Element::createMap();
    answer->set("bindings", list);
    answer->set("count", integer(n));
    answer->set("total", integer(total));
    std::string text = std::to_string(n) + " binding(s) found, " + std::to_string(total) +
                       " in all";
    return (createAnswer(n ? CONTROL_RESULT_SUCCESS : CONTROL_RESULT_EMPTY, text, answer));
}

ConstElementPtr
bindingSet(const ConstElementPtr& args) {
    checkKeys(args, {"hw-address", "image"});
    uint8_t mac[6];
    hwAddress(args, mac);
    CatalogueConstPtr cat = ops_impl->catalogue();
    const struct bsdp_image* img = imageArgument(args, cat.get());
    struct bsdp_binding b;
    std::memset(&b, 0, sizeof(b));
    std::memcpy(b.mac, mac, 6);
    b.image_id = img->id;
    // As if the Mac had selected it now; the number stays the MAC's.
    b.time = static_cast<int64_t>(std::time(nullptr));
    int rc = bsdp_bindings_put(ops_impl->bindings(), &b);
    if (rc != 0) {
        throw std::runtime_error(std::string("bindings table: ") + std::strerror(-rc));
    }
    ops_impl->noteEvictions("bsdp-binding-set");
    struct bsdp_binding now;
    if (bsdp_bindings_lookup(ops_impl->bindings(), mac, &now) != 0) {
        now = b;
    }
    LOG_INFO(bsdp_logger, BSDP_BINDING_SET)
        .arg(macText(mac)).arg(BSDP_IMAGE_ID_INDEX(img->id)).arg(imageName(*img));
    return (createAnswer(CONTROL_RESULT_SUCCESS,
                         "binding of " + macText(mac) + " set to image " +
                         std::to_string(BSDP_IMAGE_ID_INDEX(img->id)) + " '" + imageName(*img) + "'",
                         bindingElement(now, cat.get())));
}

ConstElementPtr
bindingDel(const ConstElementPtr& args) {
    checkKeys(args, {"hw-address"});
    uint8_t mac[6];
    hwAddress(args, mac);
    if (bsdp_bindings_remove(ops_impl->bindings(), mac) != 0) {
        return (createAnswer(CONTROL_RESULT_EMPTY, "no binding for " + macText(mac)));
    }
    LOG_INFO(bsdp_logger, BSDP_BINDING_DELETED).arg(macText(mac));
    return (createAnswer(CONTROL_RESULT_SUCCESS, "binding of " + macText(mac) + " deleted"));
}

// A string argument of at most max bytes, printable ASCII but '/' (it
// stands in option 60, AAPLBSDPC/<arch>/<model>).
bool
vendorClassPart(const ConstElementPtr& args, const char* key, size_t max, std::string& out) {
    ConstElementPtr v = args->get(key);
    if (!v) {
        return (false);
    }
    bool ok = v->getType() == Element::string && !v->stringValue().empty() &&
              v->stringValue().size() <= max;
    for (size_t i = 0; ok && i < v->stringValue().size(); ++i) {
        char c = v->stringValue()[i];
        ok = c > ' ' && c < 0x7f && c != '/';
    }
    if (!ok) {
        throw BadArguments("'" + std::string(key) + "' must be 1.." + std::to_string(max) +
                           " printable characters without '/' (got " + v->str() + ")");
    }
    out = v->stringValue();
    return (true);
}

// bsdp-explain {"hw-address", "model", "architecture", "attribute-filter":
// [ATTR...] or null, "message-size"}: what a LIST from that MAC gets, and
// why; what is not given is what the MAC last sent.
ConstElementPtr
explainMac(const ConstElementPtr& args) {
    checkKeys(args, {"hw-address", "model", "architecture", "attribute-filter", "message-size"});
    ExplainQuestion q;
    hwAddress(args, q.mac);
    q.has_model = vendorClassPart(args, "model", BSDP_MODEL_MAX, q.model);
    q.has_arch = vendorClassPart(args, "architecture", BSDP_ARCH_MAX, q.arch);
    ConstElementPtr f = args->get("attribute-filter");
    if (f && f->getType() == Element::null) {
        q.filter = ExplainQuestion::FILTER_NONE;
    } else if (f) {
        bool ok = f->getType() == Element::list && f->size() <= BSDP_FILTERS_MAX;
        for (size_t i = 0; ok && i < f->size(); ++i) {
            ConstElementPtr a = f->get(i);
            ok = a->getType() == Element::integer && a->intValue() >= 0 && a->intValue() <= 0xffff;
            if (ok) {
                q.filters.push_back(static_cast<uint16_t>(a->intValue()));
            }
        }
        if (!ok) {
            throw BadArguments("'attribute-filter' must be null (no filter) or a list of at most " +
                               std::to_string(BSDP_FILTERS_MAX) + " image attributes 0..65535 "
                               "(got " + f->str() + ")");
        }
        q.filter = ExplainQuestion::FILTER_GIVEN;
    }
    ConstElementPtr size = args->get("message-size");
    if (size) {
        if (size->getType() != Element::integer || size->intValue() < 0 ||
            size->intValue() > 0xffff) {
            throw BadArguments("'message-size' must be the client's maximum message size "
                               "0..65535 (got " + size->str() + ")");
        }
        q.has_message_size = true;
        q.message_size = static_cast<uint16_t>(size->intValue());
    }
    std::string text;
    ElementPtr answer = ops_impl->explain(q, &text);
    return (createAnswer(CONTROL_RESULT_SUCCESS, text, answer));
}

typedef ConstElementPtr (*CommandBody)(const ConstElementPtr& args);

// Every handler: parse, run, answer; nothing escapes into Kea.
int
runCommand(CalloutHandle& handle, const char* name, CommandBody body) {
    ConstElementPtr answer;
    try {
        ConstElementPtr command;
        handle.getArgument("command", command);
        ConstElementPtr args;
        isc::config::parseCommand(args, command);
        if (!ops_impl || !ops_reloader) {
            answer = createAnswer(CONTROL_RESULT_ERROR, "the BSDP hook is not loaded");
        } else {
            answer = body(args);
        }
    } catch (const BadArguments& ex) {
        answer = createAnswer(CONTROL_RESULT_ERROR, std::string(name) + ": " + ex.what());
    } catch (const std::exception& ex) {
        answer = createAnswer(CONTROL_RESULT_ERROR, std::string(name) + " failed: " + ex.what());
        try {
            LOG_ERROR(bsdp_logger, BSDP_COMMAND_ERROR).arg(name).arg(ex.what());
        } catch (...) {
        }
    } catch (...) {
        answer = createAnswer(CONTROL_RESULT_ERROR, std::string(name) + " failed");
    }
    try {
        handle.setArgument("response", answer);
    } catch (...) {
    }
    return (0);
}

int
imagesListHandler(CalloutHandle& handle) {
    return (runCommand(handle, "bsdp-images-list", imagesList));
}

int
reloadHandler(CalloutHandle& handle) {
    return (runCommand(handle, "bsdp-reload", reloadNow));
}

int
bindingsListHandler(CalloutHandle& handle) {
    return (runCommand(handle, "bsdp-bindings-list", bindingsList));
}

int
bindingSetHandler(CalloutHandle& handle) {
    return (runCommand(handle, "bsdp-binding-set", bindingSet));
}

int
bindingDelHandler(CalloutHandle& handle) {
    return (runCommand(handle, "bsdp-binding-del", bindingDel));
}

int
explainHandler(CalloutHandle& handle) {
    return (runCommand(handle, "bsdp-explain", explainMac));
}

} // namespace

void
startOperations(isc::hooks::LibraryHandle& handle, const ImplPtr& impl) {
    stopOperations();
    ops_impl = impl;
    ops_reloader.reset(new Reloader(impl));
    handle.registerCommandCallout("bsdp-images-list", imagesListHandler);
    handle.registerCommandCallout("bsdp-reload", reloadHandler);
    handle.registerCommandCallout("bsdp-bindings-list", bindingsListHandler);
    handle.registerCommandCallout("bsdp-binding-set", bindingSetHandler);
    handle.registerCommandCallout("bsdp-binding-del", bindingDelHandler);
    handle.registerCommandCallout("bsdp-explain", explainHandler);
    stats::createAll();
    CatalogueConstPtr cat = impl->catalogue();
    stats::setGauges(cat->n_images, cat->n_skipped);
    ops_reloader->start();
}

void
stopOperations() {
    try {
        if (ops_reloader) {
            ops_reloader->stop();
        }
    } catch (...) {
    }
    ops_reloader.reset();
    ops_impl.reset();
}

} // namespace bsdp
} // namespace isc
