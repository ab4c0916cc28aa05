# The ring consumer (lib/kcore/ring.c) and its verification: Criterion unit tests,
# a SPIN model of the protocol, a ThreadSanitizer stress test of the real
# code, and a fuzz target.

$(eval $(call host_test,host-ring,tests/host/test_ring.c lib/kcore/ring.c lib/kcore/ring_opdef.c))
$(eval $(call fuzz_target,ring,tests/fuzz/fuzz_ring.c lib/kcore/ring.c lib/kcore/ring_opdef.c))

# --- spin-ring: exhaustive model checking of tests/spin/ring.pml ----------
#
# Four searches; each is one TAP line, "ok" only if pan finished the whole
# state space with "errors: 0". Generated files go to build/spin/<run>/.
SPIN_MODEL := tests/spin/ring.pml
SPIN_DIR   := $(BUILD)/spin

# $(call spin_run,RUN,SPIN_FLAGS,PAN_CFLAGS,PAN_FLAGS,WHAT) prints one TAP line
# (mk/spin.mk). (WHAT must not contain commas.)
spin_run = $(call spin_check,spin ring $(1),$(SPIN_MODEL),$(SPIN_DIR)/$(1),$(2),$(3),-m200000 $(4),$(5))

.PHONY: test-spin-ring
test-spin-ring: | $(RESULTS)
	@echo "== spin-ring"
	@{ $(call spin_run,safety,,-DSAFETY,-N inv,well-behaved producer: slots in bounds; no unconsumed CQE overwritten; every completion exactly once; used + reserved <= CQ size); \
	   $(call spin_run,liveness,,,-a -f -N done,well-behaved producer: every submission completes under weak fairness); \
	   $(call spin_run,hostile,-DHOSTILE,-DSAFETY,-N inv,hostile producer: slots in bounds; reserved completions always fit; used + reserved <= CQ size); \
	   $(call spin_run,hostile-progress,-DHOSTILE,-DNP,-l -f,hostile producer: no non-progress cycle in the kernel); \
	 } >$(RESULTS)/spin-ring.tap 2>&1; \
	 grep '^not ok' $(RESULTS)/spin-ring.tap | sed 's|^|[spin-ring] |' >&2 || true
TEST_SUITES += spin-ring

# --- stress-ring: the real lib/kcore/ring.c on two and three threads under TSan --
STRESS_OPS    ?= 1000000
STRESS_CFLAGS := -std=c17 -O1 -g $(WARN) -fsanitize=thread -pthread -MMD -MP -Iinclude -Ilib

$(BUILD)/stress/ring_stress: tests/stress/ring_stress.c lib/kcore/ring.c lib/kcore/ring_opdef.c
	@mkdir -p $(dir $@)
	@echo "  TSANCC  $@"
	$(Q)$(HOST_CC) $(STRESS_CFLAGS) -o $@ tests/stress/ring_stress.c lib/kcore/ring.c lib/kcore/ring_opdef.c

.PHONY: test-stress-ring
test-stress-ring: $(BUILD)/stress/ring_stress | $(RESULTS)
	@echo "== stress-ring"
	@TSAN_OPTIONS=halt_on_error=1 tools/run-tap.sh stress-ring $(RESULTS)/stress-ring.tap \
		$(BUILD)/stress/ring_stress $(STRESS_OPS)
TEST_SUITES += stress-ring
