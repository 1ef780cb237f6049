# stubwatch — one non-recursive Makefile.
#
#   make               build build/stubwatch and the tools (generator, floor)
#   make check         unit tests, fuzz-corpus replay under ASan+UBSan,
#                      pcap regression cases, ECS conformance, integration, service and web tests,
#                      corpus conformance (when ../shared/corpus exists)
#   make bench         throughput and memory on a generated capture vs a libpcap floor
#   make demo          generate the demo capture and replay it
#   make deps          install the Debian packages (apt-get; sudo when not root)
#   make deb           build the Debian package into build/deb/
#   make install / uninstall / clean
#
# Variables: CC CFLAGS LDFLAGS PREFIX SYSCONFDIR DESTDIR; B=DIR builds there (build/);
# SANITIZE=address,undefined builds into $(B)-san/ (build-san/), whatever B
# says, SANITIZE=thread into $(B)-tsan/; WERROR=1 turns warnings into
# errors; V=1 is verbose.

CC ?= cc
PREFIX ?= /usr/local
# The configuration goes in /etc for an install under /usr (a package), and
# under the prefix otherwise (/usr/local/etc).
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
DESTDIR ?=
PKG_CONFIG ?= pkg-config
SANITIZE ?=
WERROR ?=
V ?=

ifeq ($(V),1)
Q :=
else
Q := @
endif

ifeq ($(SANITIZE),)
B := build
OPT := -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now
else
# A sanitizer tree is never the plain tree, even when B comes from the
# command line or a parent make: its objects are other objects.
override B := $(or $(B),build)$(if $(filter thread,$(SANITIZE)),-tsan,-san)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
HARDEN_LD := -fsanitize=$(SANITIZE)
endif

# Dependencies by pkg-config name, and the Debian package that provides each.
PKGS := libpcap libndpi libmaxminddb hiredis rdkafka jansson libmicrohttpd libpsl nettle
PKG_libpcap := libpcap-dev
PKG_libndpi := libndpi-dev
PKG_libmaxminddb := libmaxminddb-dev
PKG_hiredis := libhiredis-dev
PKG_rdkafka := librdkafka-dev
PKG_jansson := libjansson-dev
PKG_libmicrohttpd := libmicrohttpd-dev
PKG_libpsl := libpsl-dev
PKG_nettle := nettle-dev
PKG_cmocka := libcmocka-dev

# Targets that need no libraries (clean, deps, help) skip the check.
NODEP_GOALS := clean deps distclean help uninstall
ifneq ($(filter-out $(NODEP_GOALS),$(or $(MAKECMDGOALS),all)),)
MISSING := $(strip $(foreach p,$(PKGS),$(if $(shell $(PKG_CONFIG) --exists $(p) && echo y),,$(PKG_$(p)))))
ifneq ($(MISSING),)
$(error missing libraries; install the Debian packages: $(MISSING) (or run 'make deps'))
endif
endif

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wpointer-arith -Wcast-qual -Wwrite-strings -Wvla \
	-Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DSW_VERSION='"$(VERSION)"' -Isensor \
	$(OPT) $(WARN) -MMD -MP $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(HARDEN_LD) $(LDFLAGS)
LIBS := $(PKG_LIBS) -lpthread -lm

# Objects depend on the flags they were built with ($(B)/.flags changes only
# when they do), so a tree built with other flags is rebuilt, not linked.
FLAGS := $(B)/.flags
ifneq ($(filter-out $(NODEP_GOALS),$(or $(MAKECMDGOALS),all)),)
ifneq ($(file <$(FLAGS)),$(CC) $(ALL_CFLAGS))
$(shell mkdir -p $(B))
$(file >$(FLAGS),$(CC) $(ALL_CFLAGS))
endif
endif

