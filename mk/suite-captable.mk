# Capability table and frame ledger (lib/kcore/), and their host tests.

$(eval $(call host_test,host-cap-table,tests/host/test_cap_table.c lib/kcore/cap_table.c))
$(eval $(call host_test,host-frame-ledger,tests/host/test_frame_ledger.c lib/kcore/frame_ledger.c))
$(eval $(call host_test,host-park,tests/host/test_park.c lib/kcore/park.c))
$(eval $(call host_test,host-tls-layout,tests/host/test_tls_layout.c))
