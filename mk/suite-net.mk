# The userspace TCP/IP stack's protocol logic (lib/net/, docs/network.md):
# host tests of the parsers, ARP/IPv4/ICMP/UDP/DHCP, every TCP state, loss
# recovery, and two stacks transferring back to back; fuzz targets for
# every parser and for TCP connections in every state; the freestanding
# build check; and the interop test against Linux's TCP.

NET_SRCS := $(addprefix lib/net/,wire.c netbuf.c dhcp.c stack.c tcp.c tcp_in.c tcp_out.c) \
            lib/crypto/siphash.c
NET_HDRS := $(addprefix lib/net/,wire.h netbuf.h dhcp.h net.h net_internal.h)
NET_HARNESS := tests/host/net_harness.c $(NET_SRCS)

$(eval $(call host_test,host-net-wire,tests/host/test_net_wire.c $(NET_SRCS)))
$(eval $(call host_test,host-net-stack,tests/host/test_net_stack.c $(NET_HARNESS)))
$(eval $(call host_test,host-net-tcp,tests/host/test_net_tcp.c $(NET_HARNESS)))
$(eval $(call host_test,host-net-tcp-close,tests/host/test_net_tcp_close.c $(NET_HARNESS)))
$(eval $(call host_test,host-net-tcp-loss,tests/host/test_net_tcp_loss.c $(NET_HARNESS)))
$(eval $(call host_test,host-net-tcp-rst,tests/host/test_net_tcp_rst.c $(NET_HARNESS)))
$(eval $(call host_test,host-net-pair,tests/host/test_net_pair.c $(NET_SRCS)))
$(foreach t,net-wire net-stack net-tcp net-tcp-close net-tcp-loss net-tcp-rst net-pair,\
  $(eval $(BUILD)/host/host-$(t): $(NET_HDRS) tests/host/net_harness.h))

$(eval $(call fuzz_target,net_frame,tests/fuzz/fuzz_net_frame.c $(NET_SRCS)))
$(eval $(call fuzz_target,net_tcp,tests/fuzz/fuzz_net_tcp.c $(NET_SRCS)))
$(eval $(call fuzz_target,net_dhcp,tests/fuzz/fuzz_net_dhcp.c lib/net/dhcp.c lib/net/wire.c))
$(foreach t,net_frame net_tcp net_dhcp,$(eval $(BUILD)/fuzz/$(t): $(NET_HDRS) tests/fuzz/fuzz_net_common.h))

# lib/net goes into the freestanding netstack service: it must build with
# the userspace flags and need nothing outside itself and string.c.
TEST_SUITES += net-freestanding
.PHONY: test-net-freestanding
test-net-freestanding: | $(RESULTS)
	@echo "== net-freestanding"
	@tools/run-tap.sh net-freestanding $(RESULTS)/net-freestanding.tap \
	    env HEADERS="net/net.h net/wire.h net/dhcp.h net/netbuf.h" \
	    sh tests/freestanding.sh $(BUILD)/net-fs "$(UCC) $(UCFLAGS) -fno-lto" \
	    $(NET_SRCS) lib/freestanding/string.c

# lib/net against Linux's TCP over a TAP device in a private network
# namespace (tests/net-interop/run.sh), 20 MiB each way on two connections
# with 5 % loss, duplication and reordering.
NET_INTEROP := $(BUILD)/net-interop/interop
$(NET_INTEROP): tests/net-interop/interop.c tests/net-interop/sha256.c $(NET_SRCS) \
                tests/net-interop/sha256.h $(NET_HDRS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOST_CC) -std=c17 -O2 -g $(WARN) -Wno-missing-prototypes -Iinclude -Ilib \
	    -fsanitize=address,undefined -fno-sanitize-recover=all -o $@ \
	    tests/net-interop/interop.c tests/net-interop/sha256.c $(NET_SRCS)
TEST_SUITES += net-interop
.PHONY: test-net-interop
test-net-interop: $(NET_INTEROP) | $(RESULTS)
	@echo "== net-interop"
	@tools/run-tap.sh net-interop $(RESULTS)/net-interop.tap \
	    sh tests/net-interop/run.sh $(NET_INTEROP) 20971520 240
