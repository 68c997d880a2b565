# cowprof - memory and copy-on-write profiler for forked process trees
#
#   make            build build/cowprof (and the samples)
#   make deps       install missing Debian packages (apt-get; needs root)
#   make check      the layering check, unit tests (plain and ASan+UBSan),
#                   fuzz smoke runs, integration tests on real process trees
#   make demo       snapshot the bundled sample fork tree
#   make bench      benchmarks (figures and ratios, no assertions)
#   make install PREFIX=/usr/local
#   make clean
#
# Adding a unit test (tests/unit/test_NAME.c) or a fuzz target
# (tests/fuzz/fuzz_NAME.c, its seeds named in its own header comment) is one
# line in UNIT_TESTS or FUZZ_TARGETS; integration tests are found by name.

CC ?= gcc
CFLAGS ?= -O2 -g
PREFIX ?= /usr/local
WARN = -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wformat=2 -Werror
# Every file includes the project's headers by their path from the root.
CPPFLAGS_ALL = -I. -D_GNU_SOURCE
ifeq ($(SANITIZER),address)
  SANFLAGS = -fsanitize=address -fno-omit-frame-pointer
else ifeq ($(SANITIZER),undefined)
  SANFLAGS = -fsanitize=undefined -fno-sanitize-recover=undefined
endif
PYTHON = /usr/bin/python3

# Libraries every part of cowprof builds on, found with pkg-config.
PKGS = libelf libdw libunwind libunwind-ptrace libunwind-generic ncursesw sqlite3 cmocka
DEB_PKGS = pkg-config libelf-dev libdw-dev libunwind-dev libncurses-dev libcmocka-dev \
           libsqlite3-dev
# Tools the tests and benchmarks run (checked by command or package).
DEB_TEST_PKGS = clang libclang-rt-14-dev gunicorn python3-flask python3-psutil \
                smem wrk prometheus tmux python3.11-dev strace

# The library, one folder per layer in the order data flows through them
# (docs/architecture.md): no file includes a header of a later folder.
LIB_SRCS = \
	common/util.c \
	common/format.c \
	collectors/procfs.c \
	collectors/proctree.c \
	collectors/maps.c \
	collectors/smaps.c \
	collectors/pagemap.c \
	collectors/kpage.c \
	collectors/pagescan.c \
	collectors/textscan.c \
	collectors/syscall.c \
	collectors/fdlink.c \
	collectors/netsock.c \
	collectors/sockdiag.c \
	collectors/procstate.c \
	collectors/symbols.c \
	collectors/unwind.c \
	collectors/procevents.c \
	collectors/tracefs.c \
	collectors/perfring.c \
	collectors/sigtrace.c \
	collectors/pftrace.c \
	collectors/kmsg.c \
	collectors/faultring.c \
	collectors/pyframe.c \
	preload/mapline.c \
	measure/pfntab.c \
	measure/cow.c \
	measure/snapshot.c \
	faults/idmap.c \
	faults/faultlog.c \
	faults/burst.c \
	faults/attach.c \
	faults/preloadenv.c \
	record/why.c \
	record/recorder.c \
	store/session.c \
	analysis/analysis.c \
	analysis/callsites.c \
	report/json.c \
	report/report.c \
	report/report_text.c \
	report/report_json.c \
	report/report_csv.c \
	report/report_html.c \
	report/report_openmetrics.c \
	report/report_compare.c \
	tui/model.c \
	tui/view.c \
	tui/loop.c

# The commands: main and one file per command, kept out of the library.
CLI_SRCS = \
	cli/main.c \
	cli/cmd_common.c \
	cli/cmd_snapshot.c \
	cli/recording.c \
	cli/cmd_record.c \
	cli/cmd_run.c \
	cli/cmd_report.c \
	cli/cmd_compare.c \
	cli/cmd_view.c \
	cli/cmd_top.c

# What runs inside the target: libcowprof_preload.so.
PRELOAD_SRCS = \
	preload/preload.c \
	preload/handler.c \
	preload/wrappers.c \
	preload/mapline.c \
	collectors/faultring.c \
	collectors/pyframe.c \
	collectors/maps.c \
	common/util.c

