# ChaCha20, the kernel CSPRNG built on it, and SipHash (lib/crypto/):
# linked into the kernel (KERNEL_CRYPTO_SRCS), tested on the host against
# the published test vectors.

$(eval $(call host_test,host-chacha20,tests/host/test_chacha20.c lib/crypto/chacha20.c lib/crypto/csprng.c))
$(eval $(call host_test,host-siphash,tests/host/test_siphash.c lib/crypto/siphash.c))
