// SPDX-License-Identifier: MPL-2.0
// The largest DHCP message a query's link carries unfragmented, cached per
// interface.
#include "bsdp_mtu.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>

using isc::dhcp::Pkt4Ptr;

namespace isc {
namespace bsdp {

namespace {

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

} // namespace

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

} // namespace bsdp
} // namespace isc
