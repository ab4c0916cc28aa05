# The PCI configuration space parser (lib/pci/pci.c: header, BAR sizing,
# capability list, MSI-X, virtio 1.x capabilities): host tests and a fuzz
# target (docs/devices.md).

$(eval $(call host_test,host-pci,tests/host/test_pci.c lib/pci/pci.c))
$(eval $(call fuzz_target,pci,tests/fuzz/fuzz_pci.c lib/pci/pci.c))
