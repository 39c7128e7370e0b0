// SPDX-License-Identifier: MPL-2.0
// The state of libdhcp_bsdp.so and the two packet steps. The decisions are
// the C core's (hook/responder.h); this class converts Kea packets into a
// struct bsdp_query and applies the struct bsdp_answer to Kea's response.
#ifndef BSDP_IMPL_H
#define BSDP_IMPL_H

#include "bsdp_database.h"
#include "bsdp_ha.h"
#include "bsdp_params.h"
#include "bsdp_state.h"

#include "hook/bindings.h"
#include "hook/catalogue.h"
#include "hook/recent.h"
#include "hook/responder.h"

#include <dhcp/pkt4.h>
#include <hooks/hooks.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace isc {
namespace bsdp {

// Payload bytes of one option-43 instance in our replies. VendorBlocksOption
// writes the core's instances as they are, so the full 255 is usable.
const size_t BSDP_REPLY_BLOCK_SIZE = 255;

typedef std::shared_ptr<const struct bsdp_catalogue> CatalogueConstPtr;

// sets-directory cannot be read now (missing, permissions, not a folder):
// an operational condition that is retried, never a configuration error.
class SetsUnreadable : public std::runtime_error {
public:
    SetsUnreadable(const std::string& dir, const std::string& reason)
        : std::runtime_error("sets-directory '" + dir + "' cannot be read: " + reason),
          reason_(reason) {}
    const std::string& reason() const { return (reason_); }
private:
    std::string reason_;
};

// A command's bad request: answered with result 1 and this text, not
// logged as an error.
class BadArguments : public std::runtime_error {
public:
    explicit BadArguments(const std::string& what) : std::runtime_error(what) {}
};

// bsdp-explain's question: a MAC, and what to assume it sends instead of
// what it last sent.
struct ExplainQuestion {
    uint8_t mac[6] = {0, 0, 0, 0, 0, 0};
    bool has_model = false;
    std::string model;
    bool has_arch = false;
    std::string arch;
    enum { FILTER_REMEMBERED, FILTER_NONE, FILTER_GIVEN } filter = FILTER_REMEMBERED;
    std::vector<uint16_t> filters;
    bool has_message_size = false;
    uint16_t message_size = 0;
};

class Impl {
public:
    // Validates the parameters, checks the responder configuration, scans
    // sets-directory and logs the result. Throws ParamError or
    // std::runtime_error with a message naming the parameter. A
    // sets-directory that cannot be read does not throw: the library
    // starts without a catalogue (available() false; the Reloader retries).
    explicit Impl(const isc::data::ConstElementPtr& params);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    // The snapshot packets use now (never null after construction; empty
    // while !available()).
    CatalogueConstPtr catalogue() const;
    // Publishes a new snapshot, read from sets-directory (so available()
    // from now on); packets in flight keep theirs.
    void publish(struct bsdp_catalogue* fresh);
    // Whether a catalogue was ever read: until then no BSDP query is answered.
    bool available() const { return (available_.load(std::memory_order_acquire)); }
    // Why sets-directory could not be read, while !available().
    std::string setsError() const;
    void setSetsError(const std::string& reason);
    // Scans sets-directory into a new catalogue (logs it); throws
    // SetsUnreadable on an unreadable directory. A set of previous (the
    // catalogue served now, or null) that no longer reads is served on from
    // it, marked stale.
    struct bsdp_catalogue* scan(const struct bsdp_catalogue* previous = nullptr) const;

    // The image index a host reservation pins for this MAC
    // ("user-context": {"bsdp-image": INDEX}), or 0. Logs invalid values.
    // With several, the reservation in the subnet Kea selected wins (its
    // id in *subnet_id; Kea 2.6+ passes it to pkt4_send), then a global
    // one, then the first found; without a subnet (Kea 2.2, the fast
    // path, a packet in no subnet) the first found.
    // With from, it says which reservation the pin came from.
    uint32_t pinnedImage(const uint8_t mac[6], const isc::dhcp::Pkt4Ptr& query,
                         const uint32_t* subnet_id = nullptr, std::string* from = nullptr) const;
    // What the core's pin_lookup callback receives.
    struct PinRequest {
        const Impl* impl;
        const struct bsdp_query* query;
        const isc::dhcp::Pkt4Ptr* packet;
        isc::hooks::CalloutHandle* handle;   // pkt4_send's: the selected subnet
    };
    static uint32_t pinLookup(void* ctx);
    // dhcp4_srv_configured: notes whether any reservation of Kea's new
    // configuration (its "Dhcp4" JSON) pins an image. Kea loads the library
    // afresh for every configuration, so this holds for our lifetime. (When
    // Kea rejects a configuration after loading its libraries, it keeps
    // them, parameters included, beside the old one: this flag is then the
    // rejected configuration's too, until the next successful one.)
    void configured(const isc::data::ConstElementPtr& dhcp4);

