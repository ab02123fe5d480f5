# stowage: Kubernetes scheduler extender and trace-driven simulator.
#
#   make            build ./stowage
#   make test       build and run the unit and integration tests
#   make check      the tests under AddressSanitizer + UndefinedBehaviorSanitizer,
#                   then a short fuzz pass (make fuzz-short)
#   make bench      build and run the benchmarks (see docs/benchmarks.md)
#   make soak       load steps and a 30-minute soak on 127.0.0.1 (bench/soak.sh)
#   make valgrind   the release tests under valgrind memcheck
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

# Keep the objects that only pattern rules name, so make does not delete
# them after the tests and print that below the test summary. Listed by
# name: a bare .SECONDARY would also stop make from rebuilding a test
# program whose new test file's object is missing.
.SECONDARY: $(TEST_TOOLS:%=%.o) $(BENCH_BIN:%=%.o)

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

# After the sanitized suite, a short fuzz pass (fuzz-short, below).
check:
	$(MAKE) --no-print-directory SANITIZE=address,undefined test
	$(MAKE) --no-print-directory fuzz-short

# ---- load and soak -------------------------------------------------------
# bench/soak.sh against the test API server on 127.0.0.1: rising rates of
# 30 s each, then SOAK_SECONDS at 1,600 pods/s with a verdict on RSS and
# errors (docs/reliability.md). SOAK_FLAGS passes more options, e.g.
# SOAK_FLAGS=--no-steps.
SOAK_SECONDS ?= 1800
SOAK_FLAGS ?=

.PHONY: soak
soak: $(BUILD)/stowage $(BUILD)/tests/tools/apiserver $(BUILD)/tests/tools/loadgen
	BUILD=$(BUILD) bench/soak.sh --soak-seconds $(SOAK_SECONDS) $(SOAK_FLAGS)

# ---- valgrind ---------------------------------------------------------------
# The release test suite under valgrind memcheck, one test at a time.
# Criterion runs each test in a worker it starts with exec, and the tests
# start stowage and the test API server, so children are traced too. A
# definite leak or a memory error in any process fails the run; each
# process writes its report to $(VALGRIND_DIR)/processes/PID.log. The tests' own
# deadlines were sized for native speed, so tests that wait for a child
# process can time out under valgrind: the summary separates those from
# memcheck errors.
VALGRIND ?= valgrind
VALGRIND_DIR := build/valgrind
VALGRIND_FLAGS ?= --tool=memcheck --leak-check=full \
	--errors-for-leak-kinds=definite --error-exitcode=1 \
	--trace-children=yes --num-callers=30 \
	--log-file=$(abspath $(VALGRIND_DIR))/processes/%p.log
# Seconds each test may take under valgrind, for the tests without a
# timeout of their own.
VALGRIND_TEST_TIMEOUT ?= 600

.PHONY: valgrind
valgrind:
ifdef SANITIZE
	$(error make valgrind runs the release build; unset SANITIZE)
