# kea-bsdp: one non-recursive Makefile. Paths are overridable:
#   make KEA_INCLUDE=... KEA_LIBDIR=... HOOKS_DIR=... BUILD=... PREFIX=... SANITIZE=1
# KEA_LIBDIR (default: the linker's own path) is searched first, no rpath.
BUILD       ?= build
PREFIX      ?= /usr/local
DESTDIR     ?=
KEA_INCLUDE ?= /usr/include/kea
KEA_LIBDIR  ?=
HOOKS_DIR   ?= /usr/lib/x86_64-linux-gnu/kea/hooks
SANITIZE    ?= 0
CC          ?= cc
CXX         ?= g++
PYTHON      ?= /usr/bin/python3

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
CXXFLAGS ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -I.
ALL_CFLAGS   = -std=c11 $(WARN) -fPIC $(CFLAGS)
ALL_CXXFLAGS = -std=gnu++17 $(WARN) -fPIC $(CXXFLAGS)
ifeq ($(SANITIZE),thread)
SAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
ALL_CFLAGS   += $(SAN_FLAGS)
LDFLAGS      += $(SAN_FLAGS)
endif
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ALL_CFLAGS   += $(SAN_FLAGS)
ALL_CXXFLAGS += $(SAN_FLAGS)
LDFLAGS      += $(SAN_FLAGS)
endif

PLIST_CFLAGS := $(shell pkg-config --cflags libplist-2.0 2>/dev/null)
PLIST_LIBS   := $(shell pkg-config --libs libplist-2.0 2>/dev/null || echo -lplist-2.0)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