# One cmocka program per module: tests/unit/NAME.c.
UNIT_TESTS = \
	test_util \
	test_format \
	test_proctree \
	test_maps \
	test_smaps \
	test_pagemap \
	test_kpage \
	test_pagescan \
	test_syscall \
	test_fdlink \
	test_netsock \
	test_sockdiag \
	test_procstate \
	test_symbols \
	test_unwind \
	test_procevents \
	test_tracefs \
	test_perfring \
	test_sigtrace \
	test_pftrace \
	test_kmsg \
	test_faultring \
	test_pyframe \
	test_mapline \
	test_pfntab \
	test_cow \
	test_idmap \
	test_faultlog \
	test_burst \
	test_session \
	test_analysis \
	test_json \
	test_report \
	test_tui_model

# One libFuzzer program per parser of input cowprof did not write:
# tests/fuzz/NAME.c, whose "seeds:" comment line tells tests/fuzz/run.sh
# which fixture files to start from.
FUZZ_TARGETS = \
	fuzz_maps \
	fuzz_smaps \
	fuzz_stat \
	fuzz_procstate_syscall \
	fuzz_fdlink \
	fuzz_net_unix \
	fuzz_net_inet \
	fuzz_unix_diag \
	fuzz_procevents \
	fuzz_pyframe_line \
	fuzz_tracefs \
	fuzz_sigtrace \
	fuzz_pftrace \
	fuzz_kmsg \
	fuzz_faultring \
	fuzz_mapline \
	fuzz_symbols \
	fuzz_unwind

SAMPLES = build/forktree build/cowwriters
# Small programs the integration tests and benchmarks run (tests/tools/).
TOOLS = build/pystack build/libpyframe_inproc.so build/procwait build/sigwatch build/faultwatch
PRELOAD_TOOLS = build/libcowprof_preload.so build/faultring_dump build/preload_cases

LIB_OBJS = $(LIB_SRCS:%.c=build/obj/%.o)
CLI_OBJS = $(CLI_SRCS:%.c=build/obj/%.o)
ASAN_OBJS = $(LIB_SRCS:%.c=build/asan/%.o)
CMOCKA_CFLAGS = $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)
# What cowprof links: evaluated when a recipe runs, after `deps`.
LIB_CFLAGS = $(shell pkg-config --cflags sqlite3 ncursesw libelf 2>/dev/null)
LIBS = $(shell pkg-config --libs sqlite3 ncursesw libdw libelf libunwind-ptrace \
         libunwind-generic 2>/dev/null) -pthread -lm
ASAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
       -fno-omit-frame-pointer
# The flags of every compile: plain, sanitized (check-asan) and fuzzed
# objects differ only in optimization and instrumentation.
BASE_CFLAGS = $(WARN) $(CPPFLAGS_ALL) $(LIB_CFLAGS) -pthread
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) $(SANFLAGS) -MMD -MP
ASAN_CFLAGS = $(BASE_CFLAGS) -O1 -g $(ASAN) -MMD -MP
# A program of tests/tools or tests/bench linked with the library.
LINK_TOOL = $(CC) $(BASE_CFLAGS) $(CFLAGS) $(SANFLAGS) -o $@ $< build/libcowprof.a $(LIBS)

.PHONY: all deps deps-test check check-layers check-unit check-asan check-fuzz \
        check-integration demo bench install clean

all: build/cowprof $(PRELOAD_TOOLS) $(SAMPLES) $(TOOLS)

deps:
	@if ! pkg-config --exists $(PKGS) 2>/dev/null; then \
	  echo "make deps: installing $(DEB_PKGS)"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y --no-install-recommends $(DEB_PKGS); \
	fi

deps-test: deps
	@missing=""; for p in $(DEB_TEST_PKGS); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps-test: installing$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y --no-install-recommends $$missing; \
	fi

build/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

build/asan/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c $< -o $@

build/libcowprof.a: $(LIB_OBJS)
	ar rcs $@ $^

build/libcowprof-asan.a: $(ASAN_OBJS)
	ar rcs $@ $^

build/cowprof: $(CLI_OBJS) build/libcowprof.a
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LIBS)