    // buffer4_receive: parses a BSDP query itself (status SKIP), without
    // Kea's second parse of option 43, and drops a malformed one.
    void receive(isc::hooks::CalloutHandle& handle, const isc::dhcp::Pkt4Ptr& query) const;
    // Sends a finished reply itself, where Kea does not (the fast path);
    // throws when it could not.
    class Transmit {
    public:
        virtual void operator()(const isc::dhcp::Pkt4Ptr& reply) const = 0;
    protected:
        ~Transmit() = default;
    };
    // pkt4_send: answers BSDP queries (or drops the response). With
    // transmit, the reply goes out through it. A SELECT's binding is
    // recorded only once the reply is whole (and, with transmit, sent).
    void send(isc::hooks::CalloutHandle& handle, const isc::dhcp::Pkt4Ptr& query,
              const isc::dhcp::Pkt4Ptr& response, const Transmit* transmit = nullptr) const;

    // The subsequent boot: a BSDP DISCOVER from a Mac pinned or bound to an
    // image it may still boot gets an OFFER*, built by the core and sent
    // through Kea's interfaces beside whatever Kea answers (nothing about
    // the query or Kea's answer changes; nothing escapes). Counted in
    // bsdp.offers-sent; the binding records the boot. Called at
    // offerStep() only.
    void offer(isc::hooks::CalloutHandle& handle, const isc::dhcp::Pkt4Ptr& query) const;
    OfferStep offerStep() const { return (offer_step_); }
    // load(): where HA lets offer() be called (bsdp_ha.h).
    void setOfferStep(OfferStep step) { offer_step_ = step; }

    // Adds new evictions to bsdp.bindings-evicted; logs the first one with
    // what made it (cause, and the query's MAC when there is one).
    void noteEvictions(const char* cause,
                       const isc::dhcp::Pkt4Ptr& query = isc::dhcp::Pkt4Ptr()) const;

    // bsdp-explain: for every image, whether the Mac is offered it and the
    // one rule that removed it, its LIST's default and selected images and
    // why, what a SELECT of each offered image returns; every skipped set.
    // The answer's arguments, and a text for a person in *text. Throws
    // BadArguments (an unknown MAC without a model, say).
    isc::data::ElementPtr explain(const ExplainQuestion& question, std::string* text) const;

    const Params& params() const { return (params_); }
    struct bsdp_bindings* bindings() const { return (bindings_); }
    // Kea's echo-client-id (RFC 6842) as configured() last saw it.
    bool echoClientId() const { return (echo_client_id_.load(std::memory_order_relaxed)); }

private:
    // Serves an empty catalogue (available() false) and notes why
    // sets-directory could not be read.
    void startWithoutCatalogue(const std::string& reason);
    // The iPXE stage of a non-BSDP query: a ChainURL as the boot file.
    void chainIpxe(const isc::dhcp::Pkt4Ptr& query, const isc::dhcp::Pkt4Ptr& response) const;
    // Counts and logs an answer whose reply is built (may throw: the caller
    // keeps the reply whatever happens here).
    void reportAnswer(const struct bsdp_catalogue* cat, const struct bsdp_query& q,
                      const struct bsdp_answer& ans, const isc::dhcp::Pkt4Ptr& query) const;
    // A BSDP query while no catalogue was ever read: dropped and counted.
    void dropUnavailable(isc::hooks::CalloutHandle& handle, const isc::dhcp::Pkt4Ptr& query) const;
    // Remembers a LIST for bsdp-explain, and with debug logging on logs
    // each image's rule (rules: the responder's, or empty).
    void noteList(const struct bsdp_catalogue* cat, const struct bsdp_query& q,
                  const struct bsdp_answer& ans, const std::vector<uint8_t>& rules,
                  const isc::dhcp::Pkt4Ptr& query, const uint32_t* subnet_id) const;
    // Logs why a pinned index did not become the selected image.
    void explainPin(const struct bsdp_catalogue* cat, const struct bsdp_query& q,
                    const struct bsdp_answer& ans, uint32_t pinned, const isc::dhcp::Pkt4Ptr& query) const;

    // Whether a host lookup may find a pin: false only when configured()
    // found no pin and no host database is in use. Then a LIST skips
    // HostMgr (a lookup costs about as much as the core's whole reply).
    bool pinsPossible() const;

    // Set in load() before any callout runs.
    OfferStep offer_step_ = OfferStep::PKT4_RECEIVE;
    enum PinState { PINS_UNKNOWN, PINS_NONE, PINS_SOME };
    std::atomic<int> pin_state_{PINS_UNKNOWN};
    std::atomic<bool> echo_client_id_{true};   // Kea's default
    mutable std::atomic<uint64_t> evictions_seen_{0};   // published in bsdp.bindings-evicted

    Params params_;
    struct bsdp_responder responder_;
    CatalogueConstPtr catalogue_;     // accessed with std::atomic_load/store
    std::atomic<bool> available_{false};   // set after catalogue_ (release)
    mutable std::mutex sets_error_mutex_;  // the rescan thread writes, commands read
    std::string sets_error_;
    struct bsdp_bindings* bindings_;
    struct bsdp_recent* recent_;       // the last LIST of recent Macs, for bsdp-explain
    std::unique_ptr<StateFile> state_;   // stopped before bindings_ is freed
    std::unique_ptr<BindingsDatabase> database_;   // instead of state_, the same
};

typedef std::shared_ptr<Impl> ImplPtr;

// Whether a query is a DHCPINFORM with option 60 starting "AAPLBSDPC/".
bool isBsdpQuery(const isc::dhcp::Pkt4Ptr& query);

} // namespace bsdp
} // namespace isc

#endif // BSDP_IMPL_H
