# stowage: Kubernetes scheduler extender and trace-driven simulator.
#
#   make            build ./stowage
#   make test       build and run the unit and integration tests
#   make check      the tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      build and run the benchmarks (see docs/benchmarks.md)
#   make install    install the binary and manifests under $(PREFIX)
#   make deps       install the Debian packages the build needs (.ci/setup)
#
# WERROR=1 turns warnings into errors (the default when CI=true). SANITIZE=address,undefined
# builds everything with those sanitizers into a separate build directory.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/stowage
PKG_CONFIG ?= pkg-config
SHELL := /bin/bash
CC ?= cc

CFLAGS ?= -O2 -g
# CI builds with warnings as errors.
ifeq ($(CI),true)
WERROR ?= 1
endif
WARNINGS = -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wwrite-strings -Wformat=2 -Wno-format-nonliteral \
	-Wvla -Wpointer-arith
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

PKGS = glib-2.0 libcjson yaml-0.1 libmicrohttpd libcurl gnutls
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))
TEST_CFLAGS := $(shell $(PKG_CONFIG) --cflags criterion)
TEST_LIBS := $(shell $(PKG_CONFIG) --libs criterion)

override CFLAGS += $(WARNINGS) -D_GNU_SOURCE -I. $(PKG_CFLAGS) -MMD -MP
override LDLIBS += $(PKG_LIBS) -lm -lpthread

ifdef SANITIZE
BUILD ?= build/sanitize
override CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
override LDFLAGS += -fsanitize=$(SANITIZE)
else
BUILD ?= build/release
endif

MODULES = scoring policies informer scheduler sim
LIB_SRC := $(filter-out scheduler/main.c,$(wildcard $(addsuffix /*.c,$(MODULES))))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libstowage.a

TEST_SRC := $(wildcard tests/test_*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(BUILD)/tests/unit
# Programs the integration tests start as separate processes.
TEST_TOOL_SRC := $(wildcard tests/tools/*.c)
TEST_TOOLS := $(TEST_TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)

BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps test check bench install clean
# Keep intermediate objects, so make does not delete them after the tests
# and print that below the test summary.
.SECONDARY:
all: stowage

stowage: $(BUILD)/stowage
	cp $< $@

$(BUILD)/stowage: $(BUILD)/scheduler/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIB): $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -c -o $@ $<

$(TEST_BIN): $(TEST_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LDLIBS)

# One test file alone, e.g. make build/release/tests/test_score_quantity
$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) $(LDLIBS)

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The tests find the binary, the tools and the fixtures through these.
TEST_ENV = STOWAGE_BIN=$(abspath $(BUILD)/stowage) \
	STOWAGE_TEST_TOOLS=$(abspath $(BUILD)/tests/tools) \
	STOWAGE_FIXTURES=$(abspath tests/fixtures)

# Criterion reports a test as passed even when LeakSanitizer finds a leak
# in its worker at exit, so the log is searched for sanitizer reports.
test: $(TEST_BIN) $(BUILD)/stowage $(TEST_TOOLS)
	@set -o pipefail; $(TEST_ENV) $(TEST_BIN) --jobs 2 2>&1 | tee $(BUILD)/test.log
	@if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' $(BUILD)/test.log; then \
		echo "sanitizer reports in $(BUILD)/test.log: failing the run" >&2; exit 1; fi

check:
	$(MAKE) --no-print-directory SANITIZE=address,undefined test

bench: $(BENCH_BIN) $(BUILD)/stowage $(TEST_TOOLS)
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done

install: stowage
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/manifests/policies
	install -m 0755 stowage $(DESTDIR)$(BINDIR)/stowage
	install -m 0644 manifests/*.yaml $(DESTDIR)$(DATADIR)/manifests/
	install -m 0644 manifests/policies/*.yaml $(DESTDIR)$(DATADIR)/manifests/policies/

# Installs the Debian packages the build and tests need (.ci/setup has the
# list); as root, or through sudo.
deps:
	./.ci/setup

clean:
	rm -rf build stowage

-include $(shell find build -name '*.d' 2>/dev/null)

# ---- fuzz -----------------------------------------------------------------
# libFuzzer targets in tests/fuzz/ (see docs/reliability.md), built with
# clang and AddressSanitizer + UndefinedBehaviorSanitizer into build/fuzz/.
#
#   make fuzz-build          build every target
#   make fuzz                run each target for FUZZ_SECONDS seconds
#   make fuzz FUZZ_TARGETS=fuzz_quantity FUZZ_SECONDS=600
#   make fuzz FUZZ_FLAGS='-fork=2'   extra libFuzzer flags
#
# Each run starts from the seeds in tests/fuzz/corpus/TARGET and keeps what
# it finds in build/fuzz/corpus/TARGET; crashing inputs go to
# build/fuzz/artifacts/TARGET/. The library is compiled again with clang,
# without -Werror, so that a clang-only warning in any module does not stop
# the fuzz build.
FUZZ_CC ?= clang
FUZZ_DIR := build/fuzz
FUZZ_SECONDS ?= 20
# Inputs longer than this are not generated; the largest seed is smaller.
FUZZ_MAX_LEN ?= 65536
FUZZ_FLAGS ?=
FUZZ_SANITIZERS := address,undefined
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer \
	-fsanitize=$(FUZZ_SANITIZERS) -fno-sanitize-recover=all \
	$(filter-out -Werror,$(WARNINGS)) -D_GNU_SOURCE -I. $(PKG_CFLAGS) -MMD -MP
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_TARGETS ?= $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_LIB := $(FUZZ_DIR)/libstowage-fuzz.a

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BIN)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/tests/fuzz/%.o $(FUZZ_LIB)
	$(FUZZ_CC) -fsanitize=fuzzer,$(FUZZ_SANITIZERS) -o $@ $^ $(LDLIBS)

# -rss_limit_mb bounds each run's memory; -timeout reports an input that
# takes longer than 10 s as a hang.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t; \
		dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
		echo "== $$t for $(FUZZ_SECONDS) s"; \
		$(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -max_len=$(FUZZ_MAX_LEN) \
			-print_final_stats=1 $$dict $(FUZZ_FLAGS) \
			-artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ \
			$(FUZZ_DIR)/corpus/$$t tests/fuzz/corpus/$$t \
			> $(FUZZ_DIR)/$$t.log 2>&1 \
			|| { tail -n 60 $(FUZZ_DIR)/$$t.log; exit 1; }; \
		grep -E '^(#[0-9]+[[:space:]]+DONE|Done )' $(FUZZ_DIR)/$$t.log; \
	done
