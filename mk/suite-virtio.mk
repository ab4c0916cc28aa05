# Split virtqueue bookkeeping that distrusts the device (lib/virtio/virtq.c):
# host tests and a fuzz target (docs/devices.md).

$(eval $(call host_test,host-virtq,tests/host/test_virtq.c lib/virtio/virtq.c))
$(eval $(call fuzz_target,virtq,tests/fuzz/fuzz_virtq.c lib/virtio/virtq.c))
