# The layering rule (docs/kernel.md, "Layers and the call path"): no layer
# includes a header of a layer above it. tests/layers.py checks every
# quoted #include of lib/, kernel/ and tools/, and that every kernel object
# class is in the registry's list.

TEST_SUITES += layers
.PHONY: test-layers
test-layers: | $(RESULTS)
	@echo "== layers"
	@tools/run-tap.sh layers $(RESULTS)/layers.tap python3 tests/layers.py