HOOK_SRC  := $(sort $(wildcard hook/*.c))
STORE_SRC := $(sort $(wildcard store/*.c))
PLIST_SRC := $(sort $(wildcard plist/*.c))
TOOLS_LIB_SRC := $(sort $(wildcard tools/lib/*.c))
MIGRATE_SRC := $(sort $(wildcard tools/migrate/*.c))
UNIT_SRC  := $(sort $(wildcard test/unit/check_*.c))

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
CORE_LIB  := $(BUILD)/libbsdp_core.a
# store/: the state file and the PostgreSQL store (I/O), over the core.
STORE_LIB := $(BUILD)/libbsdp_store.a
PLIST_LIB := $(BUILD)/libbsdp_plist.a
TOOLS_LIB := $(BUILD)/libbsdp_tools.a
# kea-bsdp-migrate's reader of dhcpd.conf (tools/migrate/), over the codec.
MIGRATE_LIB := $(BUILD)/libbsdp_migrate.a
KEA_BSDP_MIGRATE := $(BUILD)/kea-bsdp-migrate
BSDPC     := $(BUILD)/bsdpc
UNIT_BINS := $(patsubst test/unit/%.c,$(BUILD)/test/%,$(UNIT_SRC))
BENCH     := $(BUILD)/bench_list
FUZZ_TARGETS := $(patsubst test/fuzz/fuzz_%.c,%,$(sort $(wildcard test/fuzz/fuzz_*.c)))
FUZZ_REPLAY  := $(patsubst %,$(BUILD)/test/replay_%,$(FUZZ_TARGETS))
FUZZ_TIME    ?= 60

.PHONY: all check unit unit-private unit-build unit-asan unit-tsan deps deps-test demo bench fuzz lint install clean
all: $(CORE_LIB) $(STORE_LIB) $(PLIST_LIB) $(if $(wildcard tools/bsdpc.c),$(BSDPC)) $(KEA_BSDP_MIGRATE)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(PLIST_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

# libpq for the shared bindings store; its schema is compiled in from the
# same .sql file a DBA may run.
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
PQ_LIBS   := $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)
$(BUILD)/store/bindings_pg.o: ALL_CFLAGS += $(PQ_CFLAGS) -I$(BUILD)
$(BUILD)/store/bindings_pg.o: $(BUILD)/store/bindings_pg_schema.h
$(BUILD)/store/pg_probe.o: ALL_CFLAGS += $(PQ_CFLAGS)
$(BUILD)/store/bindings_pg_schema.h: store/bindings_pg.sql
	@mkdir -p $(dir $@)
	{ echo '/* Generated from $< by the Makefile: do not edit. */'; \
	  echo '#define BSDP_PG_SCHEMA \'; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/\\n" \\/' $<; \
	  printf '\t""\n'; } >$@

$(CORE_LIB): $(call obj,$(HOOK_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(STORE_LIB): $(call obj,$(STORE_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(PLIST_LIB): $(call obj,$(PLIST_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(TOOLS_LIB): $(call obj,$(TOOLS_LIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(MIGRATE_LIB): $(call obj,$(MIGRATE_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BSDPC): $(call obj,tools/bsdpc.c) $(TOOLS_LIB) $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^
# The fragment it writes names the hook where `make install` puts it.
$(BUILD)/tools/kea_bsdp_migrate.o: CPPFLAGS += -DBSDP_HOOKS_DIR='"$(HOOKS_DIR)"'
$(KEA_BSDP_MIGRATE): $(call obj,tools/kea_bsdp_migrate.c) $(MIGRATE_LIB) $(PLIST_LIB) $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PLIST_LIBS)

$(BUILD)/test/check_%: $(call obj,test/unit/check_%.c) $(TOOLS_LIB) $(MIGRATE_LIB) $(PLIST_LIB) $(STORE_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PLIST_LIBS) $(CHECK_LIBS) $(PQ_LIBS) -lpthread

# The shared bindings store against a real PostgreSQL server of its own
# (test/pg/with-postgres.sh), plain, under ASan+UBSan and under TSan.
PG_TEST := $(BUILD)/test/check_bindings_pg
$(BUILD)/test/pg/check_bindings_pg.o: ALL_CFLAGS += $(PQ_CFLAGS) -I$(BUILD)
$(BUILD)/test/pg/check_bindings_pg.o: $(BUILD)/store/bindings_pg_schema.h
$(PG_TEST): $(call obj,test/pg/check_bindings_pg.c) $(STORE_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PQ_LIBS) -lpthread
.PHONY: pg-test
pg-test:
	$(MAKE) --no-print-directory $(PG_TEST)
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SANITIZE=1 $(BUILD)/asan/test/check_bindings_pg
	$(MAKE) --no-print-directory BUILD=$(BUILD)/tsan SANITIZE=thread $(BUILD)/tsan/test/check_bindings_pg
	test/pg/with-postgres.sh sh -ec 'for b in $(BUILD) $(BUILD)/asan $(BUILD)/tsan; do \
		echo "== $$b/test/check_bindings_pg"; \
		CK_FORK=no TSAN_OPTIONS=halt_on_error=1 timeout 600 $$b/test/check_bindings_pg; done'

$(BENCH): $(call obj,test/bench/bench_list.c) $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -ldl
# MAC lists for the bench's collide rows (bsdp-load --mac-file).
BENCH_MACS := $(BUILD)/bench_macs
$(BENCH_MACS): $(call obj,test/bench/bench_macs.c)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

# A fuzz target linked with a plain main() that replays its corpus.
$(BUILD)/test/replay_%: $(call obj,test/fuzz/fuzz_%.c) $(call obj,test/fuzz/replay.c) $(MIGRATE_LIB) $(PLIST_LIB) $(STORE_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PLIST_LIBS) $(PQ_LIBS) -lpthread

# libFuzzer with clang: each target for FUZZ_TIME seconds; crashes land in
# its corpus folder (commit them: make check replays every file there).
fuzz:
	@mkdir -p $(BUILD)/fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
		clang -std=c11 -g -O1 -D_GNU_SOURCE -I. $(PLIST_CFLAGS) \
			-fsanitize=fuzzer,address,undefined -o $(BUILD)/fuzz/$$t \
			test/fuzz/fuzz_$$t.c $(HOOK_SRC) store/state_file.c $(PLIST_SRC) $(MIGRATE_SRC) $(PLIST_LIBS) -lpthread; \
		mkdir -p $(BUILD)/fuzz/work_$$t; \
		$(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			-artifact_prefix=test/fuzz/corpus/$$t/crash- \
			$(BUILD)/fuzz/work_$$t test/fuzz/corpus/$$t 2>&1 | \
			grep -E '^(stat::number_of_executed_units|==|SUMMARY)' | sed "s/^/$$t: /"; \
	done

# The Debian packages (root, apt) the build needs (make, make install): a
# production host gets no test tool. deps-test adds what make check, make
# demo and the bench need.
deps:
	@sh tools/install-deps.sh build
deps-test:
	@sh tools/install-deps.sh test

# Every unit suite runs from the source tree so fixtures resolve; Check
# prints its own summary line per suite.
unit-build: $(UNIT_BINS) $(FUZZ_REPLAY) $(if $(wildcard tools/bsdpc.c),$(BSDPC))
# UNIT_FORK=no runs a suite's tests in one process: Check's per-test
# timeouts need fork mode, so timeout(1) bounds each suite either way.
UNIT_FORK ?= yes
unit: unit-build
	@set -e; for t in $(UNIT_BINS); do \
		echo "== $$t"; CK_FORK=$(UNIT_FORK) BSDPC=$(abspath $(BSDPC)) timeout 600 $$t; done
	@$(MAKE) --no-print-directory unit-private
	@set -e; for t in $(FUZZ_TARGETS); do \
		$(BUILD)/test/replay_$$t test/fuzz/corpus/$$t/*; done

# The suite that drops privileges (check_nbi_scan reads its fixtures as
# nobody) again as if the clone sat in a folder only root may enter, as
# root's home is: from a tree with build/ inside a 0700 mktemp folder. What
# it hands to nobody must live outside the clone.
unit-private: $(BUILD)/test/check_nbi_scan
	@d=$$(mktemp -d /tmp/kea-bsdp-private.XXXXXX) && trap 'rm -rf "$$d"' EXIT && \
	chmod 0700 "$$d" && mkdir -p "$$d/clone/build" "$$d/clone/test" && \
	ln -s $(abspath test/fixtures) "$$d/clone/test/fixtures" && \
	echo "== $(BUILD)/test/check_nbi_scan in $$d/clone (0700 above it)" && \
	cd "$$d/clone" && CK_FORK=$(UNIT_FORK) timeout 600 $(abspath $(BUILD)/test/check_nbi_scan)

# Under ASan each forked test pays for the fork and for a LeakSanitizer pass
# at its exit (check_nbi_scan: 36 s against 2 s in one process), so here
# the tests share one process and leaks are checked once, at its exit; the
# plain run above keeps every test in its own process.
unit-asan:
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SANITIZE=1 UNIT_FORK=no unit

# The shared-state suites (concurrency, bindings table, state writer) again
# under ThreadSanitizer.
TSAN_SUITES := check_concurrency check_bindings check_state_file check_recent
unit-tsan:
	$(MAKE) --no-print-directory BUILD=$(BUILD)/tsan SANITIZE=thread \
		$(patsubst %,$(BUILD)/tsan/test/%,$(TSAN_SUITES))
	@set -e; for t in $(TSAN_SUITES); do \
		CK_FORK=no TSAN_OPTIONS=halt_on_error=1 timeout 600 $(BUILD)/tsan/test/$$t; done

# Everything is built first, CHECK_JOBS compilers at a time (the sub-makes
# below would otherwise compile one file at a time), then the suites run;
# the two integration targets side by side (their suites mostly wait).
CHECK_JOBS ?= 2
check: deps-test
	$(MAKE) --no-print-directory docs-check
	$(MAKE) --no-print-directory -j$(CHECK_JOBS) all unit-build $(SHIM_TEST) man html
	$(MAKE) --no-print-directory tools-test
	$(MAKE) --no-print-directory -j$(CHECK_JOBS) BUILD=$(BUILD)/asan SANITIZE=1 unit-build \
		$(BUILD)/asan/libdhcp_bsdp.so
	$(MAKE) --no-print-directory -j$(CHECK_JOBS) BUILD=$(BUILD)/tsan SANITIZE=thread \
		$(patsubst %,$(BUILD)/tsan/test/%,$(TSAN_SUITES))
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory unit-asan
	$(MAKE) --no-print-directory unit-tsan
	$(MAKE) --no-print-directory pg-test
	$(MAKE) --no-print-directory -j$(CHECK_JOBS) integration integration-sanitized
	@echo "make check: all suites passed"

# Everything that prints numbers: the C core alone and kea-dhcp4 (with and
# without the hook, multi-threaded) against ISC dhcpd, in one table.
bench: bench-net

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 -I. hook store plist tools

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------
# libdhcp_bsdp.so (the Kea hook: shim/ C++ over the C core), its tests,
# integration tests with a real kea-dhcp4, the demo and installation.
# ---------------------------------------------------------------------------
# shim/kea_bsdp_check.cc is a program of its own (kea-bsdp-check), not the library.
SHIM_SRC    := $(filter-out shim/kea_bsdp_check.cc,$(sort $(wildcard shim/*.cc)))
SHIM_OBJ    := $(patsubst %.cc,$(BUILD)/%.o,$(SHIM_SRC))
HOOK_SO     := $(BUILD)/libdhcp_bsdp.so
# The Kea built against: KEA_HOOKS_VERSION of its hooks/hooks.h (a const
# int, not a macro), e.g. 20200, 20603, 30004; shim/kea_compat.h uses it.
# An error only when something C++ is built, so the C parts build without Kea.
KEA_VERSION := $(shell sed -n 's/^const int KEA_HOOKS_VERSION = \([0-9][0-9]*\);.*/\1/p' \
                 $(KEA_INCLUDE)/hooks/hooks.h 2>/dev/null)
kea_version_required = $(if $(KEA_VERSION),,$(error no KEA_HOOKS_VERSION in \
                 $(KEA_INCLUDE)/hooks/hooks.h: install kea-dev or set KEA_INCLUDE))
# Kea 3.0 renamed libkea-dhcp++ to libkea-dhcp.
KEA_DHCP_LIB := $(if $(filter 1,$(shell test 0$(KEA_VERSION) -ge 30000 && echo 1)),kea-dhcp,kea-dhcp++)
KEA_LIBS    := $(if $(KEA_LIBDIR),-L$(KEA_LIBDIR)) -lkea-dhcpsrv -l$(KEA_DHCP_LIB) -lkea-hooks \
               -lkea-log -lkea-stats -lkea-cc -lkea-asiolink -lkea-util -lkea-exceptions -lkea-process
# The library (kea_compat_files), the shim test and kea-bsdp-check include
# dhcpsrv/cfgmgr.h, which from 3.0 pulls in Boost.Asio's OpenSSL code.
KEA_SSL_LIBS := $(if $(filter kea-dhcp,$(KEA_DHCP_LIB)),-lssl -lcrypto)
# With KEA_LIBDIR, a library missing there would be taken from the system's
# Kea (another release) without a word: refuse that.
kea_libdir_check = $(if $(KEA_LIBDIR),$(foreach l,$(patsubst -l%,lib%.so,$(filter -l%,$(KEA_LIBS))),\
                 $(if $(wildcard $(KEA_LIBDIR)/$(l)),,$(error $(KEA_LIBDIR)/$(l) is missing))))
KEA_CPPFLAGS = -isystem $(KEA_INCLUDE) -DBSDP_KEA_VERSION=$(KEA_VERSION)
# Kea's headers are system headers (untracked by -MMD): the C++ objects
# depend on this stamp instead, rewritten when the Kea built against changes.
KEA_STAMP := $(BUILD)/kea.stamp
KEA_STAMP_TEXT := $(strip $(KEA_VERSION) $(KEA_INCLUDE) $(KEA_LIBDIR))
ifneq ($(KEA_STAMP_TEXT),$(shell cat $(KEA_STAMP) 2>/dev/null))
$(shell mkdir -p $(BUILD) && echo "$(KEA_STAMP_TEXT)" >$(KEA_STAMP))
endif
SHIM_TEST   := $(BUILD)/test/shim_test

.PHONY: shim-messages shim-test integration integration-sanitized
all: $(HOOK_SO)

$(BUILD)/shim/%.o: shim/%.cc $(KEA_STAMP)
	@mkdir -p $(dir $@)$(kea_version_required)
	$(CXX) $(CPPFLAGS) $(KEA_CPPFLAGS) $(ALL_CXXFLAGS) -MMD -MP -c -o $@ $<

$(HOOK_SO): $(SHIM_OBJ) $(PLIST_LIB) $(STORE_LIB) $(CORE_LIB)
	$(CXX)$(kea_libdir_check) $(ALL_CXXFLAGS) -shared -Wl,--no-undefined -Wl,--exclude-libs,ALL $(LDFLAGS) -o $@ $(SHIM_OBJ) \
		$(PLIST_LIB) $(STORE_LIB) $(CORE_LIB) $(KEA_LIBS) $(KEA_SSL_LIBS) -lplist-2.0 $(PQ_LIBS) -lpthread

# Regenerates the committed message catalogue (Debian has no kea-msg-compiler).
shim-messages:
	$(PYTHON) tools/mes2cc.py shim/bsdp_messages.mes shim

# The log message reference: generated from the .mes file and the LOG_ calls
# (their severity), committed, and checked by make check so it never lags.

.PHONY: docs docs-check
MES2MD_ARGS = shim/bsdp_messages.mes docs/log-messages.md $(wildcard shim/*.cc)
docs:
	$(PYTHON) tools/mes2md.py $(MES2MD_ARGS)
# test_docs.py: every message, parameter, plist key, command and statistic
# the code has is in the manual's tables (docs/configuration.md,
# commands.md, statistics.md, log-messages.md), and every relative link and
# #anchor resolves; test_links.py shows that link check failing.
docs-check:
	$(PYTHON) tools/mes2md.py --check $(MES2MD_ARGS)
	$(PYTHON) test/docs/test_docs.py
	$(PYTHON) test/docs/test_links.py

$(BUILD)/test/shim/%.o: test/shim/%.cc $(KEA_STAMP)
	@mkdir -p $(dir $@)$(kea_version_required)
	$(CXX) $(CPPFLAGS) $(KEA_CPPFLAGS) $(ALL_CXXFLAGS) -MMD -MP -c -o $@ $<

# Loads the built .so through Kea's HooksManager and packs real Pkt4s.
# It sets Kea's data directory through kea_compat_files (useDataDir).
$(SHIM_TEST): $(BUILD)/test/shim/shim_test.o $(BUILD)/shim/kea_compat_files.o $(STORE_LIB) $(CORE_LIB) $(HOOK_SO)
	$(CXX)$(kea_libdir_check) $(ALL_CXXFLAGS) $(LDFLAGS) -o $@ $(BUILD)/test/shim/shim_test.o \
		$(BUILD)/shim/kea_compat_files.o $(STORE_LIB) $(CORE_LIB) $(KEA_LIBS) $(KEA_SSL_LIBS) -lpthread

shim-test: $(SHIM_TEST) $(HOOK_SO)
	$(SHIM_TEST) $(abspath $(HOOK_SO))

# kea-bsdp-check CONFIG: loads the hook with the configuration's parameters
# through Kea's HooksManager (kea-dhcp4 -t never calls load()).
KEA_BSDP_CHECK := $(BUILD)/kea-bsdp-check
all: $(KEA_BSDP_CHECK)

# It parses the parameters and applies Kea's file rule as the library does
# (bsdp_params, kea_compat_files) and probes bindings-database read-only.
KEA_BSDP_CHECK_OBJ := $(patsubst %,$(BUILD)/shim/%.o,kea_bsdp_check bsdp_params kea_compat_files)
$(KEA_BSDP_CHECK): $(KEA_BSDP_CHECK_OBJ) $(STORE_LIB) $(CORE_LIB)
	$(CXX)$(kea_libdir_check) $(ALL_CXXFLAGS) $(LDFLAGS) -o $@ $^ $(KEA_LIBS) $(KEA_SSL_LIBS) \
		$(PQ_LIBS) -ldl -lpthread

# Real kea-dhcp4 processes in network namespaces (root).
# With SANITIZE=1 (and its own BUILD, e.g. BUILD=build/asan) the hook is
# built with ASan+UBSan and kea-dhcp4 runs with the runtime preloaded.
SAN_PRELOAD = $(if $(filter 1,$(SANITIZE)),BSDP_SANITIZER_PRELOAD=$$($(CC) -print-file-name=libasan.so))

# Each suite runs kea-dhcp4 with its version's default threading (on from
# 2.4), run.py also single-threaded. From 2.6.3 the tests' kea-dhcp4 sees
# this build as the installed hook (test/integration/bsdpnet.py: with_hook).
# The suites run side by side (each makes its own PID-tagged namespaces);
# parallel.py prints each one's output whole when it ends and fails when
# any fails. Their logs stay in $(BUILD)/integration-logs. INTEGRATION_JOBS=N
# runs at most N at once (0: all). test_migrate.py runs ISC dhcpd beside
# kea-dhcp4 (kea-bsdp-migrate's proof): where the release has
# isc-dhcp-server (bookworm, trixie) a missing dhcpd fails it; where it has
# none (sid, in make check-kea) its two side-by-side tests print SKIP and
# its closing line counts them.
HOOK_ARGS = --hook $(abspath $(HOOK_SO)) --bsdpc $(abspath $(BSDPC))
INTEGRATION_JOBS ?= 0
integration: $(HOOK_SO) $(BSDPC) $(SHIM_TEST) $(KEA_BSDP_CHECK) $(KEA_BSDP_MIGRATE)
	$(SHIM_TEST) $(abspath $(HOOK_SO))
	$(SAN_PRELOAD) $(PYTHON) test/integration/parallel.py --jobs $(INTEGRATION_JOBS) \
		--logs $(BUILD)/integration-logs -- \
		"$(PYTHON) test/integration/test_robustness.py $(HOOK_ARGS)" \
		"$(PYTHON) test/integration/test_bindings.py $(HOOK_ARGS)" \
		"$(PYTHON) test/integration/test_offer.py $(HOOK_ARGS)" \
		"test/pg/with-postgres.sh $(PYTHON) test/integration/test_bindings_db.py $(HOOK_ARGS)" \
		"test/pg/with-postgres.sh $(PYTHON) test/integration/test_ha.py $(HOOK_ARGS)" \
		"test/pg/with-postgres.sh $(PYTHON) test/integration/test_load.py $(HOOK_ARGS)" \
		"$(PYTHON) test/integration/run.py $(HOOK_ARGS)" \
		"$(PYTHON) test/integration/run.py --single-threaded $(HOOK_ARGS)" \
		"$(PYTHON) test/integration/run.py --fast-path $(HOOK_ARGS)" \
		"$(PYTHON) test/integration/test_examples.py $(HOOK_ARGS)" \
		"$(PYTHON) test/integration/test_add_to_existing.py $(HOOK_ARGS)" \
		"$(PYTHON) test/integration/test_install.py $(HOOK_ARGS)" \
		"test/pg/with-postgres.sh $(PYTHON) test/integration/test_config_check.py $(HOOK_ARGS)" \
		"$(PYTHON) test/integration/test_sets_unavailable.py $(HOOK_ARGS)" \
		"$(PYTHON) test/integration/test_migrate.py $(HOOK_ARGS)" \
		"$(PYTHON) test/integration/test_explain.py $(HOOK_ARGS)"

# A short scenario with the ASan+UBSan hook inside a real kea-dhcp4.
integration-sanitized: $(BSDPC)
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SANITIZE=1 $(BUILD)/asan/libdhcp_bsdp.so
	BSDP_SANITIZER_PRELOAD=$$($(CC) -print-file-name=libasan.so) $(PYTHON) test/integration/parallel.py \
		--logs $(BUILD)/integration-logs/sanitized -- \
		"$(PYTHON) test/integration/sanitized.py --hook $(abspath $(BUILD)/asan/libdhcp_bsdp.so) --bsdpc $(abspath $(BSDPC))" \
		"$(PYTHON) test/integration/sanitized.py --fast-path --hook $(abspath $(BUILD)/asan/libdhcp_bsdp.so) --bsdpc $(abspath $(BSDPC))"

# Installs what is missing, builds, and runs a real kea-dhcp4 + bsdpc (root).
demo: deps-test
	@sh examples/demo.sh

# install: the hook, bsdpc, kea-bsdp-check and kea-bsdp-migrate, their man
# pages and kea-bsdp(7) (make man, so Sphinx), the AppArmor override for
# Debian's kea-dhcp4 profile and the state directory (tools/install-local.sh).
# kea-bsdp-check goes in once a rule sets KEA_BSDP_CHECK to its build output
# (expanded at run time, so that rule may come later in this file).
SETS_DIR     ?= /srv/netboot/sets
STATE_DIR    ?= /var/lib/kea
KEA_USER     ?= _kea
APPARMOR_DIR ?= /etc/apparmor.d
INSTALL_ENV   = DESTDIR="$(DESTDIR)" SETS_DIR="$(SETS_DIR)" STATE_DIR="$(STATE_DIR)" \
                KEA_USER="$(KEA_USER)" APPARMOR_DIR="$(APPARMOR_DIR)" HOOKS_DIR="$(HOOKS_DIR)"
.PHONY: uninstall
install: $(HOOK_SO) $(BSDPC) $(KEA_BSDP_MIGRATE)
	$(if $(KEA_BSDP_CHECK),$(MAKE) --no-print-directory $(KEA_BSDP_CHECK))
	install -d $(DESTDIR)$(HOOKS_DIR) $(DESTDIR)$(PREFIX)/bin
	install -m 0644 $(HOOK_SO) $(DESTDIR)$(HOOKS_DIR)/libdhcp_bsdp.so
	install -m 0755 $(BSDPC) $(DESTDIR)$(PREFIX)/bin/bsdpc
	install -m 0755 $(KEA_BSDP_MIGRATE) $(DESTDIR)$(PREFIX)/bin/kea-bsdp-migrate
	$(if $(KEA_BSDP_CHECK),install -m 0755 $(KEA_BSDP_CHECK) $(DESTDIR)$(PREFIX)/bin/kea-bsdp-check)
	$(MAKE) --no-print-directory man
	@set -e; for p in $(MAN_PAGES); do s=$${p##*.}; \
		install -d $(DESTDIR)$(MANDIR)/man$$s; \
		echo "install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/"; install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/; done
	$(INSTALL_ENV) sh tools/install-local.sh install

uninstall:
	rm -f $(DESTDIR)$(HOOKS_DIR)/libdhcp_bsdp.so $(DESTDIR)$(PREFIX)/bin/bsdpc \
		$(DESTDIR)$(PREFIX)/bin/kea-bsdp-check $(DESTDIR)$(PREFIX)/bin/kea-bsdp-migrate \
		$(foreach p,$(MAN_PAGES),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(notdir $(p)))
	$(INSTALL_ENV) sh tools/install-local.sh uninstall

# ---------------------------------------------------------------------------
# bsdp-load (BSDP load generator) and bench-net: kea-dhcp4 without/with the
# hook, multi-threaded, ISC dhcpd and the C core side by side (root, netns).
# ---------------------------------------------------------------------------
BSDP_LOAD := $(BUILD)/bsdp-load

.PHONY: bench-net tools-test
all: $(BSDP_LOAD)

$(BSDP_LOAD): $(call obj,tools/bsdp_load.c) $(TOOLS_LIB) $(CORE_LIB)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lm

# The tools' --help and usage errors, and that `make deps` (the build set)
# installs no test-only package on a fresh machine (apt's simulation).
# kea-bsdp-migrate on both seed shapes, its fragment loaded by kea-bsdp-check
# with this build's hook (from Kea 2.6.3 seen as the installed one: root).
tools-test: $(BSDPC) $(BSDP_LOAD) $(KEA_BSDP_CHECK) $(KEA_BSDP_MIGRATE) $(HOOK_SO)
	$(PYTHON) test/tools_help_test.py $(BUILD)
	$(PYTHON) test/migrate/test_migrate_tool.py --build $(BUILD)
	$(PYTHON) test/deps_test.py

# The hook is built if it can be; the script marks its rows n/a otherwise.
# Under a throwaway PostgreSQL server for the bindings-database rows.
bench-net: deps-test $(BSDP_LOAD) $(BENCH) $(BENCH_MACS)
	-@$(MAKE) --no-print-directory $(HOOK_SO)
	BSDP_LOAD=$(abspath $(BSDP_LOAD)) BENCH_LIST=$(abspath $(BENCH)) BENCH_MACS=$(abspath $(BENCH_MACS)) \
		HOOK_SO=$(abspath $(HOOK_SO)) sh test/pg/with-postgres.sh bash test/bench/bench_net.sh

# ---------------------------------------------------------------------------
# Other Kea releases, each in a Debian chroot (tools/kea-chroot.sh; root,
# deb.debian.org): trixie has Kea 2.6.3, sid Kea 3.0.4. kea-chroots creates
# or refreshes them (cached under KEA_CHROOT_DIR, default
# /var/cache/kea-bsdp/chroots); check-kea-build builds a copy of this tree in
# each with -Werror and runs the unit and shim tests there; check-kea runs
# the whole `make check` in each, from a clean build folder (the chroots are
# shared between trees). Nothing stays mounted: each command runs in its own
# mount namespace (tools/kea-chroot.sh).
# ---------------------------------------------------------------------------
KEA_RELEASES ?= trixie sid

.PHONY: kea-chroots check-kea-build check-kea
kea-chroots:
	@set -e; for r in $(KEA_RELEASES); do sh tools/kea-chroot.sh create $$r; done

check-kea-build:
	@set -e; for r in $(KEA_RELEASES); do echo "== $$r"; \
		sh tools/kea-chroot.sh run $$r 'rm -rf build && make -j2 all && make unit && make shim-test'; done

check-kea:
	@set -e; for r in $(KEA_RELEASES); do echo "== make check against $$r's Kea"; \
		sh tools/kea-chroot.sh run $$r 'rm -rf build && kea-dhcp4 -v && make check'; done
	@echo "make check-kea: all suites passed on $(KEA_RELEASES)"

# The bench's rows per Kea version (docs/performance.md's table): each version's
# default threading, and ISC dhcpd where the release has it.
BENCH_KEA_ROWS ?= default dhcpd
.PHONY: bench-kea
bench-kea:
	@set -e; for r in $(KEA_RELEASES); do echo "== make bench against $$r's Kea"; \
		sh tools/kea-chroot.sh run $$r 'rm -rf build && make bench BENCH_ROWS="$(BENCH_KEA_ROWS)"'; done

# ---------------------------------------------------------------------------
# The manual (docs/, see docs/development.md) as man pages and HTML, both
# built by Sphinx with MyST from the same Markdown (docs/conf.py), offline,
# -W: a warning such as a link Sphinx cannot resolve fails the build.
# man: one page per docs/man/NAME.SECTION.md, in $(MAN_DIR); html: the whole
# manual in $(HTML_DIR) (index.html).
# deb: the package for the Kea of this machine, with Debian's tools; it lands
# in .. as dpkg-buildpackage does (needs debhelper and the build
# dependencies of debian/control: `apt-get build-dep ./`).
# check-deb: for each of DEB_RELEASES, builds the package in a clean chroot,
# runs lintian, and installs, runs and purges it in a fresh one
# (test/package/check-deb.sh; root).
# ---------------------------------------------------------------------------
MAN_DIR   := $(BUILD)/man
HTML_DIR  := $(BUILD)/html
MAN_PAGES := $(patsubst docs/man/%.md,$(MAN_DIR)/%,$(wildcard docs/man/*.[1-9].md))
MANDIR    ?= $(PREFIX)/share/man
SPHINX_BUILD ?= sphinx-build
DOC_SOURCES := docs/conf.py $(wildcard docs/*.md docs/man/*.md examples/*/README.md) debian/changelog
PKG_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
DEB_RELEASES ?= bookworm trixie sid
# -c docs: the source is the whole tree (docs/conf.py includes only docs/
# and the examples' READMEs), so the manual may link the examples.
sphinx = $(SPHINX_BUILD) -W --keep-going -q -b $(1) -c docs -d $(BUILD)/doctrees-$(1) . $(2)

.PHONY: man html deb check-deb
man: $(BUILD)/man.stamp
html: $(BUILD)/html.stamp

# Each page is then set 80 columns wide, as man and lintian read it; any
# groff warning (a table too wide, a line it cannot break) fails the build.
$(BUILD)/man.stamp: $(DOC_SOURCES)
	@mkdir -p $(BUILD)
	rm -rf $(MAN_DIR)
	$(call sphinx,man,$(MAN_DIR))
	@for p in $(MAN_DIR)/*.[1-9]; do \
		w=$$(preconv -e UTF-8 $$p | tbl | groff -man -Tutf8 -ww -rLL=80n -rLT=80n -z 2>&1); \
		if [ -n "$$w" ]; then echo "$$p set 80 columns wide:"; echo "$$w" | head -20; exit 1; fi; \
	done
	@touch $@

$(BUILD)/html.stamp: $(DOC_SOURCES)
	@mkdir -p $(BUILD)
	rm -rf $(HTML_DIR)
	$(call sphinx,html,$(HTML_DIR))
	@touch $@

deb:
	dpkg-buildpackage -us -uc -b

check-deb:
	@set -e; for r in $(DEB_RELEASES); do sh test/package/check-deb.sh $$r; done
	@echo "make check-deb: built, linted, installed, tested and purged on $(DEB_RELEASES)"