endif
	$(MAKE) --no-print-directory $(TEST_BIN) $(BUILD)/stowage $(TEST_TOOLS)
	@rm -rf $(VALGRIND_DIR); mkdir -p $(VALGRIND_DIR)/processes
	@set -o pipefail; status=0; \
	$(TEST_ENV) G_SLICE=always-malloc $(VALGRIND) $(VALGRIND_FLAGS) \
		$(TEST_BIN) --jobs 1 --timeout $(VALGRIND_TEST_TIMEOUT) 2>&1 \
		| tee $(VALGRIND_DIR)/test.log || status=$$?; \
	reports=$$(grep -lE 'ERROR SUMMARY: [1-9]' $(VALGRIND_DIR)/processes/*.log || true); \
	if [ -n "$$reports" ]; then \
		echo "valgrind found errors; the reports:" >&2; \
		for r in $$reports; do echo "  $$r: $$(grep -m1 'Command:' $$r)" >&2; done; \
		exit 1; \
	fi; \
	if [ $$status -ne 0 ]; then \
		echo "no memcheck errors, but tests failed under valgrind (exit status $$status): see $(VALGRIND_DIR)/test.log" >&2; \
		exit $$status; \
	fi; \
	echo "valgrind: no memcheck errors and no definite leaks in $$(ls $(VALGRIND_DIR)/processes | wc -l) process reports"

bench: $(BENCH_BIN) $(BUILD)/stowage $(TEST_TOOLS)
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done

install: stowage
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/manifests/policies \
		$(DESTDIR)$(DATADIR)/manifests/tls
	install -m 0755 stowage $(DESTDIR)$(BINDIR)/stowage
	install -m 0644 manifests/*.yaml $(DESTDIR)$(DATADIR)/manifests/
	install -m 0644 manifests/policies/*.yaml $(DESTDIR)$(DATADIR)/manifests/policies/
	install -m 0644 manifests/tls/*.yaml $(DESTDIR)$(DATADIR)/manifests/tls/

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

.PHONY: fuzz fuzz-build fuzz-short
fuzz-build: $(FUZZ_BIN)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/tests/fuzz/%.o $(FUZZ_LIB)
	$(FUZZ_CC) -fsanitize=fuzzer,$(FUZZ_SANITIZERS) -o $@ $^ $(LDLIBS)

.SECONDARY: $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/obj/tests/fuzz/%.o)

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

# A short, repeatable pass for CI (make check runs it): each target first
# runs every input of its seed corpus once, then FUZZ_SHORT_RUNS inputs
# generated with -seed=FUZZ_SEED from an empty working corpus, so that two
# runs of the same binary try the same inputs. FUZZ_SHORT_MAX_SECONDS caps
# a target on a slow machine; a run cut by it is no longer repeatable. A
# crash, leak, hang or sanitizer report fails the target: the log tail and
# the path of the input are printed, and the build fails after the last
# target. FUZZ_CORPUS points at another seed directory, e.g. to check this
# recipe with a target that crashes.
FUZZ_SHORT_RUNS ?= 50000
FUZZ_SHORT_MAX_SECONDS ?= 60
FUZZ_SEED ?= 1
FUZZ_CORPUS ?= tests/fuzz/corpus

fuzz-short: $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
	@failed=; \
	for t in $(FUZZ_TARGETS); do \
		work=$(FUZZ_DIR)/short/$$t; \
		rm -rf $$work; mkdir -p $$work/corpus $$work/artifacts; \
		dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
		flags="-timeout=10 -rss_limit_mb=2048 -max_len=$(FUZZ_MAX_LEN) $$dict -artifact_prefix=$$work/artifacts/"; \
		start=$$(date +%s); \
		log=$$work/seeds.log; \
		$(FUZZ_DIR)/$$t -runs=0 $$flags $(FUZZ_CORPUS)/$$t > $$log 2>&1; \
		status=$$?; \
		if [ $$status -eq 0 ]; then \
			log=$$work/fuzz.log; \
			$(FUZZ_DIR)/$$t -seed=$(FUZZ_SEED) -runs=$(FUZZ_SHORT_RUNS) \
				-max_total_time=$(FUZZ_SHORT_MAX_SECONDS) -print_final_stats=1 \
				$$flags $$work/corpus $(FUZZ_CORPUS)/$$t > $$log 2>&1; \
			status=$$?; \
		fi; \
		if [ $$status -eq 0 ]; then \
			echo "== $$t: seed corpus and $(FUZZ_SHORT_RUNS) runs (-seed=$(FUZZ_SEED)) passed in $$(( $$(date +%s) - start )) s"; \
			continue; \
		fi; \
		failed="$$failed $$t"; \
		echo "== $$t FAILED (exit status $$status); the last lines of $$log:" >&2; \
		tail -n 40 $$log >&2; \
		found=; \
		for input in $$work/artifacts/*; do \
			[ -e "$$input" ] || continue; found=1; \
			echo "fuzz-short: $$t failed on the input $$input; reproduce with: $(FUZZ_DIR)/$$t $$input" >&2; \
		done; \
		[ -n "$$found" ] || echo "fuzz-short: $$t wrote no input to $$work/artifacts; see $$log" >&2; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz-short: failed:$$failed" >&2; exit 1; fi
