# Cap'n Proto runtime (lib/capnp, CAPNP_SRCS and CAPNP_HOST_SRCS in
# mk/link.mk): unit tests, the freestanding build check and the reader fuzz
# target.

CAPNP_TESTS     := $(sort $(wildcard tests/capnp/test_*.c))

$(eval $(call host_test,capnp-unit,$(CAPNP_TESTS) $(CAPNP_HOST_SRCS)))
$(eval $(call fuzz_target,capnp_reader,tests/fuzz/fuzz_capnp_reader.c $(CAPNP_SRCS)))

# Every runtime source must build with the kernel's flags and reference no
# symbol outside the runtime (no libc; memcpy and memset only).
TEST_SUITES += capnp-freestanding
.PHONY: test-capnp-freestanding
test-capnp-freestanding: | $(RESULTS)
	@echo "== capnp-freestanding"
	@tools/run-tap.sh capnp-freestanding $(RESULTS)/capnp-freestanding.tap \
	    sh tests/capnp/freestanding.sh $(BUILD)/capnp-fs "$(KCC) $(KCFLAGS)" $(CAPNP_SRCS)

# `make bench-capnp` (not part of `make test`).
include mk/bench-capnp.mk
