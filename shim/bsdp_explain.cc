// SPDX-License-Identifier: MPL-2.0
// Why a Mac does (not) see an image: the last LIST of recent Macs kept for
// bsdp-explain, each image's rule logged at debug level when a LIST is
// built, and bsdp-explain's answer. Every reason is the responder's own
// (hook/policy.h, hook/responder.h): asked, never recomputed here.
#include "bsdp_impl.h"

#include "bsdp_log.h"
#include "bsdp_packet.h"

#include "hook/explain.h"
#include "hook/policy.h"

#include <dhcp/dhcp4.h>

#include <cstdio>
#include <cstring>
#include <ctime>

using isc::data::Element;
using isc::data::ElementPtr;
using isc::dhcp::Pkt4Ptr;

namespace isc {
namespace bsdp {

namespace {

// Largest option-43 area the responder may write (BOOTPD's cap).
const size_t EXPLAIN_OPT43_MAX = 8192;

std::string
ipText(uint32_t a) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
                  a & 0xff);
    return (buf);
}

// "1002 'Install macOS'", or the bare index of an id not in the catalogue.
std::string
imageText(const struct bsdp_catalogue* cat, uint32_t id) {
    const struct bsdp_image* img = bsdp_catalogue_find(cat, id);
    std::string s = std::to_string(BSDP_IMAGE_ID_INDEX(id));
    return (img ? s + " '" + std::string(img->name, img->name_len) + "'" : s);
}

std::string
defaultText(const struct bsdp_catalogue* cat, const struct bsdp_answer& ans) {
    if (!ans.default_id) {
        return (bsdp_default_why_text(BSDP_DEFAULT_NONE));
    }
    return (imageText(cat, ans.default_id) + ": " +
            bsdp_default_why_text(static_cast<enum bsdp_default_why>(ans.default_why)));
}

std::string
ruleText(uint8_t rule) {
    enum bsdp_rule r = static_cast<enum bsdp_rule>(rule);
    return (std::string(bsdp_rule_name(r)) + " (" + bsdp_rule_text(r) + ")");
}

// Where sub-option 8 comes from, and why a pin or binding was passed over.
std::string
selectedText(const struct bsdp_catalogue* cat, const struct bsdp_answer& ans,
             const std::string& pin_from) {
    std::string s;
    if (ans.selected_by == BSDP_SELECTED_PIN) {
        s = imageText(cat, ans.selected_id) + ": pinned by " +
            (pin_from.empty() ? std::string("a host reservation") : pin_from);
    } else if (ans.selected_by == BSDP_SELECTED_BINDING) {
        s = imageText(cat, ans.selected_id) + ": the image this MAC last selected (its binding)";
    } else {
        s = "none";
    }
    if (ans.pinned_image && ans.selected_by != BSDP_SELECTED_PIN) {
        s += "; pin of index " + std::to_string(ans.pinned_image) +
             (pin_from.empty() ? "" : " (" + pin_from + ")") + " not followed: " +
             ruleText(ans.pin_rule);
    }
    if (ans.bound_id && ans.selected_by != BSDP_SELECTED_BINDING &&
        ans.selected_by != BSDP_SELECTED_PIN) {
        s += "; binding to " + imageText(cat, ans.bound_id) + " not followed: " +
             ruleText(ans.bound_rule);
    }
    return (s);
}

ElementPtr
intOrNull(bool has, int64_t v) {
    return (has ? Element::create(static_cast<long long int>(v)) : Element::create());
}

ElementPtr
imageRef(const struct bsdp_catalogue* cat, uint32_t id) {
    if (!id) {
        return (Element::create());
    }
    ElementPtr e = Element::createMap();
    e->set("id", intOrNull(true, id));
    e->set("index", intOrNull(true, BSDP_IMAGE_ID_INDEX(id)));
    const struct bsdp_image* img = bsdp_catalogue_find(cat, id);
    e->set("name", img ? Element::create(std::string(img->name, img->name_len)) : Element::create());
    return (e);
}

ElementPtr
requestElement(const struct bsdp_recent_request& r, bool remembered, size_t budget) {
    ElementPtr e = Element::createMap();
    e->set("remembered", Element::create(remembered));
    e->set("time", remembered ? Element::create(utcText(r.time)) : Element::create());
    e->set("architecture", Element::create(std::string(r.vc.arch, r.vc.arch_len)));
    e->set("model", Element::create(std::string(r.vc.model, r.vc.model_len)));
    char version[8];
    std::snprintf(version, sizeof(version), "%u.%u", r.req.version >> 8, r.req.version & 0xff);
    e->set("bsdp-version", Element::create(std::string(version)));
    if (r.req.present & BSDP_HAS(BSDP_OPT_BOOT_IMAGE_ATTRIBUTES_FILTER_LIST)) {
        ElementPtr f = Element::createList();
        for (size_t i = 0; i < r.req.n_filters; ++i) {
            f->add(intOrNull(true, r.req.filters[i]));
        }
        e->set("attribute-filter", f);
    } else {
        e->set("attribute-filter", Element::create());
    }
    e->set("message-size", intOrNull(r.req.present & BSDP_HAS(BSDP_OPT_MAX_MESSAGE_SIZE),
                                     r.req.max_message_size));
    e->set("option-57", intOrNull(r.opt57 > 0, r.opt57));
    e->set("reply-budget", intOrNull(true, static_cast<int64_t>(budget)));
    // How the remembered LIST itself fared, whatever the catalogue says.
    ElementPtr d = Element::create();
    if (remembered && r.drop != BSDP_DROP_NONE) {
        d = Element::createMap();
        d->set("reason", Element::create(std::string(bsdp_drop_reason_name(
            static_cast<enum bsdp_drop_reason>(r.drop)))));
        d->set("why", Element::create(std::string(r.why ? r.why : "")));
    }
    e->set("dropped", d);
    return (e);
}

} // namespace

