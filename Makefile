# Makefile - the thin front of cell's Meson build. `make demo` and
# `make check` install what is missing (as root), build, then show or test.
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build

# busybox-static: make demo's cell serves its page with busybox httpd, fetched by busybox wget
BUILD_PKGS := meson ninja-build pkg-config gcc libc6-dev libseccomp-dev libcap-dev libjansson-dev libmicrohttpd-dev libnats-dev libncurses-dev liblua5.4-dev libssl-dev libarchive-dev scdoc busybox-static
TEST_PKGS := libcmocka-dev bats clang clang-format libclang-rt-14-dev python3 tmux util-linux iproute2 nftables procps git make busybox-static curl nats-server podman containerd runc runsc
BENCH_PKGS := crun runc bubblewrap busybox-static hyperfine python3 s6 lua5.4 podman iceoryx libiceoryx-binding-c-dev

.PHONY: all build demo check unit integration fuzz-smoke asan bench install format deps-build deps-test deps-bench clean

all: build

build:
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) --prefix=$(PREFIX) >/dev/null
	ninja -C $(BUILD)

deps-build:
	@scripts/ensure-packages $(BUILD_PKGS)
# promtool (for the metrics tests) is extracted from Debian's prometheus
# package into $(BUILD)/tools, without installing (and starting) prometheus
deps-test:
	@scripts/ensure-packages $(BUILD_PKGS) $(TEST_PKGS)
	@scripts/ensure-promtool $(BUILD) >/dev/null
deps-bench:
	@scripts/ensure-packages $(BUILD_PKGS) $(BENCH_PKGS)

demo: deps-build
	@$(MAKE) --no-print-directory build
	@scripts/demo $(BUILD)/cell

check: deps-test
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory unit integration fuzz-smoke asan-unit

unit: build
	meson test -C $(BUILD) --print-errorlogs

integration: build
	tests/integration/run

# A short libFuzzer run of every fuzz target over its seed corpus.
fuzz-smoke:
	@[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false >/dev/null
	ninja -C build-fuzz
	tests/fuzz/run build-fuzz 20000

# The unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
asan-unit:
	@[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	ninja -C build-asan
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 meson test -C build-asan --print-errorlogs

# Unit and integration tests with cell itself built under ASan+UBSan.
asan: deps-test asan-unit
	CELL=$(CURDIR)/build-asan/cell PROBE=$(CURDIR)/build-asan/tests/cell-probe \
	  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1 tests/integration/run

bench: deps-bench
	@$(MAKE) --no-print-directory build
	bench/run

# PREFIX is applied even when build/ was configured with another one
install: build
	meson configure $(BUILD) --prefix=$(PREFIX) >/dev/null
	ninja -C $(BUILD)
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild

format:
	@scripts/ensure-packages clang-format
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) build-asan build-fuzz
