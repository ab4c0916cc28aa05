# BLAKE2b, Argon2 and constant-time comparison (lib/crypto/, ARGON2_SRCS):
# the password hash of the credential store (the kernel does not need
# them), tested on the host against the RFC vectors and against libargon2,
# fuzzed. docs/argon2.md describes the parameters.

$(eval $(call host_test,host-blake2b,tests/host/test_blake2b.c lib/crypto/blake2b.c))
$(eval $(call host_test,host-argon2,tests/host/test_argon2.c $(ARGON2_SRCS)))

# The differential test and the fuzz target also include and link
# libargon2: its <argon2.h> is found on the system path, ours is
# "crypto/argon2.h".
$(eval $(call host_test,host-argon2-diff,tests/host/test_argon2_diff.c $(ARGON2_SRCS)))
$(BUILD)/host/host-argon2-diff: HOST_LIBS += -largon2

$(eval $(call fuzz_target,argon2,tests/fuzz/fuzz_argon2.c $(ARGON2_SRCS)))
$(BUILD)/fuzz/argon2: FUZZ_CFLAGS += -largon2

$(addprefix $(BUILD)/host/host-,blake2b argon2 argon2-diff) $(BUILD)/fuzz/argon2: \
        lib/crypto/blake2b.h lib/crypto/argon2.h lib/crypto/ct.h
