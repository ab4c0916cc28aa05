# --- spin-smp: exhaustive model checking of tests/spin/smp.pml ------------
#
# The SMP protocols of the big-kernel-lock kernel (docs/smp-model.md): the
# cross-CPU wake-up (WAKE, the default model) and the TLB shootdown (-DTLB).
# Each search is one TAP line. A check is "ok" only if pan finished the
# whole state space with "errors: 0". A mutation run (-D flag that removes
# one essential step) is "ok" only if pan finds the expected kind of error,
# so that the checks cannot pass vacuously. Generated files go to
# build/spin-smp/<run>/.
SPIN_SMP_MODEL := tests/spin/smp.pml
SPIN_SMP_DIR   := $(BUILD)/spin-smp

# $(call spin_smp_run,RUN,SPIN_FLAGS,PAN_CFLAGS,PAN_FLAGS,WHAT) prints one
# TAP line: the property must hold (mk/spin.mk). (WHAT must not contain
# commas.) A -m in PAN_FLAGS overrides the default depth (the TLB model's
# searches reach about 1.8 million steps deep).
spin_smp_run = $(call spin_check,spin smp $(1),$(SPIN_SMP_MODEL),$(SPIN_SMP_DIR)/$(1),$(2),$(3),-m1000000 $(4),$(5))

# $(call spin_smp_mutant,RUN,SPIN_FLAGS,PAN_CFLAGS,PAN_FLAGS,MODEL,ERROR,WHAT,KIND)
# prints one TAP line: with the step removed, pan must report an error
# whose message matches the regular expression KIND.
define spin_smp_mutant
if ! { $(call spin_build,$(SPIN_SMP_MODEL),$(SPIN_SMP_DIR)/$(1),$(2),$(3)); }; then \
    echo "not ok - spin smp $(5): the mutant $(1) did not build (see $$d/build.log)"; \
else \
    (cd $$d && timeout 300 ./pan -m1000000 -w20 $(4)) >$$d/pan.log 2>&1; \
    if grep -qE 'errors: [1-9]' $$d/pan.log && grep -qE '^pan:1: ($(8))' $$d/pan.log; then \
        echo "ok - spin smp $(5): the check finds $(6) when $(7) is removed ($$(grep -m1 -oE '^pan:1: [a-z ]+' $$d/pan.log | sed 's/^pan:1: //; s/ *$$//'))"; \
    else \
        echo "not ok - spin smp $(5): the check does not find $(6) when $(7) is removed (see $$d/pan.log)"; \
    fi; \
fi
endef

SPIN_SMP_SAFE := -DSAFETY -DNOCLAIM

# Every search runs as its own background job (they are independent); the
# lines are collected in this order.
SPIN_SMP_RUNS := wake-safety wake-liveness wake-no-ipi wake-split-sti-hlt \
                 tlb-safety tlb-liveness tlb-no-spin-flush tlb-no-wait tlb-ipi-first \
                 tlb-no-defer-mask

.PHONY: test-spin-smp
test-spin-smp: | $(RESULTS)
	@echo "== spin-smp"
	@mkdir -p $(SPIN_SMP_DIR); o=$(SPIN_SMP_DIR); \
	 ( $(call spin_smp_run,wake-safety,,$(SPIN_SMP_SAFE),,2 CPUs and 3 threads: BKL mutual exclusion; only queued threads are dispatched and only by an idle CPU; no thread left queued when every CPU has halted for good) ) >$$o/wake-safety.tap 2>&1 & \
	 ( $(call spin_smp_run,wake-liveness,,,-a -f -N nolost,under weak fairness every queued thread runs and no CPU stays halted with a non-empty run queue) ) >$$o/wake-liveness.tap 2>&1 & \
	 ( $(call spin_smp_mutant,wake-no-ipi,-DNO_IPI,-O0,-a -f -N nolost,wake,the lost wake-up,the reschedule IPI to an idle target,acceptance cycle) ) >$$o/wake-no-ipi.tap 2>&1 & \
	 ( $(call spin_smp_mutant,wake-split-sti-hlt,-DSPLIT_STI_HLT,-O0,-a -f -N nolost,wake,the lost wake-up,the atomicity of sti and hlt,acceptance cycle) ) >$$o/wake-split-sti-hlt.tap 2>&1 & \
	 ( $(call spin_smp_run,tlb-safety,-DTLB,$(SPIN_SMP_SAFE),-m3000000,3 CPUs: BKL mutual exclusion; no CPU holds the translation when the shootdown returns; no translation used after its frame is freed; no deadlock) ) >$$o/tlb-safety.tap 2>&1 & \
	 ( $(call spin_smp_run,tlb-liveness,-DTLB,,-m3000000 -a -f -N done,under weak fairness every shootdown sender finishes) ) >$$o/tlb-liveness.tap 2>&1 & \
	 ( $(call spin_smp_mutant,tlb-no-spin-flush,-DTLB -DNO_SPIN_FLUSH,-O0 $(SPIN_SMP_SAFE),,tlb,the deadlock,the shootdown service in the BKL spin loop,invalid end state) ) >$$o/tlb-no-spin-flush.tap 2>&1 & \
	 ( $(call spin_smp_mutant,tlb-no-wait,-DTLB -DNO_WAIT,-O0 $(SPIN_SMP_SAFE),,tlb,the stale translation,the sender's wait for the pending bits,assertion violated) ) >$$o/tlb-no-wait.tap 2>&1 & \
	 ( $(call spin_smp_mutant,tlb-no-defer-mask,-DTLB -DNO_DEFER_MASK,-O0 $(SPIN_SMP_SAFE),,tlb,the stale translation,the CPU-set bit kept until the deferred CR3 write,assertion violated) ) >$$o/tlb-no-defer-mask.tap 2>&1 & \
	 ( $(call spin_smp_mutant,tlb-ipi-first,-DTLB -DIPI_FIRST,-O0,-a -f -N done,tlb,the hung sender,the ordering of the pending bit before the IPI,acceptance cycle) ) >$$o/tlb-ipi-first.tap 2>&1 & \
	 wait; \
	 for r in $(SPIN_SMP_RUNS); do \
	     if [ -s $$o/$$r.tap ]; then cat $$o/$$r.tap; else echo "not ok - spin smp $$r: no result"; fi; \
	 done >$(RESULTS)/spin-smp.tap; \
	 grep '^not ok' $(RESULTS)/spin-smp.tap | sed 's|^|[spin-smp] |' >&2 || true
TEST_SUITES += spin-smp
