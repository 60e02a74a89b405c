# lockwarden - one non-recursive Makefile.
#
#   make              libraries and build/lockwarden
#   make run          dev certificates + the webhook on https://127.0.0.1:8443
#   make test         unit, integration (real TLS, real radosgw), corpus replay, policies/
#   make check        the same tests built with ASan+UBSan in build-asan/ (SAN=thread: TSan)
#   make fuzz         every libFuzzer target for FUZZ_TIME seconds (clang)
#   make bench        benchmarks: evaluations/s, requests/s, latency, MB/s, peak RSS
#   make lint         clang-format check + banned-call scan
#   make coverage     gcov line/branch coverage of the unit tests
#   make check-deps   policy/ must stay pure (no I/O symbols)
#
# BUILD selects the build directory so that variants never mix objects.

BUILD ?= build
# The eval'd library rules below come first; a bare `make` must still mean `make all`.
.DEFAULT_GOAL := all
CC ?= cc
CFLAGS ?= -O2 -g
FUZZ_TIME ?= 30
V ?= 0

ifeq ($(V),1)
Q :=
else
Q := @
endif

REQ_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla -fno-common -MMD -MP \
	-I. -pthread

PKGS := libcjson yaml-0.1 libpcre2-8 libmicrohttpd gnutls openssl libcurl zlib libzstd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_PKG_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
TEST_PKG_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

