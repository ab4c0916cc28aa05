# The ring consumer (lib/ring.c) and its verification.
LIB_SRCS += lib/ring.c