# Sensor sources: every .c under a layer folder; main.c is the program.
LAYERS := common capture decode dns dhcp tls enrich state output detect web pipeline
LIB_SRCS := $(foreach l,$(LAYERS),$(wildcard sensor/$(l)/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)
MAIN_OBJ := $(B)/obj/sensor/main.o
SENSOR := $(B)/stubwatch

# Unit tests: tests/unit/test_<layer>[_what].c links the objects of its layer
# and of the layers it may include (lower ones), so a test builds even when an
# unrelated layer is mid-change.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
DEPS_common := common
DEPS_decode := common decode
DEPS_dns := common dns
DEPS_output := common dns state output
DEPS_capture := common capture
DEPS_state := common decode dns state
DEPS_dhcp := common dhcp
DEPS_tls := common tls
DEPS_enrich := common enrich
DEPS_detect := common decode dns state dhcp tls enrich detect output
DEPS_web := common dns state output web
DEPS_pipeline := common capture decode dns dhcp tls enrich state output detect pipeline
layer_of = $(word 2,$(subst _, ,$(basename $(notdir $(1)))))
objs_for = $(filter $(foreach l,$(DEPS_$(call layer_of,$(1))),$(B)/obj/sensor/$(l)/%),$(LIB_OBJS))

# Fuzz targets: tests/fuzz/fuzz_<what>.c define LLVMFuzzerTestOneInput; the
# replay main runs them over tests/fuzz/corpus/<what>/ without libFuzzer.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)

# Integration programs: tests/integration/<name>.c, linked with every sensor
# object; tests/integration/run.sh drives them (real redis-server, librdkafka
# mock cluster on loopback).
ITEST_SRCS := $(wildcard tests/integration/*.c)
ITEST_BINS := $(ITEST_SRCS:tests/integration/%.c=$(B)/itest/%)

# Corpus walkers: tests/corpus/<name>.c, linked with every sensor object.
CTOOL_SRCS := $(wildcard tests/corpus/*.c)
CTOOL_BINS := $(CTOOL_SRCS:tests/corpus/%.c=$(B)/ctool/%)

# Tools the project owns: the capture generator and the libpcap floor.
SWGEN := $(B)/swgen
FLOOR := $(B)/pcapfloor

.PHONY: all check check-unit check-fuzz check-pcap check-ecs check-corpus check-layering check-integration \
	check-service check-web check-tsan \
	bench demo deb deps install uninstall clean fuzz help

all: $(SENSOR) $(SWGEN) $(FLOOR)

$(B)/obj/%.o: %.c $(FLAGS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(SENSOR): $(MAIN_OBJ) $(LIB_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(SWGEN): $(B)/obj/contrib/swgen/swgen.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lm

$(FLOOR): $(B)/obj/contrib/bench/pcapfloor.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/obj/tests/%.o: tests/%.c $(FLAGS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -c $< -o $@

.SECONDARY:
.SECONDEXPANSION:
$(B)/tests/%: $(B)/obj/tests/unit/%.o $$(call objs_for,$$*)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LIBS)

$(B)/ctool/%: $(B)/obj/tests/corpus/%.o $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/itest/%: $(B)/obj/tests/integration/%.o $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/fuzz/%: $(B)/obj/tests/fuzz/%.o $(B)/obj/tests/fuzz/replay_main.o $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# libFuzzer builds (clang), for fuzzing sessions rather than for check.
FUZZ_CC ?= clang
fuzz:
	@mkdir -p build-fuzz
	$(Q)for f in $(FUZZ_SRCS); do n=$$(basename $$f .c); \
		echo "  FUZZ    build-fuzz/$$n"; \
		$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -DSW_VERSION='"$(VERSION)"' -Isensor -g -O1 \
		-fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) $$f $(LIB_SRCS) \
		-o build-fuzz/$$n $(LIBS) || exit 1; done

check: check-layering check-unit check-fuzz check-pcap check-ecs check-tsan check-integration \
	check-service check-web check-corpus
	@echo "make check: all suites passed"

check-unit: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

# Fuzz corpora always replay under the sanitizers, in their own build tree.
check-fuzz:
	$(Q)$(MAKE) --no-print-directory SANITIZE=address,undefined fuzz-replay

.PHONY: fuzz-replay
fuzz-replay: $(FUZZ_REPLAY)
	$(Q)tests/fuzz/replay.sh $(FUZZ_REPLAY)

check-pcap: $(SENSOR) $(SWGEN)
	$(Q)B=$(B) tests/pcap/run.sh

# Every field of the pcap cases' events and the demo's against the ECS
# definitions (tests/ecs; node, npm package pinned in tests/ecs/package.json).
check-ecs: check-pcap
	$(Q)B=$(B) tests/ecs/run.sh

# Worker threads under ThreadSanitizer, in their own build tree.
check-tsan:
	$(Q)$(MAKE) --no-print-directory SANITIZE=thread tsan-run

.PHONY: tsan-run
tsan-run: $(SENSOR) $(SWGEN)
	$(Q)B=$(B) tests/pcap/tsan.sh

check-integration: $(SENSOR) $(SWGEN) $(ITEST_BINS)
	$(Q)if [ -x tests/integration/run.sh ]; then B=$(B) tests/integration/run.sh; \
	else echo "integration: no tests yet"; fi

# Service behaviour: start-up checks, secrets, a live run under run.user in
# network namespaces (needs root), the systemd unit, the package, the man page.
check-service: $(SENSOR) $(SWGEN) $(B)/itest/redis_dump
	$(Q)B=$(B) tests/service/run.sh

# The HTTP endpoint, dashboards and report: chromium, Prometheus, bad input.
check-web: $(SENSOR) $(SWGEN)
	$(Q)B=$(B) tests/web/run.sh

check-corpus: $(SENSOR) $(CTOOL_BINS)
	$(Q)B=$(B) tests/corpus/run.sh

# A file includes only from its own layer or lower ones (STYLE.md); and
# the build keeps sanitizer and plain objects apart (tests/check-build.sh).
check-layering:
	$(Q)tests/check-layering.sh && tests/check-build.sh

bench: $(SENSOR) $(SWGEN) $(FLOOR)
	$(Q)B=$(B) contrib/bench/bench.sh

# The demo: a generated home network, replayed; events go to a file and the
# per-device table to the terminal.
demo: $(SENSOR) $(SWGEN)
	$(Q)$(SWGEN) --demo -o $(B)/demo.pcap --truth $(B)/demo.truth.json
	@# the file sink appends: a second run starts the file afresh
	$(Q)rm -f $(B)/demo-events.json
	$(Q)$(SENSOR) -r $(B)/demo.pcap -o $(B)/demo-events.json --summary
	@echo "events (JSON lines): $(B)/demo-events.json"

# The Debian package (debhelper, debian/), built from a copy of the tree so
# the build and its leftovers stay in $(B)/deb:
# $(B)/deb/stubwatch_$(VERSION)_<arch>.deb.
deb:
	$(Q)rm -rf $(B)/deb && mkdir -p $(B)/deb/stubwatch-$(VERSION)
	$(Q)tar --exclude=./build --exclude=./build-san --exclude=./build-tsan --exclude=./build-fuzz \
		--exclude=./.git \
		-cf - . | tar -xf - -C $(B)/deb/stubwatch-$(VERSION)
	$(Q)cd $(B)/deb/stubwatch-$(VERSION) && DEB_BUILD_OPTIONS="parallel=2 nocheck noautodbgsym" \
		dpkg-buildpackage -us -uc -b >../build.log 2>&1 || { tail -30 ../build.log; exit 1; }
	@ls $(B)/deb/*.deb

deps:
	$(Q)contrib/deps.sh

install: $(SENSOR)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR)/stubwatch \
		$(DESTDIR)$(PREFIX)/share/stubwatch/rules $(DESTDIR)$(PREFIX)/share/stubwatch/web \
		$(DESTDIR)$(PREFIX)/share/stubwatch/grafana $(DESTDIR)$(PREFIX)/share/stubwatch/elastic \
		$(DESTDIR)$(PREFIX)/share/stubwatch/splunk
	install -m 0755 $(SENSOR) $(DESTDIR)$(PREFIX)/bin/stubwatch
	install -m 0644 contrib/stubwatch.conf $(DESTDIR)$(SYSCONFDIR)/stubwatch/stubwatch.conf
	install -d $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 doc/stubwatch.8 $(DESTDIR)$(PREFIX)/share/man/man8/stubwatch.8
	for f in rules/*; do [ -f "$$f" ] && install -m 0644 "$$f" $(DESTDIR)$(PREFIX)/share/stubwatch/rules/; done; true
	install -m 0644 dashboards/web/* $(DESTDIR)$(PREFIX)/share/stubwatch/web/
	install -m 0644 dashboards/grafana/* $(DESTDIR)$(PREFIX)/share/stubwatch/grafana/
	install -m 0644 dashboards/elastic/*.json dashboards/elastic/*.ndjson dashboards/elastic/*.yml \
		dashboards/elastic/*.toml $(DESTDIR)$(PREFIX)/share/stubwatch/elastic/
	install -m 0644 dashboards/splunk/* $(DESTDIR)$(PREFIX)/share/stubwatch/splunk/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/stubwatch
	rm -rf $(DESTDIR)$(PREFIX)/share/stubwatch
	rm -f $(DESTDIR)$(PREFIX)/share/man/man8/stubwatch.8
	rm -f $(DESTDIR)$(SYSCONFDIR)/stubwatch/stubwatch.conf
	-rmdir $(DESTDIR)$(SYSCONFDIR)/stubwatch

clean:
	rm -rf build build-san build-tsan build-fuzz

# The header dependencies of the tree being built, wherever B puts it: a
# build elsewhere (make B=/tmp/x) must rebuild too when a header changes.
# (The package's staging tree under $(B)/deb has folders such as
# logrotate.d: only files count.)
-include $(shell find $(B) -path $(B)/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
