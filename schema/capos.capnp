# capOS interfaces: the single source of truth for kernel dispatch tables,
# userspace client stubs and the interface reference in docs/.
#
# Capabilities are never fields in these messages' data: a method that
# returns a capability returns it in the result's capability table (a
# capability pointer), and the kernel reports it as a result-capability
# record in the CQE.

@0xad23ab0e32cd068e;

# ---------------------------------------------------------------------------
# Errors

struct CapException {
  # Returned in the result buffer, with CAPOS_CQE_F_EXCEPTION set in the CQE,
  # when a method fails as a call. The message never contains kernel
  # addresses or secrets.
  type @0 :Type;
  message @1 :Text;

  enum Type {
    failed @0;
    overloaded @1;
    disconnected @2;
    unimplemented @3;
    invalidArgument @4;
  }
}

# ---------------------------------------------------------------------------
# Kernel-provided interfaces

interface Console @0xa3b90b046e5043e0 {
  # The kernel's serial console.
  write @0 (text :Text) -> ();
  # Write the bytes as they are.
  writeLine @1 (text :Text) -> ();
  # Write the text and a newline.
}

interface Timer @0xa97e1d2f4d232b4a {
  now @0 () -> (ns :UInt64);
  # Monotonic nanoseconds since boot.
  sleep @1 (ns :UInt64) -> ();
  # Block the calling thread for at least ns nanoseconds.
}

interface EntropySource @0xc8a1165dad1844b9 {
  fill @0 (length :UInt32) -> (bytes :Data);
  # Random bytes from the kernel CSPRNG (ChaCha20); length <= 256.
}

interface FrameAllocator @0xa9ce13eedcb98e0b {
  allocate @0 (pages :UInt32) -> (memory :MemoryObject);
  # Zeroed physical pages, counted against the caller's frame quota. The
  # physical address is never revealed.
}

interface MemoryObject @0xae2f2b93e72dd08d {
  info @0 () -> (pages :UInt32);
  map @1 (address :UInt64, writable :Bool) -> ();
  # Map every page at address (page aligned, inside the user VM range).
  unmap @2 (address :UInt64) -> ();
}

interface VirtualMemory @0xef6a3f3474e6c566 {
  map @0 (address :UInt64, pages :UInt32, writable :Bool, executable :Bool) -> ();
  # Anonymous zeroed memory, counted against the frame quota.
  unmap @1 (address :UInt64, pages :UInt32) -> ();
  protect @2 (address :UInt64, pages :UInt32, writable :Bool, executable :Bool) -> ();
}
