# SPDX-License-Identifier: GPL-2.0
# kvmprof build, after libbpf-bootstrap's Makefile.
HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
ARCH ?= $(HOST_ARCH)
OUTPUT := .output
CLANG ?= clang
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
CC ?= cc
TRIPLE := $(if $(filter arm64,$(ARCH)),aarch64,x86_64)-linux-gnu
KVMPROF := kvmprof
GUESTLOAD := $(if $(filter arm64,$(ARCH)),tests/guestload_arm64,tests/guestload)
# the interrupt, IPI and halt load: x86 only (no arm64 variant)
IRQLOAD := $(if $(filter arm64,$(ARCH)),,tests/irqload)
ifneq ($(ARCH),$(HOST_ARCH))
# make ARCH=arm64 on x86: Debian's cross compiler and the target's multiarch
# libraries, into their own output folder and binary (kvmprof-arm64).
OUTPUT := .output-$(ARCH)
CC := $(TRIPLE)-gcc
KVMPROF := kvmprof-$(ARCH)
CROSS_DEPS := deps-$(ARCH)
endif
VMLINUX := vmlinux/$(ARCH)/vmlinux.h
CFLAGS ?= -g -O2
CFLAGS += -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -std=gnu11 -I$(OUTPUT) -Ibpf -Iloader
LDLIBS := -lbpf -lelf -lz -lm -lcapstone -lncurses -lcap

# Debian packages the build, the tests and the demo need.
DEB_PACKAGES := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev libcapstone-dev libxen-dev libncurses-dev libcap-dev \
	pkg-config make gcc linux-perf python3 util-linux tmux prometheus libclang-rt-dev valgrind e2fsprogs \
	chromium
DEB_TOOLS := clang bpftool perf pkg-config python3 setpriv tmux prometheus promtool valgrind chattr chromium

