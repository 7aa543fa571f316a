# wengert - plain Makefile. `make` builds the libraries and examples; `make demo`, `make test`.
# Variables: CC, OPT, PREFIX, DESTDIR.

CC      ?= cc
OPT     ?= -O2
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

# Check's flags, looked up when a test is built (after `check-deps` has had its say).
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt)

.PHONY: all lib examples demo test tests check-deps clean install uninstall
all: lib examples

lib: $(B)/libwengert.a $(B)/libwengert.so

$(B)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(B)/libwengert.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libwengert.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libwengert.so.0 -Wl,--no-undefined -o $@ $^ $(LDLIBS)

examples: $(EX_BIN)
$(B)/examples/%: examples/%.c $(B)/libwengert.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@ $(B)/libwengert.a $(LDLIBS)

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

tests: $(TEST_BIN)
$(B)/tests/%: tests/%.c $(TEST_LIB_SRC) $(B)/libwengert.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes $(CHECK_CFLAGS) $< $(TEST_LIB_SRC) -o $@ \
	  $(B)/libwengert.a $(CHECK_LIBS) $(LDLIBS)

test: check-deps
	@$(MAKE) --no-print-directory lib tests
	@sh tests/run.sh $(TEST_BIN)

# ---- install --------------------------------------------------------------------------------
install: lib
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/wengert.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(B)/libwengert.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/libwengert.so $(DESTDIR)$(PREFIX)/lib/libwengert.so.$(VERSION)
	ln -sf libwengert.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libwengert.so.0
	ln -sf libwengert.so.0 $(DESTDIR)$(PREFIX)/lib/libwengert.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' wengert.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/wengert.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/wengert.h $(DESTDIR)$(PREFIX)/lib/libwengert.a \
	  $(DESTDIR)$(PREFIX)/lib/libwengert.so $(DESTDIR)$(PREFIX)/lib/libwengert.so.0 \
	  $(DESTDIR)$(PREFIX)/lib/libwengert.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/pkgconfig/wengert.pc

clean:
	rm -rf $(B)

-include $(LIB_OBJ:.o=.d) $(EX_BIN:=.d) $(TEST_BIN:=.d)

# ---- teaching: docs regenerated from the engine (make docs) ----------------------------------
# `make docs` regenerates docs/ops.md (from src/ops/oplist.h), the engine output in
# docs/chain-rule.md (between its <!-- begin: NAME --> / <!-- end: NAME --> markers) and, with
# Graphviz, docs/img/seed_graph.svg. tests/check_print.c fails when the committed docs differ
# from what these programs write now.
.PHONY: docs graph
all: $(B)/tools/ops_md

docs: $(B)/tools/ops_md $(B)/examples/chain_rule graph
	./$(B)/tools/ops_md > $(B)/ops.md
	mv $(B)/ops.md docs/ops.md
	./$(B)/examples/chain_rule --blocks > $(B)/chain_rule.blocks
	awk -f docs/tools/splice.awk $(B)/chain_rule.blocks docs/chain-rule.md > $(B)/chain-rule.md
	mv $(B)/chain-rule.md docs/chain-rule.md
	@echo "make docs: wrote docs/ops.md and docs/chain-rule.md"

graph: $(B)/examples/tape_graph
	@mkdir -p docs/img
	@if command -v dot >/dev/null 2>&1; then \
	  ./$(B)/examples/tape_graph $(B)/seed_graph.dot && \
	  dot -Tsvg $(B)/seed_graph.dot -o docs/img/seed_graph.svg && \
	  echo "make graph: wrote docs/img/seed_graph.svg"; \
	else \
	  echo "make graph: Graphviz (dot) is not installed: docs/img/seed_graph.svg left as it is"; \
	fi

$(B)/tools/%: docs/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< -o $@

-include $(B)/tools/ops_md.d

# (end of teaching)

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

# (end of gradient checking)

# ---- models ---------------------------------------------------------------------------------
# make models-check: the examples reach their accuracy, save/load round-trips, NumPy reads it.
.PHONY: models-check
models-check: examples
	@B=$(B) sh tests/models_check.sh

# (end of models)

# ---- performance (make bench) ---------------------------------------------------------------

# (end of performance)

# ---- reliability (make sanitize, valgrind, fuzz, coverage) ----------------------------------

# (end of reliability)
