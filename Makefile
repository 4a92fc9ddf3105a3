# Makefile - builds the three kubectl plugins from one static library.
#
#   make            build bin/kubectl-{fluxwi,sopsenc,sopsverify}
#   make check      install missing dependencies, build, run every test
#   make demo       install missing dependencies, run the walkthrough on the lab
#   make bench      run the benchmarks under tests/bench and print one table
#   make asan       build and run the unit tests with ASan and UBSan
#   make install    PREFIX=/usr/local DESTDIR= : binaries, man pages, completions
#   make deps       install the Debian packages the build and the tests need

VERSION     := 0.1.0
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man/man1
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

PLUGINS := fluxwi sopsenc sopsverify
PKGS    := yaml-0.1 libcurl libcjson openssl libbsd

CC      ?= cc
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
GIT_COMMIT := $(shell git rev-parse --short=7 HEAD 2>/dev/null || echo unknown)
BUILD_DATE := $(shell date -u +%Y-%m-%d)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wvla \
            -Wno-missing-field-initializers
OPT      ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -Icommon
CFLAGS   += -std=c11 $(OPT) $(WARN) -fstack-protector-strong \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
DEPFLAGS  = -MMD -MP

BUILD := build
BINOUT := bin
LIB   := $(BUILD)/libcommon.a

