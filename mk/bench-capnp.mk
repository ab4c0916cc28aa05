# `make bench-capnp`: the Cap'n Proto runtime against the official C++
# library (Debian libcapnp-dev) on the messages of bench/capnp/bench.capnp,
# and the instruction counts of a system call's Cap'n Proto work
# (bench/capnp/small_calls.c). Not part of `make test`; docs/benchmarks.md
# has the figures.
#
# Included from suite-capnp.mk, which the Makefile reads before
# suite-capnpc.mk: the plugin is named by its path here, since rule
# prerequisites are expanded as they are read (the capos.capnp code is
# declared earlier, in mk/link.mk).

BENCH_CAPNP     := $(BUILD)/bench-capnp
BENCH_CAPNP_C   := $(BENCH_CAPNP)/c
BENCH_CAPNP_CXX := $(BENCH_CAPNP)/cpp
BENCH_CAPNPC    := $(BUILD)/tools/capnpc-c
BENCH_GEN_CAPOS := $(GEN_CAPOS_H) $(GEN_CAPOS_C)
BENCH_CXX       := g++
BENCH_CFLAGS    := -std=c17 -O2 -g $(WARN) -Iinclude -Ilib -Ibench/capnp
BENCH_CXXFLAGS  := -std=c++14 -O2 -g -Wall -Wextra -Ibench/capnp -I$(BENCH_CAPNP_CXX)
BENCH_LIB_OBJS  := $(patsubst lib/capnp/%.c,$(BENCH_CAPNP)/lib/%.o,$(CAPNP_SRCS))
BENCH_LIB_HDRS  := $(wildcard lib/capnp/*.h)

# Our accessors for bench.capnp, and the C++ library's.
$(BENCH_CAPNP_C)/bench.capnp.h $(BENCH_CAPNP_C)/bench.capnp.c &: bench/capnp/bench.capnp \
        $(BENCH_CAPNPC)
	@$(CAPNP_CHECK)
	@echo "  CAPNPC  $<"
	$(Q)$(call capnpc_run,bench/capnp,$(BENCH_CAPNP_C),$<)

$(BENCH_CAPNP_CXX)/bench.capnp.h $(BENCH_CAPNP_CXX)/bench.capnp.c++ &: bench/capnp/bench.capnp
	@$(CAPNP_CHECK)
	@mkdir -p $(BENCH_CAPNP_CXX)
	@echo "  CAPNP   $< (C++)"
	$(Q)capnp compile --src-prefix=bench/capnp -oc++:$(BENCH_CAPNP_CXX) $<

# The runtime at -O2 without sanitizers, as the kernel and programs use it.
$(BENCH_CAPNP)/lib/%.o: lib/capnp/%.c $(BENCH_LIB_HDRS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(BENCH_CFLAGS) -c $< -o $@

$(BENCH_CAPNP)/bench_c.o: bench/capnp/bench_c.c bench/capnp/bench.h $(BENCH_CAPNP_C)/bench.capnp.h \
        $(BENCH_LIB_HDRS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(BENCH_CFLAGS) -I$(BENCH_CAPNP_C) -c $< -o $@
$(BENCH_CAPNP)/bench_gen.o: $(BENCH_CAPNP_C)/bench.capnp.c $(BENCH_CAPNP_C)/bench.capnp.h \
        $(BENCH_LIB_HDRS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(BENCH_CFLAGS) -I$(BENCH_CAPNP_C) -c $< -o $@
$(BENCH_CAPNP)/bench_main.o: bench/capnp/bench_main.c bench/capnp/bench.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(BENCH_CFLAGS) -c $< -o $@
$(BENCH_CAPNP)/bench_cpp.o: bench/capnp/bench_cpp.c++ bench/capnp/bench.h \
        $(BENCH_CAPNP_CXX)/bench.capnp.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $@"
	$(Q)$(BENCH_CXX) $(BENCH_CXXFLAGS) -Werror -c $< -o $@
$(BENCH_CAPNP)/bench_gen_cpp.o: $(BENCH_CAPNP_CXX)/bench.capnp.c++ $(BENCH_CAPNP_CXX)/bench.capnp.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCXX $@"
	$(Q)$(BENCH_CXX) $(BENCH_CXXFLAGS) -c $< -o $@

$(BENCH_CAPNP)/bench-capnp: $(addprefix $(BENCH_CAPNP)/,bench_main.o bench_c.o bench_gen.o \
        bench_cpp.o bench_gen_cpp.o) $(BENCH_LIB_OBJS)
	@echo "  HOSTLD  $@"
	$(Q)$(BENCH_CXX) -o $@ $^ -lcapnp -lkj

$(BENCH_CAPNP)/small-calls: bench/capnp/small_calls.c $(BENCH_GEN_CAPOS) $(BENCH_LIB_OBJS) \
        $(BENCH_LIB_HDRS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) $(BENCH_CFLAGS) -I$(GEN_DIR) -o $@ bench/capnp/small_calls.c \
	    $(GEN_CAPOS_C) $(BENCH_LIB_OBJS)

.PHONY: bench-capnp
bench-capnp: $(BENCH_CAPNP)/bench-capnp $(BENCH_CAPNP)/small-calls
	@sh bench/capnp/run.sh $(BENCH_CAPNP)/bench-capnp $(BENCH_CAPNP)/small-calls
