# The Multiboot2 boot information parser and the frame bitmap built from its
# memory map (lib/kcore/mb2.c, lib/kcore/frame_bitmap.c): host tests and a
# fuzz target.

$(eval $(call host_test,host-mb2,tests/host/test_mb2.c lib/kcore/mb2.c))
$(eval $(call host_test,host-frame-bitmap,tests/host/test_frame_bitmap.c lib/kcore/frame_bitmap.c lib/kcore/mb2.c))
$(eval $(call fuzz_target,mb2,tests/fuzz/fuzz_mb2.c lib/kcore/mb2.c lib/kcore/frame_bitmap.c))