void
Impl::noteList(const struct bsdp_catalogue* cat, const struct bsdp_query& q,
               const struct bsdp_answer& ans, const std::vector<uint8_t>& rules,
               const Pkt4Ptr& query, const uint32_t* subnet_id) const {
    struct bsdp_recent_request r;
    bsdp_explain_note(&q, &ans, &r);
    if (subnet_id) {
        r.has_subnet = true;
        r.subnet_id = *subnet_id;
    }
    bsdp_recent_note(recent_, &r);
    if (rules.size() != cat->n_images || rules.empty()) {
        return;
    }
    std::string mac = macText(query);
    for (size_t i = 0; i < cat->n_images; ++i) {
        const struct bsdp_image& img = cat->images[i];
        if (rules[i] == BSDP_RULE_OFFERED) {
            LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_LIST_IMAGE_OFFERED)
                .arg(mac).arg(imageText(cat, img.id)).arg(img.set_dir);
        } else if (rules[i] < BSDP_RULES) {
            LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_LIST_IMAGE_REMOVED)
                .arg(mac).arg(imageText(cat, img.id)).arg(img.set_dir).arg(ruleText(rules[i]));
        }
    }
    // The pin's reservation is not known here: the lookup only returned its index.
    LOG_DEBUG(bsdp_logger, BSDP_DBG_PACKET, BSDP_LIST_CHOICE)
        .arg(mac).arg(defaultText(cat, ans)).arg(selectedText(cat, ans, ""));
}