# The loader by layer (docs/ARCHITECTURE.md): every .c below loader/ but
# main goes into one static library that kvmprof, the tests and the fuzzers link.
LOADER_MAIN := loader/kvmprof.c
LOADER_LIB_SRCS := $(sort $(wildcard loader/*/*.c))
LOADER_OBJS := $(LOADER_LIB_SRCS:%.c=$(OUTPUT)/obj/%.o)
LOADER_LIB := $(OUTPUT)/libkvmprof.a
# the same, with ASan + UBSan (gcc), and for the libFuzzer targets (clang)
ASAN_OBJS := $(LOADER_LIB_SRCS:%.c=$(OUTPUT)/asan/%.o)
ASAN_LIB := $(OUTPUT)/asan/libkvmprof.a
FUZZ_OBJS := $(LOADER_LIB_SRCS:%.c=$(OUTPUT)/fuzz/%.o)
FUZZ_LIB := $(OUTPUT)/fuzz/libkvmprof.a
SKEL := $(OUTPUT)/kvmprof.skel.h
DEPFLAGS = -MMD -MP

# a target whose recipe fails is deleted, never left half-written
.DELETE_ON_ERROR:

.PHONY: all deps deps-arm64 vmlinux clean demo test unit-test integration-test bpf-test vmtest vmtest-arm64 vmtest-linux bench bench-bed bench-scale \
	asan fuzz soak

all: $(CROSS_DEPS) $(KVMPROF) $(GUESTLOAD) $(IRQLOAD)

# Installs what is missing; a no-op on a machine that has it all.
deps:
	@missing=0; for t in $(DEB_TOOLS); do command -v $$t >/dev/null 2>&1 || [ -x /usr/sbin/$$t ] || missing=1; done; \
	for h in /usr/include/bpf/libbpf.h /usr/include/gelf.h /usr/include/zlib.h /usr/include/linux/kvm.h /usr/include/capstone/capstone.h /usr/include/xen/xen.h /usr/include/curses.h /usr/include/sys/capability.h; do \
		[ -f $$h ] || missing=1; done; \
	command -v $(CLANG) >/dev/null && [ -f "$$($(CLANG) -print-resource-dir)/lib/linux/libclang_rt.fuzzer-x86_64.a" ] || \
		[ $(HOST_ARCH) != x86 ] || missing=1; \
	if [ $$missing = 1 ]; then \
		echo "deps: installing $(DEB_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES) >/dev/null; \
	fi

# The arm64 cross build and test bed on an x86 host (Debian multiarch).
DEB_PACKAGES_ARM64 := gcc-aarch64-linux-gnu libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 \
	libcapstone-dev:arm64 libncurses-dev:arm64 libcap-dev:arm64 qemu-system-arm
deps-arm64:
	@missing=0; command -v aarch64-linux-gnu-gcc >/dev/null || missing=1; \
	for l in libbpf libelf libz libcapstone libncurses libcap; do \
		[ -e /usr/lib/aarch64-linux-gnu/$$l.so ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
		echo "deps-arm64: installing $(DEB_PACKAGES_ARM64)"; \
		dpkg --add-architecture arm64 && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$(DEB_PACKAGES_ARM64) >/dev/null; \
	fi

$(OUTPUT):
	mkdir -p $@

# Regenerate this arch's vmlinux.h from the running kernel's BTF.
vmlinux:
	mkdir -p vmlinux/$(ARCH)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX)

# BPF: each .bpf.c a unit of its own, compiled per architecture into
# $(OUTPUT)/bpf/ARCH/ (with dependency files), then linked by bpftool gen
# object (libbpf's static linker): bpf/kvmprof.bpf.c defines the maps and
# switches (bpf/state.bpf.h), the other units declare them extern.
# kvmprof-ARCH.bpf.o is kvmprof's object for ARCH: kvmprof.bpf.c and
# traps_ARCH.bpf.c.  Both architectures' are built, for the unit test of the
# plan tables; this build's is the skeleton's.
define bpf_arch_rules
$(OUTPUT)/bpf/$(1)/%.o: %.bpf.c vmlinux/$(1)/vmlinux.h
	@mkdir -p $$(@D)
	$(CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(1) -Ivmlinux/$(1) -Ibpf \
		-I/usr/include/$(if $(filter arm64,$(1)),aarch64,x86_64)-linux-gnu $(DEPFLAGS) -c $$< -o $$@

$(OUTPUT)/kvmprof-$(1).bpf.o: $(OUTPUT)/bpf/$(1)/bpf/kvmprof.o $(OUTPUT)/bpf/$(1)/bpf/traps_$(1).o \
		$(OUTPUT)/bpf/$(1)/bpf/events.o $(OUTPUT)/bpf/$(1)/bpf/events_$(1).o
	$(BPFTOOL) gen object $$@ $$^
endef
$(foreach a,x86 arm64,$(eval $(call bpf_arch_rules,$(a))))
PLAN_OBJS := $(OUTPUT)/kvmprof-x86.bpf.o $(OUTPUT)/kvmprof-arm64.bpf.o

$(SKEL): $(OUTPUT)/kvmprof-$(ARCH).bpf.o
	$(BPFTOOL) gen skeleton $< name kvmprof_bpf > $@

# KVM's counters: the task_file iterator, an object of its own (no maps of
# kvmprof's), run by collect/kvm_stats.c once per read
STATS_SKEL := $(OUTPUT)/kvm_stats.skel.h
$(OUTPUT)/kvm_stats.bpf.o: $(OUTPUT)/bpf/$(ARCH)/bpf/kvm_stats.o
	$(BPFTOOL) gen object $@ $^	# as the others: without the DWARF

$(STATS_SKEL): $(OUTPUT)/kvm_stats.bpf.o
	$(BPFTOOL) gen skeleton $< name kvm_stats_bpf > $@

# The test driver's own object: tests/bpf_drive.bpf.c linked with
# kvmprof.bpf.c (kvmprof's maps, aggregation and flush_hot); kvmprof's
# object has no driver.  tests/bpf_drive.c includes its skeleton (order-only
# here; the dependency files say so once it is built).
DRIVE_SKEL := $(OUTPUT)/bpf_drive.skel.h
$(OUTPUT)/bpf_drive.bpf.o: $(OUTPUT)/bpf/$(ARCH)/bpf/kvmprof.o $(OUTPUT)/bpf/$(ARCH)/tests/bpf_drive.o
	$(BPFTOOL) gen object $@ $^

$(DRIVE_SKEL): $(OUTPUT)/bpf_drive.bpf.o
	$(BPFTOOL) gen skeleton $< name bpf_drive_bpf > $@

$(OUTPUT)/obj/tests/bpf_drive.o $(OUTPUT)/asan/tests/bpf_drive.o: | $(DRIVE_SKEL)

# Objects: one rule per layer file, with dependency files, so touching one
# .c recompiles that file alone.  The skeleton comes before any object
# (order-only: the dependency files say who really includes it).
$(OUTPUT)/obj/%.o: %.c | $(SKEL) $(STATS_SKEL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LOADER_LIB): $(LOADER_OBJS)
	$(AR) rcs $@ $^

$(KVMPROF): $(OUTPUT)/obj/$(LOADER_MAIN:.c=.o) $(LOADER_LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

tests/guestload: tests/guestload.c
	$(CC) -O2 -g -Wall -Wextra -o $@ $< -lpthread

tests/irqload: tests/irqload.c
	$(CC) -O2 -g -Wall -Wextra -o $@ $< -lpthread

tests/guestload_arm64: tests/guestload_arm64.c
	$(CC) -O2 -g -Wall -Wextra -o $@ $< -lpthread

# The unit tests: a file per loader module (tests/unit/test_*.c), their
# helpers and main.c, an object each, linked with the loader library; they
# open both architectures' BPF objects (order-only: the plan tables' test).
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
tests/unit_tests: $(UNIT_SRCS:%.c=$(OUTPUT)/obj/%.o) $(LOADER_LIB) | $(PLAN_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

tests/bpf_drive: $(OUTPUT)/obj/tests/bpf_drive.o $(LOADER_LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# Profile the bundled guests live for a few seconds, then print the summary.
demo: deps
	$(MAKE) all
	./tests/demo.sh

unit-test: tests/unit_tests
	./tests/unit_tests

bpf-test: tests/bpf_drive
	./tests/bpf_drive

integration-test: all
	./tests/integration.py

test: deps
	$(MAKE) all tests/unit_tests tests/bpf_drive asan $(FUZZ_TARGETS)
	./tests/run_all.sh

# The loader and its unit/BPF tests built with ASan + UBSan (gcc's libasan);
# make test runs them, and robustness.py runs kvmprof-asan around guests.
SAN_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
$(OUTPUT)/asan/%.o: %.c | $(SKEL) $(STATS_SKEL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -c $< -o $@

$(ASAN_LIB): $(ASAN_OBJS)
	$(AR) rcs $@ $^

kvmprof-asan: $(OUTPUT)/asan/$(LOADER_MAIN:.c=.o) $(ASAN_LIB)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $^ -o $@ $(LDLIBS)

tests/%-asan: $(OUTPUT)/asan/tests/%.o $(ASAN_LIB) | $(PLAN_OBJS)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $^ -o $@ $(LDLIBS)

tests/unit_tests-asan: $(UNIT_SRCS:%.c=$(OUTPUT)/asan/%.o) $(ASAN_LIB) | $(PLAN_OBJS)
	$(CC) $(CFLAGS) $(SAN_FLAGS) $^ -o $@ $(LDLIBS)

asan: kvmprof-asan tests/unit_tests-asan tests/bpf_drive-asan

# libFuzzer targets (clang, with ASan + UBSan) over the name, cgroup, CSV,
# JSON and option parsers; tests/fuzz/run.sh runs each for FUZZ_SECONDS.
FUZZ_TARGETS := $(patsubst %.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_FLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined
$(OUTPUT)/fuzz/%.o: %.c | $(SKEL) $(STATS_SKEL)
	@mkdir -p $(@D)
	$(CLANG) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	$(AR) rcs $@ $^

tests/fuzz/fuzz_%: $(OUTPUT)/fuzz/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	$(CLANG) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer $^ -o $@ $(LDLIBS)

fuzz: $(FUZZ_TARGETS)
	./tests/fuzz/run.sh

# Longer than make test: 10 min of guest churn (ASan loader), 2 min of it
# under valgrind, 5 min per fuzz target.
soak: deps
	$(MAKE) all asan $(FUZZ_TARGETS)
	rc=0; KVMPROF_CHURN_S=600 KVMPROF_VALGRIND_S=120 ./tests/robustness.py test_churn test_churn_valgrind || rc=1; \
	FUZZ_SECONDS=300 ./tests/fuzz/run.sh || rc=1; exit $$rc

clean:
	rm -rf $(OUTPUT) .output-arm64 kvmprof kvmprof-arm64 tests/guestload tests/guestload_arm64 tests/irqload \
		tests/unit_tests tests/bpf_drive kvmprof-asan tests/unit_tests-asan tests/bpf_drive-asan \
		$(FUZZ_TARGETS)

# The real-kernel test bed on its own: stock Debian kernel under QEMU.
vmtest: all
	./tests/vm/vmtest.sh

# A real Linux guest (Debian 12's kernel as L2) in the x86 test bed, under kvmprof --rip.
vmtest-linux: all
	./tests/vm-linux/vmtest.sh

# The arm64 test bed: Debian's arm64 kernel under qemu-system-aarch64, KVM at EL2.
vmtest-arm64:
	./tests/vm-arm64/vmtest.sh

# Overhead beside perf and bpftrace (not part of make test).
$(OUTPUT)/floor.bpf.o: bench/floor.bpf.c $(VMLINUX) | $(OUTPUT)
	$(CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -c $< -o $@

$(OUTPUT)/floor.skel.h: $(OUTPUT)/floor.bpf.o
	$(BPFTOOL) gen skeleton $< name floor_bpf > $@

bench/floor: bench/floor.c $(OUTPUT)/floor.skel.h
	$(CC) $(CFLAGS) $< -o $@ -lbpf -lelf -lz

bench: all bench/floor
	@command -v bpftrace >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bpftrace >/dev/null)
	./bench/bench.sh
	./bench/sched_cost.sh
	./bench/program_cost.sh
	./bench/program_cost_bed.sh
	./bench/scale.sh

# the per-program costs in the x86 test bed, with the exit path (about a minute)
bench-bed: all bench/floor
	./bench/program_cost_bed.sh

# the loader with 250, 500 and 1000 guests of 4 vCPUs, and the live view (about 3 minutes)
bench-scale: all
	./bench/scale.sh

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)

# ---- Installing: make install / uninstall, the man pages, make deb ----
# The version: git describe of this tree (a tag, or debian/changelog's
# version and the commit when no tag is there), else the changelog's.  It is
# compiled into loader/cli/version.c alone, which a new version (a stamp
# rewritten only when it changes) recompiles, and nothing else.
DEB_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
ifeq ($(origin VERSION),undefined)
VERSION := $(shell git describe --tags --dirty 2>/dev/null || \
	{ h=$$(git describe --always --dirty 2>/dev/null) && echo "$(DEB_VERSION)-g$$h"; })
VERSION := $(or $(VERSION),$(DEB_VERSION),unknown)
endif
VERSION_STAMP := $(OUTPUT)/version-stamp
$(shell mkdir -p $(OUTPUT) && { [ "$$(cat $(VERSION_STAMP) 2>/dev/null)" = '$(VERSION)' ] || \
	printf '%s\n' '$(VERSION)' > $(VERSION_STAMP); })
VERSION_OBJS := $(foreach d,obj asan fuzz,$(OUTPUT)/$(d)/loader/cli/version.o)
$(VERSION_OBJS): CFLAGS += -DKVMPROF_VERSION='"$(VERSION)"'
$(VERSION_OBJS): $(VERSION_STAMP)

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/kvmprof
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# systemd looks in /usr/local/lib/systemd/system too; Debian 12's own units
# are in /lib/systemd/system (debian/rules says so)
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc

# Man pages: scdoc sources in docs/man, the version in their footer.
SCDOC ?= scdoc
MAN_SRCS := $(wildcard docs/man/*.scd)
MAN_PAGES := $(MAN_SRCS:docs/man/%.scd=$(OUTPUT)/man/%)
$(OUTPUT)/man/%: docs/man/%.scd $(VERSION_STAMP)
	@mkdir -p $(@D)
	sed 's/@VERSION@/$(VERSION)/g' $< | $(SCDOC) > $@

DOCS := README.md $(wildcard docs/*.md docs/*.png)
EXAMPLES := contrib/grafana/kvmprof-dashboard.json contrib/prometheus/prometheus.yml
UNIT := contrib/systemd/kvmprof-exporter.service

.PHONY: build install uninstall man deb deps-deb version
man: $(MAN_PAGES)

version:
	@echo $(VERSION)

# What make install installs, built; no test programs.
build: $(KVMPROF) man

install: build
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(DOCDIR)/examples \
		$(DESTDIR)$(SYSCONFDIR)/default
	install -m 0755 $(KVMPROF) $(DESTDIR)$(SBINDIR)/kvmprof
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man1
	install -m 0644 completion/kvmprof.bash $(DESTDIR)$(BASHCOMPDIR)/kvmprof
	sed 's|/usr/sbin/kvmprof|$(SBINDIR)/kvmprof|' $(UNIT) > $(DESTDIR)$(SYSTEMDUNITDIR)/kvmprof-exporter.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/kvmprof-exporter.service
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples
	@# the admin's settings are kept
	[ -e $(DESTDIR)$(SYSCONFDIR)/default/kvmprof-exporter ] || \
		install -m 0644 contrib/systemd/kvmprof-exporter.default $(DESTDIR)$(SYSCONFDIR)/default/kvmprof-exporter

# Removes what install put there (the settings only when unchanged).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/kvmprof $(DESTDIR)$(BASHCOMPDIR)/kvmprof \
		$(DESTDIR)$(SYSTEMDUNITDIR)/kvmprof-exporter.service
	rm -f $(foreach p,$(MAN_SRCS:docs/man/%.scd=%),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(p)))/$(p))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS))) \
		$(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(EXAMPLES)))
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null
	! cmp -s contrib/systemd/kvmprof-exporter.default $(DESTDIR)$(SYSCONFDIR)/default/kvmprof-exporter || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/default/kvmprof-exporter

# The Debian package, kvmprof_VERSION_ARCH.deb here, built by debian/rules
# (dpkg-buildpackage) from a copy of this tree (what git tracks and what it
# does not ignore) in $(OUTPUT)/deb; make deb ARCH=arm64 cross-builds.
DEB_ARCH := $(if $(filter arm64,$(ARCH)),arm64,amd64)
DEB_FILE := kvmprof_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_TREE := $(OUTPUT)/deb/kvmprof-$(DEB_VERSION)
DEB_HOST_FLAG := $(if $(filter arm64,$(DEB_ARCH)),$(if $(filter arm64,$(HOST_ARCH)),,-aarm64))
# debian/control's Build-Depends, for this architecture (apt as root)
deps-deb:
	@command -v dpkg-checkbuilddeps >/dev/null || $(MAKE) -s deps
	@missing=$$(dpkg-checkbuilddeps $(DEB_HOST_FLAG) 2>&1 | sed -n 's/.*Unmet build dependencies: //p' | \
		sed -e 's/([^)]*)//g' -e 's/debhelper-compat/debhelper/' | \
		tr ' ' '\n' | sed -e '/^$$/d' $(if $(DEB_HOST_FLAG),-e '/:native$$/!s/$$/:$(DEB_ARCH)/') -e 's/:native$$//'); \
	if [ -n "$$missing" ]; then \
		echo "deps-deb: installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$$missing >/dev/null; \
	fi

deb: $(CROSS_DEPS) deps-deb
	rm -rf $(OUTPUT)/deb && mkdir -p $(DEB_TREE)
	{ git ls-files --cached --others --exclude-standard 2>/dev/null || \
		find . -path './.output*' -prune -o -type f -print; } | \
		while IFS= read -r f; do [ -f "$$f" ] && printf '%s\n' "$$f"; done | \
		grep -v -e '^\./\.output' -e '\.deb$$' | tar -cf - -T - | tar -xf - -C $(DEB_TREE)
	cd $(DEB_TREE) && DEB_BUILD_OPTIONS="parallel=$$(nproc) $(DEB_BUILD_OPTIONS)" $(if $(DEB_HOST_FLAG),CC=$(TRIPLE)-gcc) \
		dpkg-buildpackage -b -us -uc $(DEB_HOST_FLAG)
	cp $(OUTPUT)/deb/$(DEB_FILE) .
	@echo "built $(DEB_FILE)"

clean: clean-install
clean-install:
	rm -f kvmprof_*.deb
.PHONY: clean-install

# What the packaging, its lint and the install test need (make deps).
DEB_PACKAGES += debhelper lintian scdoc man-db bash-completion prometheus-node-exporter
DEB_TOOLS += dh lintian scdoc man prometheus-node-exporter