# The preload library: position-independent, only its hooks exported. No
# SANITIZER here: it is loaded into programs cowprof did not build, and a
# sanitizer runtime must come first in a program's libraries.
build/libcowprof_preload.so: $(PRELOAD_SRCS) preload/preload.h collectors/faultring.h \
		collectors/pyframe.h | deps
	@mkdir -p build
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(CFLAGS) -fPIC -fvisibility=hidden \
	  -shared -Wl,-z,defs $(shell pkg-config --cflags libunwind libelf) -o $@ $(PRELOAD_SRCS) \
	  $(shell pkg-config --libs libunwind libelf) -ldl -pthread

build/forktree: samples/forktree.c | deps
	@mkdir -p build
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) -o $@ $<

build/cowwriters: samples/cowwriters.c | deps
	@mkdir -p build
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) -o $@ $<

# Test tools: small programs the integration tests and benchmarks run.
build/pystack build/procwait build/sigwatch build/faultwatch build/faultring_dump: \
build/%: tests/tools/%.c build/libcowprof.a
	$(LINK_TOOL)

build/preload_cases: tests/tools/preload_cases.c | deps
	@mkdir -p build
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(CFLAGS) $(SANFLAGS) -pthread -o $@ $<

# Loaded into Python by the benchmarks: no SANITIZER, as for the preload
# library.
build/libpyframe_inproc.so: tests/bench/pyframe_inproc.c collectors/pyframe.c \
		collectors/maps.c common/util.c | deps
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(CFLAGS) -shared -fPIC -o $@ $^ $(LIBS)

# Unit tests: one binary per module, plain and with ASan+UBSan.
build/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) build/libcowprof.a
	@mkdir -p build/tests
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SANFLAGS) $(CMOCKA_CFLAGS) -o $@ $< \
	  build/libcowprof.a $(CMOCKA_LIBS) $(LIBS)