ElementPtr
Impl::explain(const ExplainQuestion& question, std::string* text) const {
    char mac[18];
    const uint8_t* m = question.mac;
    std::snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                  m[5]);
    if (!available()) {
        throw BadArguments("no catalogue: sets-directory '" + params_.sets_directory +
                           "' has not been read (" + setsError() + ")");
    }
    struct bsdp_recent_request r;
    bool remembered = bsdp_recent_lookup(recent_, question.mac, &r) == 0;
    if (!remembered && !question.has_model) {
        throw BadArguments(std::string("no LIST from ") + mac + " is remembered (the last LIST of "
                           "up to " + std::to_string(BSDP_RECENT_CAPACITY) + " Macs is kept, in "
                           "memory, since the hook loaded); give 'model' (and 'architecture', "
                           "default i386) to ask as that Mac would");
    }
    if (!remembered) {
        bsdp_explain_unknown(question.mac, &r);
        std::memcpy(r.vc.arch, "i386", 4);
        r.vc.arch_len = 4;
        r.local_address = responder_.server_address;
    }
    if (question.has_arch) {
        std::memcpy(r.vc.arch, question.arch.data(), question.arch.size());
        r.vc.arch_len = question.arch.size();
    }
    if (question.has_model) {
        std::memcpy(r.vc.model, question.model.data(), question.model.size());
        r.vc.model_len = question.model.size();
    }
    if (question.filter == ExplainQuestion::FILTER_NONE) {
        r.req.present &= ~BSDP_HAS(BSDP_OPT_BOOT_IMAGE_ATTRIBUTES_FILTER_LIST);
        r.req.n_filters = 0;
    } else if (question.filter == ExplainQuestion::FILTER_GIVEN) {
        r.req.present |= BSDP_HAS(BSDP_OPT_BOOT_IMAGE_ATTRIBUTES_FILTER_LIST);
        r.req.n_filters = static_cast<uint8_t>(question.filters.size());
        std::copy(question.filters.begin(), question.filters.end(), r.req.filters);
    }
    if (question.has_message_size) {
        r.req.present |= BSDP_HAS(BSDP_OPT_MAX_MESSAGE_SIZE);
        r.req.max_message_size = question.message_size;
    }

    CatalogueConstPtr cat = catalogue();
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    struct bsdp_explain_buf buf;
    struct bsdp_query q;
    if (bsdp_explain_query(&r, BSDP_MSGTYPE_LIST, 0, 0, now, &buf, &q) != 0) {
        throw BadArguments("the request cannot be built (an argument is too long)");
    }
    // A packet only to name the MAC in what the host lookup logs.
    Pkt4Ptr pkt(new isc::dhcp::Pkt4(isc::dhcp::DHCPINFORM, 0));
    pkt->setHWAddr(isc::dhcp::HTYPE_ETHER, 6, std::vector<uint8_t>(m, m + 6));
    std::string pin_from;
    // The pin that Mac's own LIST followed: that of the subnet Kea selected
    // for it, when known.
    const uint32_t* subnet = remembered && r.has_subnet ? &r.subnet_id : nullptr;
    q.pinned_image = pinsPossible() ? pinnedImage(m, pkt, subnet, &pin_from) : 0;
    std::vector<uint8_t> rules(cat->n_images, BSDP_RULES);
    q.rules = rules.data();
    q.rules_size = rules.size();
    std::vector<uint8_t> out(EXPLAIN_OPT43_MAX);
    struct bsdp_answer ans;
    if (bsdp_responder_answer(&responder_, cat.get(), bindings_, &q, out.data(), out.size(),
                              BSDP_REPLY_BLOCK_SIZE, &ans) != 0) {
        throw std::runtime_error("the responder refused the request");
    }

    std::string arch(r.vc.arch, r.vc.arch_len), model(r.vc.model, r.vc.model_len);
    std::string lines;
    ElementPtr images = Element::createList();
    size_t offered = 0;
    for (size_t i = 0; i < cat->n_images; ++i) {
        const struct bsdp_image& img = cat->images[i];
        ElementPtr e = imageRef(cat.get(), img.id);
        e->set("set", Element::create(std::string(img.set_dir)));
        bool is_offered = rules[i] == BSDP_RULE_OFFERED;
        e->set("offered", Element::create(is_offered));
        e->set("rule", Element::create(std::string(bsdp_rule_name(
            static_cast<enum bsdp_rule>(rules[i])))));
        e->set("why", Element::create(std::string(bsdp_rule_text(
            static_cast<enum bsdp_rule>(rules[i])))));
        lines += "\n  " + imageText(cat.get(), img.id) + " [" + img.set_dir + "]: ";
        if (img.stale.reason) {
            ElementPtr st = Element::createMap();
            st->set("reason", Element::create(std::string(img.stale.reason)));
            st->set("since", Element::create(utcText(img.stale_since)));
            e->set("stale", st);
        }
        // A BSDP 1.0 Mac gets no list but boots the LIST's default: its
        // SELECT is what that Mac gets.
        bool boots_default = rules[i] == BSDP_RULE_NO_LIST && img.id == ans.default_id;
        if (!is_offered) {
            lines += "not offered: " + ruleText(rules[i]);
        } else {
            ++offered;
        }
        if (is_offered || boots_default) {
            // What the Mac's SELECT of it would get, from the same responder.
            struct bsdp_query sq;
            struct bsdp_answer sel;
            std::memset(&sel, 0, sizeof(sel));
            struct bsdp_explain_buf sbuf;
            ElementPtr s = Element::createMap();
            lines += boots_default ? "; it is the default, which a BSDP 1.0 Mac boots: " :
                                     "offered; ";
            if (bsdp_explain_query(&r, BSDP_MSGTYPE_SELECT, ans.server_id, img.id, now, &sbuf,
                                   &sq) == 0 &&
                bsdp_responder_answer(&responder_, cat.get(), bindings_, &sq, out.data(),
                                      out.size(), BSDP_REPLY_BLOCK_SIZE, &sel) == 0 &&
                sel.verdict == BSDP_VERDICT_REPLY && sel.sent == BSDP_MSGTYPE_SELECT) {
                s->set("result", Element::create(std::string("ack")));
                s->set("boot-file", Element::create(std::string(sel.file)));
                // 0: the address the Mac's query comes in on, not known here.
                s->set("siaddr", sel.siaddr ? Element::create(ipText(sel.siaddr))
                                            : Element::create());
                s->set("root-path", sel.root_path[0] ? Element::create(std::string(sel.root_path))
                                                      : Element::create());
                s->set("chain-url", img.chain_url ? Element::create(std::string(img.chain_url))
                                                  : Element::create());
                // A Mac without a machine number gets a new one at its first SELECT.
                bool named = sel.machine_number != 0 && sel.machine_name[0];
                s->set("machine-name", named ? Element::create(std::string(sel.machine_name))
                                             : Element::create());
                lines += "SELECT: boot file " + std::string(sel.file) + ", siaddr " +
                         (sel.siaddr ? ipText(sel.siaddr) : "the address its query comes in on") +
                         (sel.root_path[0] ? ", root path " + std::string(sel.root_path) : "") +
                         (img.chain_url ? ", chain URL " + std::string(img.chain_url) : "") +
                         ", machine name " + (named ? std::string(sel.machine_name) :
                                              img.type == BSDP_TYPE_BOOTFILEONLY ? "none" :
                                              "a new number at its first SELECT");
            } else {
                std::string why = sel.why ? sel.why : "no answer";
                s->set("result", Element::create(std::string("failed")));
                s->set("why", Element::create(why));
                lines += "SELECT fails: " + why;
            }
            e->set("select", s);
        }
        if (img.stale.reason) {
            lines += " (served stale: " + std::string(img.stale.reason) + ")";
        }
        images->add(e);
    }
    ElementPtr skipped = Element::createList();
    for (size_t i = 0; i < cat->n_skipped; ++i) {
        const struct bsdp_diag& d = cat->skipped[i];
        ElementPtr e = Element::createMap();
        e->set("path", Element::create(std::string(d.path ? d.path : "")));
        e->set("offered", Element::create(false));
        e->set("rule", Element::create(std::string("skipped")));
        e->set("why", Element::create(std::string(d.reason ? d.reason : "")));
        skipped->add(e);
        lines += "\n  skipped " + std::string(d.path ? d.path : "") + ": " +
                 (d.reason ? d.reason : "");
    }

    ElementPtr list = Element::createMap();
    list->set("sent", Element::create(ans.verdict == BSDP_VERDICT_REPLY));
    list->set("drop", ans.verdict == BSDP_VERDICT_DROP ?
              Element::create(std::string(bsdp_drop_reason_name(ans.drop))) : Element::create());
    list->set("listed", intOrNull(true, ans.images_listed));
    list->set("offered", intOrNull(true, offered));
    list->set("truncated", Element::create(ans.truncated));
    list->set("default", imageRef(cat.get(), ans.default_id));
    list->set("default-why", Element::create(std::string(bsdp_default_why_text(
        static_cast<enum bsdp_default_why>(ans.default_why)))));
    list->set("selected", imageRef(cat.get(), ans.selected_id));
    static const char* const by[] = {"none", "pin", "binding"};
    list->set("selected-by", Element::create(std::string(by[ans.selected_by % 3])));
    list->set("selected-why", Element::create(selectedText(cat.get(), ans, pin_from)));
    list->set("server-address", Element::create(ipText(ans.server_id)));

    // A drop before the catalogue is asked (no ciaddr, the reply port...):
    // the dry run, which asks it, cannot show it.
    bool request_dropped = remembered && r.drop != BSDP_DROP_NONE &&
                           !(ans.verdict == BSDP_VERDICT_DROP && ans.drop == r.drop);
    ElementPtr args = Element::createMap();
    args->set("hw-address", Element::create(std::string(mac)));
    args->set("request", requestElement(r, remembered, ans.budget));
    args->set("list", list);
    args->set("images", images);
    args->set("skipped", skipped);
    if (text) {
        *text = std::string(mac) + ", " + arch + " " + model + " (" +
                (remembered ? "its LIST of " + utcText(r.time) : std::string("as given")) +
                "): " + std::to_string(offered) + " of " + std::to_string(cat->n_images) +
                " image(s) offered, " + std::to_string(cat->n_skipped) + " set(s) skipped" +
                (ans.verdict == BSDP_VERDICT_DROP ? "; its LIST is dropped: " +
                 std::string(bsdp_drop_reason_name(ans.drop)) + (ans.why ? std::string(" (") +
                 ans.why + ")" : "") : "") +
                (request_dropped ? "; but its LIST was dropped: " + std::string(
                 bsdp_drop_reason_name(static_cast<enum bsdp_drop_reason>(r.drop))) +
                 (r.why ? std::string(" (") + r.why + ")" : "") + ", so it was offered nothing: "
                 "below is what a LIST the hook answers would get" : "") +
                "\n  default: " + defaultText(cat.get(), ans) +
                "\n  selected: " + selectedText(cat.get(), ans, pin_from) + lines;
    }
    return (args);
}

} // namespace bsdp
} // namespace isc
