// SPDX-License-Identifier: MPL-2.0
// A repeating timer of Kea's TimerMgr: its callback runs on Kea's main
// thread (where StatsMgr may be used without multi-threading's locks).
#ifndef BSDP_TIMER_H
#define BSDP_TIMER_H

#include <dhcpsrv/timer_mgr.h>

#include <functional>
#include <string>

namespace isc {
namespace bsdp {

class MainThreadTimer {
public:
    MainThreadTimer() = default;
    ~MainThreadTimer() { stop(); }
    MainThreadTimer(const MainThreadTimer&) = delete;
    MainThreadTimer& operator=(const MainThreadTimer&) = delete;

    // Calls fn every ms milliseconds until stop(); fn must not throw (what
    // it throws is dropped).
    void start(const std::string& name, long ms, const std::function<void()>& fn) {
        isc::dhcp::TimerMgr::instance()->registerTimer(name, [fn]() {
            try {
                fn();
            } catch (...) {
            }
        }, ms, isc::asiolink::IntervalTimer::REPEATING);
        name_ = name;
        isc::dhcp::TimerMgr::instance()->setup(name_);
    }

    void stop() {
        if (name_.empty()) {
            return;
        }
        try {
            // Kea removes every timer itself before a reconfiguration.
            isc::dhcp::TimerMgr::instance()->unregisterTimer(name_);
        } catch (...) {
        }
        name_.clear();
    }

private:
    std::string name_;   // empty: not running
};

} // namespace bsdp
} // namespace isc

#endif // BSDP_TIMER_H
