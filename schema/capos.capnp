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

# ---------------------------------------------------------------------------
# Process creation and the boot package

interface BootPackage @0xf9574293bb5ce685 {
  # The boot module as the kernel received it: the framed SystemManifest,
  # binaries included. Granted to init only, which reads the manifest
  # through it and validates the service graph before spawning anything.
  manifestSize @0 () -> (size :UInt64);
  # Size of the framed manifest in bytes.
  readManifest @1 (offset :UInt64, maxBytes :UInt32) -> (data :Data);
  # Up to maxBytes bytes from offset (the kernel may return fewer, and
  # never more than fits a result buffer); empty at or past the end.
}

interface ProcessSpawner @0x8d6cd82010f1ac99 {
  # Start programs from the boot package. A child gets exactly the grants
  # in the request and nothing else.
  spawn @0 (name :Text, binaryName :Text, grants :List(Grant), exports :List(Export))
        -> (handle :ProcessHandle, exports :List(Grant));
  # Start SystemManifest.binaries[binaryName] as a process called name.
  # Each grant becomes an entry of the child's CapSet (in order) holding a
  # copy of grant.cap; a grant whose interfaceId the capability does not
  # implement fails the whole call. For each export the kernel creates an
  # endpoint: the child's CapSet gets the owner side under the export's
  # name, and the results carry a client facet of it, in the same order.

  struct Grant {
    # A capability passed to or returned from a spawn.
    name @0 :Text;
    # The CapSet entry name (at most 32 bytes).
    interfaceId @1 :UInt64;
    # The interface the receiver expects.
    cap @2 :Capability;
    # The capability itself, in the message's capability table.
  }
}

interface ProcessHandle @0xf41160f914138d3e {
  # The parent's view of a spawned process. Not transferable: it names a
  # child of one parent.
  wait @0 () -> (exitCode :Int32);
  # Block until the process has exited; its exit code.
}

interface Attenuator @0xa7c0c8af74961e51 {
  # Makes narrower capabilities: the interface is the permission, so a
  # capability that answers fewer methods is a weaker one.
  wrap @0 (cap :Capability, methods :List(UInt16)) -> (wrapped :Capability);
  # A capability of the same interface that forwards only the listed method
  # ordinals to cap; any other method fails with an `unimplemented`
  # CapException. Wrapping a wrapper can only narrow it further. The result
  # can RECV or RETURN nothing, even if cap is an endpoint's owner side.
}

interface Echo @0xbfb68232880fd618 {
  # A demo and test service served by a user process over an endpoint.
  echo @0 (text :Text) -> (text :Text);
  # Answer with the same text.
}

# ---------------------------------------------------------------------------
# The system manifest (docs/manifest.md)

const manifestSchemaVersion :UInt32 = 1;
# The SystemManifest.schemaVersion this schema describes. A manifest with
# any other version is refused.

struct SystemManifest {
  # The one boot module, compiled from system.cue by tools/mkmanifest. The
  # kernel checks only what it needs to start init (the root fields, the
  # init binary, init's capabilities); mkmanifest and init check the whole
  # service graph.
  schemaVersion @0 :UInt32;
  # Must be manifestSchemaVersion.
  binaries @1 :List(Binary);
  # Every program the system can start, by logical name.
  initConfig @2 :InitConfig;
  kernelParams @3 :KernelParams;
}

struct Binary {
  name @0 :Text;
  # Logical name, referred to by Init.binary and Service.binary.
  elf @1 :Data;
  # The static ELF64 executable.
}

struct InitConfig {
  init @0 :Init;
  # The one process the kernel starts.
  services @1 :List(Service);
  # What init starts, in dependency order of its choosing.
}

struct Init {
  binary @0 :Text;
  caps @1 :List(CapGrant);
  # Init's CapSet, in this order. Every source must be a kernel source.
}

struct Service {
  name @0 :Text;
  binary @1 :Text;
  caps @2 :List(CapGrant);
  # The service's CapSet, in this order.
  exports @3 :List(Export);
  # Endpoints the service serves, which other services may be granted.
  restart @4 :RestartPolicy;
}

enum RestartPolicy {
  never @0;
  onFailure @1;
  # Restart when the process exits with a non-zero code or faults.
  always @2;
}

struct CapGrant {
  # One bootstrap capability: a CapSet entry of the receiving process.
  name @0 :Text;
  # The CapSet entry name: identifier-shaped, at most 32 bytes.
  interfaceId @1 :UInt64;
  # The interface the receiver expects; must be the source's.
  source :union {
    none @2 :Void;
    # Not set: always an error (so that a missing source fails closed).
    kernel @3 :KernelSource;
    # An object the kernel creates at boot.
    service :group {
      # An export of another service.
      name @4 :Text;
      export @5 :Text;
    }
  }
}

enum KernelSource {
  console @0;
  # Console
  timer @1;
  # Timer
  entropy @2;
  # EntropySource
  frames @3;
  # FrameAllocator
  vm @4;
  # VirtualMemory
  bootPackage @5;
  # BootPackage
  spawner @6;
  # ProcessSpawner
  attenuator @7;
  # Attenuator
}

struct Export {
  name @0 :Text;
  interfaceId @1 :UInt64;
}

struct KernelParams {
  motd @0 :Text;
  # Message of the day, printed by the kernel at boot (at most 1024 bytes).
}