COMMON_SRC := $(sort $(wildcard common/*/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
PLUGIN_BIN := $(PLUGINS:%=$(BINOUT)/kubectl-%)
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all check unit integration lab-test demo bench asan valgrind fuzz fuzz-build fuzz-smoke \
        install uninstall clean deps man completions dist
all: $(PLUGIN_BIN)

$(BUILD)/common/version.o: CPPFLAGS += -DFWI_VERSION='"$(VERSION)"' \
        -DFWI_COMMIT='"$(GIT_COMMIT)"' -DFWI_BUILD_DATE='"$(BUILD_DATE)"'
$(BUILD)/common/version.o: common/version.c .git-commit-stamp
	@mkdir -p $(@D)
	@$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

# Rebuild version.o when HEAD moves, so --version names the right commit.
.git-commit-stamp: FORCE
	@echo $(GIT_COMMIT) | cmp -s - $@ || echo $(GIT_COMMIT) > $@
FORCE:

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(LIB): $(COMMON_OBJ) $(BUILD)/common/version.o
	@rm -f $@
	@echo "  AR      $@"
	@$(AR) rcs $@ $^

define plugin_rule
$(1)_OBJ := $$(patsubst %.c,$(BUILD)/%.o,$$(wildcard plugins/$(1)/*.c))
$(BINOUT)/kubectl-$(1): $$($(1)_OBJ) $(LIB)
	@mkdir -p $(BINOUT)
	@echo "  LD      $$@"
	@$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$($(1)_OBJ) $(LIB) $$(LDLIBS)
endef
$(foreach p,$(PLUGINS),$(eval $(call plugin_rule,$(p))))

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) $(DEPFLAGS) $(LDFLAGS) -o $@ $< \
	    $(LIB) $(LDLIBS) $(shell pkg-config --libs cmocka 2>/dev/null) -lutil

# ---- dependencies --------------------------------------------------------
deps:
	@tests/deps.sh

# ---- tests ---------------------------------------------------------------
check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all $(UNIT_BIN)
	@tests/run.sh

unit: $(UNIT_BIN)
	@tests/run.sh unit

integration: all
	@tests/run.sh integration

lab-test:
	@tests/run.sh lab

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan BINOUT=build-asan/bin \
	    OPT='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
	    LDFLAGS='-fsanitize=address,undefined' build-asan-all
build-asan-all: $(UNIT_BIN) $(PLUGIN_BIN)
	@UNIT_DIR=$(BUILD)/tests BIN_DIR=$(BINOUT) tests/run.sh unit integration

valgrind: all $(UNIT_BIN)
	@VALGRIND=1 tests/run.sh unit

# Fuzzing: libFuzzer targets tests/fuzz/fuzz_*.c, built with clang against a
# sanitizer build of the library.  fuzz-smoke runs each briefly on its seeds.
FUZZ_BUILD := build-fuzz
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_RUNS  ?= 2000
fuzz-build:
	@$(MAKE) --no-print-directory CC=clang BUILD=$(FUZZ_BUILD) BINOUT=$(FUZZ_BUILD)/bin \
	    OPT='-O1 -g -fsanitize=fuzzer-no-link,address,undefined' $(FUZZ_BIN)
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(LIB)
	@echo "  FUZZ    $@"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
	    $(LIB) $(LDLIBS)
fuzz-smoke: fuzz-build
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	    seeds=tests/fuzz/corpus/$$n; [ -d $$seeds ] || seeds=; \
	    $$f -runs=$(FUZZ_RUNS) -max_len=4096 $(FUZZ_BUILD)/corpus/$$n $$seeds \
	        >$(FUZZ_BUILD)/$$n.log 2>&1 || { tail -40 $(FUZZ_BUILD)/$$n.log; exit 1; }; \
	    echo "ok   fuzz/$$n ($(FUZZ_RUNS) runs)"; done
fuzz: fuzz-build
	@echo "run one target for as long as you like, e.g.:"
	@for f in $(FUZZ_BIN); do echo "  $$f -max_total_time=600 $(FUZZ_BUILD)/corpus/$$(basename $$f)"; done

demo:
	@tests/deps.sh --runtime-only
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@tests/demo/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/run.sh

# ---- docs and install ----------------------------------------------------
man: all
	@mkdir -p $(BUILD)/man
	@for p in $(PLUGINS); do bin/kubectl-$$p __man $(BUILD)/man || exit 1; done

completions: all
	@for p in $(PLUGINS); do for s in bash zsh fish; do \
	    bin/kubectl-$$p completion $$s > completions/kubectl-$$p.$$s || exit 1; \
	done; done

install: all man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHCOMPDIR) \
	    $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	for p in $(PLUGINS); do \
	    install -m 0755 bin/kubectl-$$p $(DESTDIR)$(BINDIR)/kubectl-$$p && \
	    ln -sf kubectl-$$p $(DESTDIR)$(BINDIR)/kubectl_complete-$$p && \
	    bin/kubectl-$$p completion bash > $(DESTDIR)$(BASHCOMPDIR)/kubectl-$$p && \
	    bin/kubectl-$$p completion zsh > $(DESTDIR)$(ZSHCOMPDIR)/_kubectl-$$p && \
	    bin/kubectl-$$p completion fish > $(DESTDIR)$(FISHCOMPDIR)/kubectl-$$p.fish \
	    || exit 1; done
	install -m 0644 $(BUILD)/man/*.1 $(DESTDIR)$(MANDIR)/

# Release archives and krew manifests (krew/dist.sh): DIST=dist,
# RELEASE_URL=https://.../releases/download/vX.Y.Z, HOMEPAGE=https://...
DIST ?= dist
dist: all
	@krew/dist.sh $(VERSION) $(DIST) "$(RELEASE_URL)" "$(HOMEPAGE)"

uninstall:
	for p in $(PLUGINS); do rm -f $(DESTDIR)$(BINDIR)/kubectl-$$p \
	    $(DESTDIR)$(BINDIR)/kubectl_complete-$$p \
	    $(DESTDIR)$(BASHCOMPDIR)/kubectl-$$p $(DESTDIR)$(ZSHCOMPDIR)/_kubectl-$$p \
	    $(DESTDIR)$(FISHCOMPDIR)/kubectl-$$p.fish $(DESTDIR)$(MANDIR)/kubectl-$$p*.1; done

clean:
	rm -rf build build-asan build-fuzz bin dist .git-commit-stamp

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
