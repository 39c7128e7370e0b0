// SPDX-License-Identifier: MPL-2.0
// The one place where kea-bsdp's C++ depends on which Kea it is built
// against. Kea installs no numeric version macro (KEA_HOOKS_VERSION is a
// const int, unusable in #if), so the Makefile reads it from hooks/hooks.h
// and passes it on as BSDP_KEA_VERSION (20200 for 2.2.0, 20603 for 2.6.3,
// 30004 for 3.0.4). Everything else in shim/ and test/shim/ compiles
// unchanged on 2.2 to 3.0; what differs goes here, not behind #if elsewhere.
#ifndef BSDP_KEA_COMPAT_H
#define BSDP_KEA_COMPAT_H

#include <cc/data.h>
#include <hooks/hooks.h>
#include <hooks/libinfo.h>

#include <string>

#ifndef BSDP_KEA_VERSION
#error "BSDP_KEA_VERSION is not set: build with the Makefile, which reads it from hooks/hooks.h"
#endif

// A -D from one Kea and headers from another would build a library Kea
// refuses (version() must match) or that crashes. (hooks.h declares
// KEA_HOOKS_VERSION in an anonymous namespace, hence unqualified.)
static_assert(BSDP_KEA_VERSION == KEA_HOOKS_VERSION,
              "BSDP_KEA_VERSION differs from the KEA_HOOKS_VERSION of the headers in use");

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

} // namespace kea_compat
} // namespace bsdp
} // namespace isc

#endif
