// SPDX-License-Identifier: MPL-2.0
// Kea's rule for the files the library writes (kea_compat.h, "Files the
// library writes"). A translation unit of its own, with no packet code, so
// that kea-bsdp-check links the same rule the library applies.
#include "kea_compat.h"

#include <cstdlib>

#if BSDP_KEA_DATA_PATH_CHECK
#if BSDP_KEA_VERSION >= 30000
// 3.0's cfgmgr.h pulls in asiolink/crypto_tls.h, which needs Kea's config.h.
#include <config.h>
#endif
#include <dhcpsrv/cfgmgr.h>
#endif

namespace isc {
namespace bsdp {
namespace kea_compat {

#if BSDP_KEA_DATA_PATH_CHECK
std::string
dataDir() {
    return (isc::dhcp::CfgMgr::instance().getDataDir());
}

std::string
dataFilePath(const std::string& path) {
    return (isc::dhcp::CfgMgr::instance().validatePath(path));
}

void
useDataDir(const std::string& dir) {
    // getDataDir(reset, explicit_path): the documented way to set it.
    isc::dhcp::CfgMgr::instance().getDataDir(true, dir);
}
#else
std::string
dataDir() {
    // 2.2's own data directory has no variable; the one later versions
    // read (KEA_DHCP_DATA_DIR) is honoured here too, so that tests and a
    // second server on the host can keep our files in a folder of theirs.
    const char* dir = std::getenv("KEA_DHCP_DATA_DIR");
    return (dir && *dir ? dir : "/var/lib/kea");
}

std::string
dataFilePath(const std::string& path) {
    return (path);
}

void
useDataDir(const std::string&) {
}
#endif

} // namespace kea_compat
} // namespace bsdp
} // namespace isc
