# Capability table and frame ledger (lib/), and their host tests.

LIB_SRCS += lib/cap_table.c lib/frame_ledger.c

$(eval $(call host_test,host-cap-table,tests/host/test_cap_table.c lib/cap_table.c))
$(eval $(call host_test,host-frame-ledger,tests/host/test_frame_ledger.c lib/frame_ledger.c))