build/tests-asan/%: tests/unit/%.c $(wildcard tests/unit/*.h) build/libcowprof-asan.a
	@mkdir -p build/tests-asan
	$(CC) $(BASE_CFLAGS) -O1 -g $(ASAN) $(CMOCKA_CFLAGS) -o $@ $< \
	  build/libcowprof-asan.a $(CMOCKA_LIBS) $(LIBS)

# The 3.11 offsets from CPython's own headers (python3.11-dev), for
# test_pyframe; without the headers the file says so and that test skips.
PY311_INC = /usr/include/python3.11
build/pyoffsets.txt: tests/tools/pyoffsets.c
	@mkdir -p build
	@if [ -f $(PY311_INC)/internal/pycore_frame.h ]; then \
	  $(CC) -O0 -I$(PY311_INC) -o build/pyoffsets $< && \
	  build/pyoffsets > $@; \
	else echo "# no $(PY311_INC) headers (python3.11-dev)" > $@; fi

build/tests/test_pyframe build/tests-asan/test_pyframe: build/pyoffsets.txt

# ELF files test_symbols resolves: a -g PIE exporting its globals, its nm
# listing, a stripped copy, its debug file under build/symtarget/debug/
# (.build-id/ab/cdef....debug) and a non-PIE build (fixed flags: the test expects them).
SYMTARGET = build/symtarget/symtarget
$(SYMTARGET): tests/unit/symtarget/symtarget.c | deps
	@mkdir -p build/symtarget
	$(CC) $(WARN) -O2 -g -fPIE -pie -rdynamic -o $@ $<
	nm --defined-only -S $@ > $@.nm
	strip -o $@-stripped $@
	id=$$(readelf -n $@ | sed -n 's/.*Build ID: //p'); \
	d=build/symtarget/debug/.build-id/$$(echo $$id | cut -c1-2); \
	mkdir -p $$d && objcopy --only-keep-debug $@ $$d/$$(echo $$id | cut -c3-).debug
	$(CC) $(WARN) -O2 -g -no-pie -rdynamic -o $@-nopie $<
	nm --defined-only -S $@-nopie > $@-nopie.nm
build/tests/test_symbols build/tests-asan/test_symbols build/fuzz/fuzz_symbols: $(SYMTARGET)

# The program test_unwind stops and unwinds: no frame pointers (unwound by
# .eh_frame), frame pointers without unwind tables (the rbp fallback), and
# the first one's code without its unwind tables (-nocfi).
UNWTARGET = build/unwtarget/unwtarget
$(UNWTARGET): tests/unit/unwtarget/unwtarget.c | deps
	@mkdir -p build/unwtarget
	$(CC) $(WARN) -O2 -g -fomit-frame-pointer -o $@ $<
	$(CC) $(WARN) -O2 -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	  -fno-unwind-tables -o $@-fp $<
	$(CC) $(WARN) -O2 -fomit-frame-pointer -fno-asynchronous-unwind-tables \
	  -fno-unwind-tables -o $@-nocfi $<
build/tests/test_unwind build/tests-asan/test_unwind: $(UNWTARGET)

# The parsers of input cowprof did not write (collectors/, and the maps
# reader of preload/), compiled once, instrumented, into one archive every
# fuzz target links.
FUZZ_SRCS = $(filter common/% collectors/% preload/%,$(LIB_SRCS))
FUZZ_FLAGS = $(BASE_CFLAGS) -O1 -g -MMD -MP
FUZZ_OBJS = $(FUZZ_SRCS:%.c=build/fuzz/obj/%.o)

build/fuzz/obj/%.o: %.c | deps-test
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

build/fuzz/libcollectors.a: $(FUZZ_OBJS)
	ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c build/fuzz/libcollectors.a | deps-test
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined \
	  -o $@ $< build/fuzz/libcollectors.a $(LIBS)

check: deps-test
	$(MAKE) --no-print-directory check-layers check-unit check-asan check-fuzz \
	  check-integration

# No folder includes a folder later in the flow (docs/architecture.md).
check-layers:
	@$(PYTHON) tests/check_layers.py

check-unit: $(UNIT_TESTS:%=build/tests/%)
	@tests/run-unit.sh build/tests $(UNIT_TESTS)

check-asan: $(UNIT_TESTS:%=build/tests-asan/%)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 tests/run-unit.sh build/tests-asan $(UNIT_TESTS)

check-fuzz: $(FUZZ_TARGETS:%=build/fuzz/%)
	@tests/fuzz/run.sh build/fuzz $(FUZZ_TARGETS)

check-integration: build/cowprof $(PRELOAD_TOOLS) $(SAMPLES) $(TOOLS)
	@$(PYTHON) tests/integration/run.py

demo: build/cowprof $(SAMPLES) | deps-test
	@samples/demo.sh

BENCH_TOOLS = build/bench_pagemap_raw build/bench_view_reload build/bench_procstate \
	build/bench_why build/bench_faults build/bench_symbols

bench: build/cowprof $(SAMPLES) $(TOOLS) $(PRELOAD_TOOLS) $(BENCH_TOOLS) | deps-test
	@$(PYTHON) tests/bench/bench_snapshot.py
	@$(PYTHON) tests/bench/bench_recorder.py
	@$(PYTHON) tests/bench/bench_pyframe.py
	@$(PYTHON) tests/bench/bench_sigtrace.py
	@build/bench_view_reload
	@$(PYTHON) tests/bench/bench_procstate.py
	@$(PYTHON) tests/bench/bench_why.py
	@$(PYTHON) tests/bench/bench_faults.py
	@$(PYTHON) tests/bench/bench_run.py
	@$(PYTHON) tests/bench/bench_attach_faults.py
	@$(PYTHON) tests/bench/bench_report_day.py
	@build/bench_symbols

# Benchmark programs: tests/bench/NAME.c gives build/bench_NAME.
build/bench_symbols: $(SYMTARGET)
build/bench_symbols build/bench_procstate build/bench_why build/bench_view_reload: \
build/bench_%: tests/bench/%.c build/libcowprof.a
	$(LINK_TOOL)

build/bench_faults build/bench_pagemap_raw: build/bench_%: tests/bench/%.c | deps
	@mkdir -p build
	$(CC) $(WARN) $(CPPFLAGS_ALL) $(CFLAGS) $(SANFLAGS) -o $@ $<

install: build/cowprof build/libcowprof_preload.so
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 build/cowprof $(DESTDIR)$(PREFIX)/bin/cowprof
	install -d $(DESTDIR)$(PREFIX)/lib/cowprof
	install -m 644 build/libcowprof_preload.so $(DESTDIR)$(PREFIX)/lib/cowprof/libcowprof_preload.so

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
