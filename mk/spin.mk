# SPIN model checking, shared by the suites that verify a model
# (mk/suite-ring.mk, mk/suite-smp-spin.mk).

# $(call spin_build,MODEL,DIR,SPIN_FLAGS,PAN_CFLAGS) generates and compiles
# pan for MODEL in DIR (emptied first; the shell variable d names it); a
# shell condition, true if it built.
define spin_build
d=$(2); rm -rf $$d; mkdir -p $$d; \
(cd $$d && spin $(3) -a $(CURDIR)/$(1) && \
 gcc -O2 -w -DMEMLIM=2048 $(4) -o pan pan.c) >$$d/build.log 2>&1
endef

# $(call spin_check,NAME,MODEL,DIR,SPIN_FLAGS,PAN_CFLAGS,PAN_FLAGS,WHAT)
# prints one TAP line "ok - NAME: WHAT (N states; errors: 0)" only if pan
# searched the whole state space and found no error. (WHAT must not
# contain commas.)
define spin_check
if ! { $(call spin_build,$(2),$(3),$(4),$(5)); }; then \
    echo "not ok - $(1): the model did not build (see $$d/build.log)"; \
else \
    (cd $$d && timeout 300 ./pan $(6)) >$$d/pan.log 2>&1; \
    states=$$(awk '/states, stored/ { print $$1; exit }' $$d/pan.log); \
    if grep -q 'errors: 0$$' $$d/pan.log && \
       ! grep -qE 'depth too small|not completed|out of memory' $$d/pan.log; then \
        echo "ok - $(1): $(7) ($$states states; errors: 0)"; \
    else \
        echo "not ok - $(1): $(7) (see $$d/pan.log)"; \
    fi; \
fi
endef
