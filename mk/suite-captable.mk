# Capability table and frame ledger (lib/), and their host tests.

LIB_SRCS += lib/kcore/cap_table.c lib/kcore/frame_ledger.c

$(eval $(call host_test,host-cap-table,tests/host/test_cap_table.c lib/kcore/cap_table.c))
$(eval $(call host_test,host-frame-ledger,tests/host/test_frame_ledger.c lib/kcore/frame_ledger.c))
