# Pure freestanding logic in lib/: compiled into the kernel (mk/kernel.mk)
# and, unchanged, into host unit tests and fuzz targets.

LIB_SRCS := lib/kcore/mb2.c lib/kcore/frame_bitmap.c lib/text/fmt.c

$(eval $(call host_test,host-mb2,tests/host/test_mb2.c lib/kcore/mb2.c))
$(eval $(call host_test,host-frame-bitmap,tests/host/test_frame_bitmap.c lib/kcore/frame_bitmap.c lib/kcore/mb2.c))
$(eval $(call fuzz_target,mb2,tests/fuzz/fuzz_mb2.c lib/kcore/mb2.c lib/kcore/frame_bitmap.c))
$(eval $(call host_test,host-fmt,tests/host/test_fmt.c lib/text/fmt.c))
