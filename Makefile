# wengert - plain Makefile. `make` builds the libraries and examples; `make demo`, `make test`.
# Variables: CC, OPT, NATIVE, PREFIX, DESTDIR.

CC      ?= cc
# NATIVE=1 (default) tunes for this machine's CPU (-march=native: AVX2/AVX-512 micro-kernel);
# `make NATIVE=0` builds binaries that run on any x86-64 (or other) CPU of the target family.
NATIVE  ?= 1
ifeq ($(NATIVE),1)
OPT     ?= -O3 -march=native
else
OPT     ?= -O3
endif
PREFIX  ?= /usr/local
VERSION := 0.1.0

WARN    := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wcast-qual -Wundef -Wwrite-strings
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) \
             -Iinclude -Isrc -MMD -MP
LIB_CFLAGS = $(ALL_CFLAGS) -DWG_BUILD -fPIC -fvisibility=hidden
LDLIBS  := -lm -lpthread

B        := build
LIB_SRC  := $(sort $(wildcard src/*/*.c))
LIB_OBJ  := $(LIB_SRC:src/%.c=$(B)/obj/%.o)
# ar stores members by file name alone: two sources with one name would silently drop one.
ifneq ($(words $(notdir $(LIB_SRC))),$(words $(sort $(notdir $(LIB_SRC)))))
$(error two files under src/ share a file name; rename one (ar keeps members by name))
endif
EX_SRC   := $(sort $(wildcard examples/*.c))
EX_BIN   := $(EX_SRC:examples/%.c=$(B)/examples/%)
TEST_SRC := $(sort $(wildcard tests/check_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)
TEST_LIB_SRC := $(sort $(filter-out $(TEST_SRC),$(wildcard tests/*.c)))

# The float32 build: the same sources compiled with -DWG_REAL_FLOAT (wg_real = float) into
# build/obj-f32/, linked into libwengert-f32.{a,so} (soname libwengert-f32.so.0), with its own
# examples (build/examples-f32/) and the same Check suites (build/tests-f32/). A program using it
# compiles with -DWG_REAL_FLOAT too (wengert-f32.pc's Cflags, CMake's wengert::wengert-f32).
F32          := -DWG_REAL_FLOAT
LIB_OBJ_F32  := $(LIB_SRC:src/%.c=$(B)/obj-f32/%.o)
EX_BIN_F32   := $(EX_SRC:examples/%.c=$(B)/examples-f32/%)
# Every suite runs in both builds (check_kernels scales its bounds to wg_real's precision).
TEST_SRC_F32 := $(TEST_SRC)
TEST_BIN_F32 := $(TEST_SRC_F32:tests/%.c=$(B)/tests-f32/%)

# Check's flags, looked up when a test is built (after `check-deps` has had its say).
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt)

.PHONY: all lib examples demo test tests tests-f64 tests-f32 check-deps clean install uninstall
all: lib examples

lib: $(B)/libwengert.a $(B)/libwengert.so $(B)/libwengert-f32.a $(B)/libwengert-f32.so

$(B)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(B)/libwengert.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libwengert.so: $(LIB_OBJ)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -shared -Wl,-soname,libwengert.so.0 -Wl,--no-undefined \
	  -o $@ $^ $(LDLIBS)

$(B)/obj-f32/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(F32) -c $< -o $@

$(B)/libwengert-f32.a: $(LIB_OBJ_F32)
	@rm -f $@
	ar rcs $@ $^

$(B)/libwengert-f32.so: $(LIB_OBJ_F32)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -shared -Wl,-soname,libwengert-f32.so.0 -Wl,--no-undefined \
	  -o $@ $^ $(LDLIBS)

examples: $(EX_BIN) $(EX_BIN_F32)
$(B)/examples/%: examples/%.c $(B)/libwengert.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(B)/libwengert.a $(LDLIBS)
$(B)/examples-f32/%: examples/%.c $(B)/libwengert-f32.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(F32) $< -o $@ $(B)/libwengert-f32.a $(LDLIBS)

demo: $(B)/examples/seed_backprop
	./$(B)/examples/seed_backprop examples/data/breast_cancer.csv

# ---- tests ----------------------------------------------------------------------------------
# Check is the only test dependency. When it is missing, root on Debian installs it (and says
# so); anyone else is told the exact command.
check-deps:
	@if ! pkg-config --exists check 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make: Check is missing; installing it: apt-get install -y check pkg-config"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq check pkg-config; \
	  else \
	    echo "make: the tests need Check. Install it with: sudo apt-get install check pkg-config"; \
	    exit 1; \
	  fi; \
	fi

# `tests` builds both sets: build/tests/check_* (float64) and build/tests-f32/check_* (the same
# tests/*.c with -DWG_REAL_FLOAT, linked to libwengert-f32.a; their float bounds: tests/tol.h).
tests: tests-f64 tests-f32
tests-f64: $(TEST_BIN)
tests-f32: $(TEST_BIN_F32)
$(B)/tests/%: tests/%.c $(TEST_LIB_SRC) $(B)/libwengert.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -Wno-missing-prototypes $(CHECK_CFLAGS) $< $(TEST_LIB_SRC) -o $@ \
	  $(B)/libwengert.a $(CHECK_LIBS) $(LDLIBS)
$(B)/tests-f32/%: tests/%.c $(TEST_LIB_SRC) $(B)/libwengert-f32.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(F32) -Itests -Wno-missing-prototypes $(CHECK_CFLAGS) $< $(TEST_LIB_SRC) \
	  -o $@ $(B)/libwengert-f32.a $(CHECK_LIBS) $(LDLIBS)

test: check-deps
	@$(MAKE) --no-print-directory lib tests
	@sh tests/run.sh $(TEST_BIN) $(TEST_BIN_F32)

# ---- install --------------------------------------------------------------------------------
# Both libraries side by side (libwengert: float64, libwengert-f32: float32), one header.
install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/wengert.h $(DESTDIR)$(PREFIX)/include/
	for l in wengert wengert-f32; do \
	  install -m 644 $(B)/lib$$l.a $(DESTDIR)$(PREFIX)/lib/ && \
	  install -m 755 $(B)/lib$$l.so $(DESTDIR)$(PREFIX)/lib/lib$$l.so.$(VERSION) && \
	  ln -sf lib$$l.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/lib$$l.so.0 && \
	  ln -sf lib$$l.so.0 $(DESTDIR)$(PREFIX)/lib/lib$$l.so && \
	  sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $$l.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/$$l.pc || exit 1; \
	done
	install -d $(DESTDIR)$(PREFIX)/lib/cmake/wengert
	sed -e 's|@VERSION@|$(VERSION)|g' cmake/wengert-config.cmake.in \
	  > $(DESTDIR)$(PREFIX)/lib/cmake/wengert/wengert-config.cmake
	ptr=$$($(CC) $(CFLAGS) $(EXTRA_CFLAGS) -dM -E -x c /dev/null | sed -n 's/^#define __SIZEOF_POINTER__ //p'); \
	sed -e 's|@VERSION@|$(VERSION)|g' -e "s|@SIZEOF_VOID_P@|$${ptr:-8}|g" cmake/wengert-config-version.cmake.in \
	  > $(DESTDIR)$(PREFIX)/lib/cmake/wengert/wengert-config-version.cmake

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/wengert.h
	for l in wengert wengert-f32; do \
	  rm -f $(DESTDIR)$(PREFIX)/lib/lib$$l.a $(DESTDIR)$(PREFIX)/lib/lib$$l.so \
	    $(DESTDIR)$(PREFIX)/lib/lib$$l.so.0 $(DESTDIR)$(PREFIX)/lib/lib$$l.so.$(VERSION) \
	    $(DESTDIR)$(PREFIX)/lib/pkgconfig/$$l.pc; \
	done
	rm -f \
	  $(DESTDIR)$(PREFIX)/lib/cmake/wengert/wengert-config.cmake \
	  $(DESTDIR)$(PREFIX)/lib/cmake/wengert/wengert-config-version.cmake
	-rmdir $(DESTDIR)$(PREFIX)/lib/cmake/wengert 2>/dev/null

clean:
	rm -rf $(B)

# A program outside the tree built against a staged `make install` (DESTDIR, PREFIX=/usr), once
# with pkg-config and once with CMake's find_package(wengert) (tests/consumer/).
.PHONY: consumer-check
consumer-check:
	@B=$(B) CC=$(CC) sh tests/consumer/run.sh

-include $(LIB_OBJ:.o=.d) $(EX_BIN:=.d) $(TEST_BIN:=.d)
-include $(LIB_OBJ_F32:.o=.d) $(EX_BIN_F32:=.d) $(TEST_BIN_F32:=.d)

# ---- teaching: docs regenerated from the engine (make docs) ----------------------------------
# `make docs` regenerates docs/ops.md (from src/ops/oplist.h), the engine output in
# docs/chain-rule.md and docs/gradcheck.md (between their <!-- begin: NAME --> /
# <!-- end: NAME --> markers: chain_rule, gradcheck_custom and eps_sweep with --blocks) and, with
# Graphviz, docs/img/seed_graph.svg. tests/check_print.c fails when the committed docs differ
# from what these programs write now.
.PHONY: docs graph chain-rule teach-page
all: $(B)/tools/ops_md

# One command for a student: the seed's derivation, term by term, beside the tape computing it.
chain-rule: $(B)/examples/chain_rule
	./$(B)/examples/chain_rule

docs: $(B)/tools/ops_md $(B)/examples/chain_rule $(B)/examples/gradcheck_custom \
      $(B)/examples/eps_sweep $(B)/examples/higher_order $(B)/examples/newton graph newton-plot
	./$(B)/tools/ops_md > $(B)/ops.md
	mv $(B)/ops.md docs/ops.md
	./$(B)/examples/chain_rule --blocks > $(B)/chain_rule.blocks
	awk -f docs/tools/splice.awk $(B)/chain_rule.blocks docs/chain-rule.md > $(B)/chain-rule.md
	mv $(B)/chain-rule.md docs/chain-rule.md
	./$(B)/examples/higher_order --blocks > $(B)/higher_order.blocks
	(echo "@@ begin newton"; ./$(B)/examples/newton; echo "@@ end newton") >> $(B)/higher_order.blocks
	awk -f docs/tools/splice.awk $(B)/higher_order.blocks docs/higher-order.md > $(B)/higher-order.md
	mv $(B)/higher-order.md docs/higher-order.md
	./$(B)/examples/gradcheck_custom --blocks > $(B)/gradcheck.blocks
	./$(B)/examples/eps_sweep --blocks >> $(B)/gradcheck.blocks
	awk -f docs/tools/splice.awk $(B)/gradcheck.blocks docs/gradcheck.md > $(B)/gradcheck.md
	mv $(B)/gradcheck.md docs/gradcheck.md
	@echo "make docs: wrote docs/ops.md, docs/chain-rule.md, docs/higher-order.md and docs/gradcheck.md"

# Newton-CG against gradient descent (examples/newton.c): the loss per step as a picture for
# docs/higher-order.md, when gnuplot is installed.
.PHONY: newton-plot
newton-plot: $(B)/examples/newton
	@mkdir -p docs/img
	@if command -v gnuplot >/dev/null 2>&1; then \
	  ./$(B)/examples/newton --plot $(B)/newton.dat > /dev/null && \
	  gnuplot -e "data='$(B)/newton.dat'; out='docs/img/newton.svg'" docs/tools/newton.gp && \
	  echo "make newton-plot: wrote docs/img/newton.svg"; \
	else \
	  echo "make newton-plot: gnuplot is not installed: docs/img/newton.svg left as it is"; \
	fi

graph: $(B)/examples/tape_graph
	@mkdir -p docs/img
	@if command -v dot >/dev/null 2>&1; then \
	  ./$(B)/examples/tape_graph $(B)/seed_graph.dot && \
	  dot -Tsvg $(B)/seed_graph.dot -o docs/img/seed_graph.svg && \
	  echo "make graph: wrote docs/img/seed_graph.svg"; \
	else \
	  echo "make graph: Graphviz (dot) is not installed: docs/img/seed_graph.svg left as it is"; \
	fi

# The seed's tape as a web page that steps through the sweeps (wg_tape_html), and with Chromium
# the README's screenshot of it (docs/tools/chromium.sh, which tests/check_html.c uses too).
# check_html fails when docs/seed.html differs from what the writer makes now.
teach-page: $(B)/examples/teach_page
	./$(B)/examples/teach_page docs/seed.html
	@mkdir -p docs/img
	@if command -v chromium >/dev/null 2>&1; then \
	  sh docs/tools/chromium.sh shot "file://$(CURDIR)/docs/seed.html#step=2" docs/img/seed_page.png 1300,760 \
	  && echo "make teach-page: wrote docs/seed.html and docs/img/seed_page.png"; \
	else \
	  echo "make teach-page: wrote docs/seed.html; chromium is not installed: docs/img/seed_page.png left as it is"; \
	fi

$(B)/tools/%: docs/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@

-include $(B)/tools/ops_md.d

# ---- gradient checking ----------------------------------------------------------------------
# make eps-plot: run the epsilon study and render docs/img/eps_sweep.png with gnuplot (the
# PNG is committed; without gnuplot the table and CSV are still produced).
.PHONY: eps-plot
eps-plot: $(B)/examples/eps_sweep
	./$(B)/examples/eps_sweep --csv $(B)/eps_sweep.csv
	@if command -v gnuplot >/dev/null 2>&1; then \
	  gnuplot -e "csv='$(B)/eps_sweep.csv'; out='docs/img/eps_sweep.png'" docs/img/eps_sweep.gp && \
	  echo "wrote docs/img/eps_sweep.png"; \
	else echo "make eps-plot: gnuplot is not installed; CSV in $(B)/eps_sweep.csv"; fi

# ---- models ---------------------------------------------------------------------------------
# make models-check: the examples reach their accuracy, save/load round-trips, NumPy reads it;
# then the same for the float32 examples (build/examples-f32), which also load the float64
# examples' model files and they theirs.
.PHONY: models-check
models-check: examples
	@B=$(B) sh tests/models_check.sh
	@echo "models-check: float32 (build/examples-f32, libwengert-f32)"
	@B=$(B) EX=examples-f32 sh tests/models_check.sh

# ---- performance (make bench) ---------------------------------------------------------------
# bench/bench.c times W1-W4 and G with its own main, linked against the static library
# (bench: float64, bench-f32: float32); bench/run.sh runs both with the peers that are
# installed (PyTorch, OpenBLAS) and prints the ratios.
# `make bench BENCH_ARGS=--quick` for a short smoke run.
.PHONY: bench
bench: $(B)/bench/bench $(B)/bench/bench-f32 $(B)/bench/hvp $(KANN_BENCH)
	@KANN_BENCH="$(KANN_BENCH)" sh bench/run.sh $(B) $(BENCH_ARGS)
	@sh bench/hvp.sh $(B)

# KANN, an optional peer (issue 15): `make bench KANN=/path/to/kann` builds bench/kann_bench.c
# against the KANN source tree given (nothing of KANN is kept here), with OpenBLAS's cblas when
# pkg-config finds openblas (KANN's HAVE_CBLAS build), and bench/run.sh times it beside the
# float32 bench. KANN's own code is compiled with its own warnings off (-w).
KANN       ?=
KANN_BENCH  = $(if $(KANN),$(B)/bench/kann-bench)
KANN_BLAS   = $(shell pkg-config --exists openblas 2>/dev/null && echo -DHAVE_CBLAS $$(pkg-config --cflags --libs openblas))
$(B)/bench/kann-bench: bench/kann_bench.c
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -w -I$(KANN) $< $(KANN)/kann.c $(KANN)/kautodiff.c -o $@ $(KANN_BLAS) -lm -lpthread

# The Hessian-vector product of W2 against PyTorch's double backward (issue 16), alone.
.PHONY: bench-hvp
bench-hvp: $(B)/bench/hvp
	@sh bench/hvp.sh $(B)

$(B)/bench/hvp: bench/hvp.c $(B)/libwengert.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(B)/libwengert.a $(LDLIBS)

$(B)/bench/bench: bench/bench.c $(B)/libwengert.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(B)/libwengert.a $(LDLIBS) -ldl

# the same benchmark in float32, against the float library
$(B)/bench/bench-f32: bench/bench.c $(B)/libwengert-f32.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DWG_REAL_FLOAT $< -o $@ $(B)/libwengert-f32.a $(LDLIBS) -ldl

# ---- reliability (make sanitize, valgrind, fuzz, coverage) ----------------------------------
# Each builds the library and the Check suites again into its own build dir (B=build/<name>)
# with its own flags, so they never mix with the normal build.
.PHONY: sanitize valgrind tsan fuzz coverage m32
SUITES_IN = $(TEST_SRC:tests/%.c=$(1)/tests/%)
SUITES_F32_IN = $(TEST_SRC_F32:tests/%.c=$(1)/tests-f32/%)

# WG_TEST_NO_BROWSER: check_html's headless Chromium runs belong to `make test`; these targets
# watch the library, not the browser, so they skip them (and say so).
# ASan + UBSan, every report fatal; Check's fork mode is kept, so a report is pinned to its test.
# Both sets of suites (float64 and float32) run under it; valgrind, coverage and m32 run the
# float64 set (valgrind's run is the longest of CI; coverage counts src/ lines once).
# allocator_may_return_null: a huge request returns NULL as libc's malloc does (the tests check
# that the library reports it) instead of ASan stopping the program.
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
sanitize: check-deps
	@$(MAKE) --no-print-directory B=build/sanitize OPT=-O1 EXTRA_CFLAGS="$(SAN_FLAGS)" tests
	@ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  WG_TEST_NO_BROWSER=1 sh tests/run.sh $(call SUITES_IN,build/sanitize) \
	  $(call SUITES_F32_IN,build/sanitize)

# memcheck without fork (CK_FORK=no), so every test runs in the one process valgrind watches.
# Valgrind 3.19 cannot read gcc 12's default DWARF 5: -gdwarf-4.
VG := valgrind -q --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect,possible \
      --errors-for-leak-kinds=definite,indirect,possible --track-origins=yes
# WG_TEST_ULP_SLACK: valgrind runs x87 long double at double precision, which blurs the long
# double reference of check_kernels' ulp bounds by about 2 ulp (see tests/check_kernels.c).
valgrind: check-deps
	@$(MAKE) --no-print-directory B=build/valgrind OPT=-O1 CFLAGS="-O1 -gdwarf-4" tests-f64
	@for t in $(call SUITES_IN,build/valgrind); do \
	  if CK_FORK=no WG_TEST_ULP_SLACK=2 WG_TEST_NO_BROWSER=1 $(VG) $$t > $$t.vg 2>&1; then \
	    echo "$$(basename $$t): $$(grep -E '[0-9]+%: Checks' $$t.vg)"; \
	  else cat $$t.vg; echo "valgrind: $$(basename $$t) FAILED"; exit 1; fi; \
	done; echo "valgrind: no errors, no leaks"

# ThreadSanitizer on the threads tests: two tapes on two user threads, the pool's workers
# splitting products, elementwise passes and optimizer steps, and the pool started by two user
# threads at once while a third changes the thread count (gcc's libtsan; CC=clang works too).
tsan: check-deps
	@$(MAKE) --no-print-directory B=build/tsan OPT=-O1 EXTRA_CFLAGS="-fsanitize=thread" \
	  build/tsan/tests/check_threads
	@TSAN_OPTIONS=halt_on_error=1 sh tests/run.sh build/tsan/tests/check_threads

# libFuzzer targets: every tests/fuzz/fuzz_<name>.c, built with clang against a library built
# with the same sanitizers, run FUZZ_SECONDS each on a scratch corpus seeded from the committed
# tests/fuzz/seeds/<name>/, with the dictionary tests/fuzz/<name>.dict when there is one.
# Crashes, leaks and UB reports stop the run (artifacts in build/fuzz).
FUZZ_SECONDS ?= 20
FUZZ_CC      ?= clang
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
fuzz:
	@$(MAKE) --no-print-directory B=build/fuzz CC=$(FUZZ_CC) OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" build/fuzz/libwengert.a
	@set -e; for src in $(FUZZ_SRC); do n=$$(basename $$src .c); \
	  $(FUZZ_CC) -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) \
	    -Iinclude -Isrc -Itests $$src -o build/fuzz/$$n build/fuzz/libwengert.a $(LDLIBS); \
	  mkdir -p build/fuzz/corpus/$$n build/fuzz/artifacts; \
	  seeds=tests/fuzz/seeds/$$n; [ -d $$seeds ] || seeds=; \
	  dict=; [ -f tests/fuzz/$$n.dict ] && dict=-dict=tests/fuzz/$$n.dict; \
	  if ! ./build/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$dict \
	       -artifact_prefix=build/fuzz/artifacts/$$n- build/fuzz/corpus/$$n $$seeds \
	       > build/fuzz/$$n.log 2>&1; then \
	    tail -n 40 build/fuzz/$$n.log; echo "fuzz: $$n FAILED (log: build/fuzz/$$n.log)"; exit 1; \
	  fi; \
	  echo "fuzz: $$n: $$(sed -n 's/^stat::number_of_executed_units: *//p' build/fuzz/$$n.log) runs" \
	    "in $(FUZZ_SECONDS) s, $$(sed -n 's/^stat::new_units_added: *//p' build/fuzz/$$n.log)" \
	    "new inputs, peak RSS $$(sed -n 's/^stat::peak_rss_mb: *//p' build/fuzz/$$n.log) MB, no crash/leak/UB"; \
	done

# A 32-bit x86 build (where size_t is 32 bits, so every size check matters) of the library,
# the examples, the bench and the Check suites, then the suite. Debian: gcc-multilib and the
# i386 Check library (check:i386, libsubunit-dev:i386; .ci/run installs them). SSE2 math, as
# on x86-64: x87's long double intermediates would change the last bits of results (and turn
# off the vector kernels, which need FLT_EVAL_METHOD 0).
M32_FLAGS := -m32 -msse2 -mfpmath=sse
m32: check-deps
	@mkdir -p build/m32; if ! printf '#include <check.h>\nint main(void) { srunner_free(NULL); return 0; }\n' | \
	    $(CC) -m32 $(CHECK_CFLAGS) -x c - -o build/m32/probe $(CHECK_LIBS) >/dev/null 2>&1; then \
	  echo "make m32: needs gcc-multilib and the i386 Check library. On Debian, as root:"; \
	  echo "  dpkg --add-architecture i386 && apt-get update &&" \
	    "apt-get install gcc-multilib check:i386 libsubunit-dev:i386"; exit 1; \
	fi; rm -f build/m32/probe
	@$(MAKE) --no-print-directory B=build/m32 EXTRA_CFLAGS="$(M32_FLAGS) $(EXTRA_CFLAGS)" \
	  all tests-f64 build/m32/bench/bench
	@sh tests/run.sh $(call SUITES_IN,build/m32)

# gcov + gcovr: line and branch coverage of src/ by the whole Check suite; fails below the
# minimums (COV_LINES=0 COV_BRANCHES=0 to only print).
COV_LINES    ?= 95
COV_BRANCHES ?= 85
coverage: check-deps
	@$(MAKE) --no-print-directory B=build/coverage OPT=-O0 \
	  EXTRA_CFLAGS="--coverage -fprofile-update=atomic" tests-f64
	@find build/coverage -name '*.gcda' -delete
	@WG_TEST_NO_BROWSER=1 sh tests/run.sh $(call SUITES_IN,build/coverage) | grep -E ':[EF]:|did not finish|^tests:' || true
	@gcovr -r . --filter 'src/' --exclude-unreachable-branches --print-summary \
	  --fail-under-line $(COV_LINES) --fail-under-branch $(COV_BRANCHES) build/coverage \
	  > build/coverage/report.txt; rc=$$?; sed -n '/^---/,$$p' build/coverage/report.txt; \
	  case $$rc in 0) ;; 2|4|6) echo "coverage: below $(COV_LINES)% of lines or $(COV_BRANCHES)%" \
	    "of branches"; exit 1;; *) echo "coverage: gcovr failed (exit $$rc)"; exit 1;; esac

# ---- GradBench (docs/performance.md, section GradBench) ----------------------------------------
# Needs a GradBench snapshot work tree: make gradbench GRADBENCH=/path/to/gradbench; each eval at
# its default sizes, or GRADBENCH_ARGS="--quick" (reduced sizes), "--evals lse,gmm" (a subset),
# "--lstm-text FILE" (lstm's text, when the snapshot lacks it)
.PHONY: gradbench
$(B)/gradbench/wengert-gb: bench/gradbench/wengert_gb.c $(B)/libwengert.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(B)/libwengert.a $(LDLIBS)
$(B)/gradbench/wengert-nested: bench/gradbench/wengert_nested.c $(B)/libwengert.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(B)/libwengert.a $(LDLIBS)
gradbench: $(B)/gradbench/wengert-gb $(B)/gradbench/wengert-nested
	@python3 bench/gradbench/run.py "$(GRADBENCH)" $(GRADBENCH_ARGS)
