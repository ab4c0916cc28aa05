# ChaCha20, the kernel CSPRNG built on it, and SipHash (lib/): linked into
# the kernel, tested on the host against the published test vectors.

LIB_SRCS += lib/crypto/chacha20.c lib/crypto/csprng.c lib/crypto/siphash.c

$(eval $(call host_test,host-chacha20,tests/host/test_chacha20.c lib/crypto/chacha20.c lib/crypto/csprng.c))
$(eval $(call host_test,host-siphash,tests/host/test_siphash.c lib/crypto/siphash.c))