ALL_CFLAGS = $(REQ_CFLAGS) $(PKG_CFLAGS) $(EXTRA_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -pthread -lm

# ---- libraries: one per module, dependencies one way only -------------------------
# Each module's sources are every .c in its directory (no per-file lists to forget).
LIB_NAMES := common policy webhook kube s3 backup
common_SRCS := $(wildcard common/*.c)
policy_SRCS := $(wildcard policy/*.c)
webhook_SRCS := $(wildcard webhook/*.c)
kube_SRCS := $(wildcard backup/kube/*.c)
s3_SRCS := $(wildcard backup/s3/*.c)
backup_SRCS := $(wildcard backup/*.c)
certs_SRCS := $(wildcard certs/*.c)
cli_SRCS := $(wildcard cli/*.c)

# Link order: users before what they use.
LIBS := $(BUILD)/libbackup.a $(BUILD)/libwebhook.a $(BUILD)/libcerts.a $(BUILD)/libkube.a \
	$(BUILD)/libs3.a $(BUILD)/libpolicy.a $(BUILD)/libcommon.a

objs = $(patsubst %.c,$(BUILD)/%.o,$(1))

define lib_rule
$(BUILD)/lib$(1).a: $(call objs,$($(1)_SRCS))
	@mkdir -p $$(@D)
	$$(Q)rm -f $$@
	$$(Q)ar rcs $$@ $$^
endef
$(foreach l,$(LIB_NAMES) certs,$(eval $(call lib_rule,$(l))))

BIN := $(BUILD)/lockwarden

.PHONY: all
# deps first (installs or names missing Debian packages), then a fresh make that sees
# the packages' pkg-config flags.
all: deps
	$(Q)$(MAKE) --no-print-directory $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BIN): $(call objs,$(cli_SRCS)) $(LIBS)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(call objs,$(cli_SRCS)) $(LIBS) $(LDLIBS_ALL)

# ---- tests ---------------------------------------------------------------------------
# tests/support: fake kube-apiserver, test CA helpers, fault transport (a library).
support_SRCS := $(wildcard tests/support/*.c)
SUPPORT_LIB := $(BUILD)/libtestsupport.a
# Test helpers may fail through cmocka's assertions.
$(call objs,$(support_SRCS)): ALL_CFLAGS += $(TEST_PKG_CFLAGS)
$(SUPPORT_LIB): $(call objs,$(support_SRCS))
	@mkdir -p $(@D)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

# Every tests/<module>/test_*.c and tests/integration/test_*.c is one cmocka binary.
UNIT_SRCS := $(wildcard tests/common/test_*.c tests/policy/test_*.c tests/webhook/test_*.c \
	tests/backup/test_*.c tests/backup/*/test_*.c tests/certs/test_*.c tests/cli/test_*.c)
INTEG_SRCS := $(wildcard tests/integration/test_*.c)
UNIT_BINS := $(patsubst %.c,$(BUILD)/%,$(UNIT_SRCS))
INTEG_BINS := $(patsubst %.c,$(BUILD)/%,$(INTEG_SRCS))

$(BUILD)/tests/%: tests/%.c $(SUPPORT_LIB) $(LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -DCM_TESTING $(TEST_PKG_CFLAGS) -o $@ $< $(SUPPORT_LIB) $(LIBS) \
		$(TEST_PKG_LIBS) $(LDLIBS_ALL)

# Fuzz targets: tests/fuzz/fuzz_<name>.c. `make test` replays each corpus through a
# plain driver; `make fuzz` builds them with libFuzzer.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
REPLAY_BINS := $(patsubst %,$(BUILD)/fuzz/replay_%,$(FUZZ_NAMES))

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $(SUPPORT_LIB) $(LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  REPLAY  $@")
	$(Q)$(CC) $(ALL_CFLAGS) -DCM_TESTING -o $@ $< tests/fuzz/replay_main.c $(SUPPORT_LIB) \
		$(LIBS) $(LDLIBS_ALL)

BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(patsubst %.c,$(BUILD)/%,$(BENCH_SRCS))
$(BUILD)/tests/bench/%: tests/bench/%.c $(SUPPORT_LIB) $(LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  BENCH   $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(SUPPORT_LIB) $(LIBS) $(LDLIBS_ALL)

.PHONY: deps deps-test deps-bench test-build test check run bench fuzz lint coverage check-deps clean

deps:
	$(Q)scripts/deps.sh build

deps-test:
	$(Q)scripts/deps.sh test

deps-bench:
	$(Q)scripts/deps.sh bench

test-build: $(BIN) $(UNIT_BINS) $(INTEG_BINS) $(REPLAY_BINS)

# The README's test command. deps-test runs first (installs or names missing
# packages); the build then uses pkg-config, so it is a separate make invocation.
test: deps-test
	$(Q)$(MAKE) --no-print-directory test-build
	$(Q)BUILD=$(BUILD) tests/run.sh

SAN ?= address
ifeq ($(SAN),thread)
SAN_FLAGS := -fsanitize=thread
SAN_BUILD := build-tsan
else
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
SAN_BUILD := build-asan
endif

check: deps-test
	$(Q)$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) \
		CFLAGS="-O1 -g -fno-omit-frame-pointer $(SAN_FLAGS)" test-build
	$(Q)BUILD=$(SAN_BUILD) LW_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 tests/run.sh

run: deps
	$(Q)$(MAKE) --no-print-directory $(BIN)
	$(Q)BUILD=$(BUILD) scripts/run-dev.sh

bench: deps-bench
	$(Q)$(MAKE) --no-print-directory $(BIN) $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) tests/bench/run.sh

FUZZ_BUILD := build-fuzz
FUZZ_CC ?= clang
fuzz: deps-test
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
		$(patsubst %,$(FUZZ_BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))
	$(Q)for t in $(FUZZ_NAMES); do \
		echo "fuzz: $$t for $(FUZZ_TIME)s"; \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		$(FUZZ_BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -max_len=65536 \
			-artifact_prefix=tests/fuzz/ $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t \
			>$(FUZZ_BUILD)/fuzz_$$t.log 2>&1 || { tail -40 $(FUZZ_BUILD)/fuzz_$$t.log; exit 1; }; \
		tail -1 $(FUZZ_BUILD)/fuzz_$$t.log; \
	done

$(FUZZ_BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(SUPPORT_LIB) $(LIBS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -DCM_TESTING -fsanitize=fuzzer,address,undefined -o $@ $< \
		$(SUPPORT_LIB) $(LIBS) $(LDLIBS_ALL)

BANNED := gets sprintf vsprintf strcat strncat strncpy strtok sscanf atoi atol strerror \
	localtime gmtime alloca pcre2_regcomp
lint:
	$(Q)scripts/lint.sh $(BANNED)

coverage:
	$(Q)$(MAKE) --no-print-directory BUILD=build-cov CFLAGS="-O0 -g --coverage" test-build
	$(Q)BUILD=build-cov LW_UNIT_ONLY=1 tests/run.sh
	$(Q)mkdir -p build-cov/gcov && cd build-cov/gcov && \
		gcov -b -o ../policy ../../policy/*.c >../gcov.txt 2>/dev/null; \
		grep -A4 "^File 'policy/" ../gcov.txt | grep -E "^File|Lines|Taken"

check-deps: $(BUILD)/libpolicy.a
	$(Q)scripts/check-deps.sh $(BUILD)/libpolicy.a

clean:
	rm -rf build build-asan build-tsan build-fuzz build-cov build-bench

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
