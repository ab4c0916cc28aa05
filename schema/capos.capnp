# capOS interfaces: the single source of truth for kernel dispatch tables,
# userspace client stubs and the interface reference in docs/.
#
# Capabilities are never fields in these messages' data: a method that
# returns a capability returns it in the result's capability table (a
# capability pointer), and the kernel reports it as a result-capability
# record in the CQE.

@0xad23ab0e32cd068e;

using C = import "c.capnp";

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
    permissionDenied @5;
    # The capability exists but does not allow this request (a restricted
    # spawner asked for another binary, a wrong password).
    notFound @6;
    # What the request names does not exist (a binary the boot manifest
    # does not have).
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
  cpuTime @2 () -> (cycles :UInt64, idleCycles :UInt64, cpus :UInt32);
  # Where the machine's time went (docs/scheduling.md, "Idle time"):
  # `cycles` is the cycle counter (rdtsc) now; `idleCycles` the cycles
  # the `cpus` online CPUs have spent halted with nothing to run, summed,
  # the halts in progress included. The busy cycles of an interval are
  # cpus * (cycles' - cycles) - (idleCycles' - idleCycles); under QEMU's
  # -icount shift=0,sleep=off they are the guest instructions executed.
}

interface EntropySource @0xc8a1165dad1844b9 {
  fill @0 (length :UInt32) -> (bytes :Data);
  # Random bytes from the kernel CSPRNG (ChaCha20); length <= 256.
}

interface FrameAllocator @0xa9ce13eedcb98e0b {
  allocate @0 (pages :UInt32) -> (memory :MemoryObject);
  # Zeroed physical pages, counted against the caller's frame quota. The
  # physical address is never revealed.
  usage @1 () -> (usage :MemoryUsage);
  # The caller's own account: its quota and what it holds, by kind
  # (docs/memory.md).
}

interface FrameLedger @0x9b50854d4d31bc2f {
  # Every account of the frame ledger: who pays for how much memory, by
  # kind (docs/memory.md). Information only; it grants nothing.
  accounts @0 () -> (accounts :List(Account), more :UInt32);
  # The two roots (the kernel's own account and the machine's, pid 0),
  # then every process account, running or exited but still paying for
  # memory others hold; at most 64 (`more` counts those left out).

  struct Account {
    pid @0 :UInt32;
    name @1 :Text;
    running @2 :Bool;
    # False once the process has exited (then quota == held).
    parentPid @3 :UInt32;
    # The spawner's pid (0: a root, or spawned by the kernel).
    usage @4 :MemoryUsage;
  }
}

struct MemoryUsage {
  # One account of the frame ledger, in 4 KiB frames.
  quota @0 :UInt64;
  # Frames guaranteed: carved out of the spawner's quota at spawn.
  held @1 :UInt64;
  # The sum of the kinds below; never above quota.
  pages @2 :UInt64;
  # User memory: image, stack, ring, CapSet, anonymous pages, MemoryObjects.
  pageTables @3 :UInt64;
  kernelHeap @4 :UInt64;
  # Kernel heap pages holding its kernel objects and in-flight messages.
  kernelStacks @5 :UInt64;
  children @6 :UInt64;
  # The quotas of the processes it spawned that still exist or still
  # hold memory.
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
  spawn @0 (name :Text, binaryName :Text, grants :List(Grant), exports :List(Export),
            quota :UInt32)
        -> (handle :ProcessHandle, exports :List(Grant));
  # Start SystemManifest.binaries[binaryName] as a process called name.
  # The child is guaranteed `quota` frames (4 KiB; 0 means 4096, 16 MiB),
  # carved out of the caller's own quota and given back when the child
  # has exited and let go of everything (docs/memory.md); a caller without
  # that much room gets `overloaded`.
  # Each grant becomes an entry of the child's CapSet (in order) holding a
  # copy of grant.cap; a grant whose interfaceId the capability does not
  # implement fails the whole call. For each export the kernel creates an
  # endpoint: the child's CapSet gets the owner side under the export's
  # name, and the results carry a client facet of it, in the same order.

  restrictTo @1 (binaries :List(Text)) -> (spawner :ProcessSpawner);
  # A spawner that can start only the named binaries (at most 16 names of
  # at most 32 bytes). Restricting a restricted spawner keeps only the names
  # both lists have. Spawning anything else fails with `permissionDenied`.

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
  # Block until the process has exited; its exit code: what it passed to
  # exit, -(vector + 1) if a CPU exception ended it, or killedExitCode.
  kill @1 () -> ();
  # End the process: the next time its thread is in the kernel (at once if
  # it is blocked, within one tick if it is running user code) it exits
  # with killedExitCode, releasing everything as at any exit. Killing a
  # process that has already exited does nothing.
}

const killedExitCode :Int32 = -128;
# The exit code of a process ended by ProcessHandle.kill.

interface ThreadSpawner @0x860251ee72b6d803 {
  # Creates threads in the caller's own process (docs/threads.md). It names
  # no process: whoever calls it gets threads of their own, paid for from
  # their own frame quota.
  spawn @0 (entry :UInt64, stackTop :UInt64, arg :UInt64, tlsBase :UInt64)
      -> (thread :ThreadHandle);
  # A new thread, runnable at once. It enters user mode at entry with
  # RDI = its own ring page, RSI = arg, RSP = stackTop and FS base =
  # tlsBase. entry and stackTop must be user addresses (stackTop 16-byte
  # aligned); tlsBase a user address or 0. At most maxThreads threads per
  # process: beyond, or when the quota cannot pay, `overloaded`.
}

const maxThreads :UInt32 = 64;
# The most threads one process may have at once, its main thread included.

interface ThreadHandle @0xf933c22345830df9 {
  # One thread, as its spawner sees it. Releasing the last capability
  # detaches the thread: it runs on, and its exit code is dropped.
  join @0 () -> (exitCode :Int32);
  # Wait until the thread has ended; its ThreadControl.exit code (or the
  # process's, if the whole process ended first). One join at a time.
}

interface ThreadControl @0x9e79cfb73dca8bb7 {
  # The calling thread's control over itself.
  exit @0 (code :Int32) -> ();
  # End the calling thread. The call's completion is never posted; the
  # thread's other calls in flight are cancelled. The last thread's exit
  # ends the process with this code.
  setTlsBase @1 (addr :UInt64) -> ();
  # Set the calling thread's FS base (its thread pointer): a user address
  # or 0.
}

interface ParkSpace @0x8cdaf879b18f2614 {
  # A futex private to the caller's address space: waits and wakes of one
  # process never meet another's.
  wait @0 (addr :UInt64, expected :UInt32, timeoutNs :UInt64) -> (woken :Bool);
  # If the 4-byte word at addr (4-aligned, mapped readable) still holds
  # expected, wait until a wake names addr (woken = true) or timeoutNs has
  # passed (woken = false; 0 waits forever). Otherwise return at once with
  # woken = false. One wait per thread at a time.
  wake @1 (addr :UInt64, count :UInt32) -> (woken :UInt32);
  # Wake at most count of the threads waiting on addr, oldest first; how
  # many were woken.
  wakeWait @2 (wakeAddr :UInt64, count :UInt32, waitAddr :UInt64, expected :UInt32,
               timeoutNs :UInt64) -> (wakes :UInt32, woken :Bool);
  # wake(wakeAddr, count), then wait(waitAddr, expected, timeoutNs), as one
  # call: the hand-over of a ping-pong or of a signal-then-wait. wakes is
  # what wake answers, woken what wait answers. If the caller then waits,
  # the first thread it woke runs next on this CPU, on the rest of the
  # caller's time slice (a direct handoff, as an endpoint RETURN makes). An
  # error in either half fails the whole call before anything is woken.
}

interface Attenuator @0xa7c0c8af74961e51 {
  # Makes narrower capabilities: the interface is the permission, so a
  # capability that answers fewer methods is a weaker one.
  wrap @0 (cap :Capability, methods :List(UInt16)) -> (wrapped :Capability);
  # A capability of the same interface that forwards only the listed method
  # ordinals to cap; any other method fails with an `unimplemented`
  # CapException. Wrapping a wrapper can only narrow it further. The result
  # can RECV or RETURN nothing, even if cap is an endpoint's owner side.
  wrapRevocable @1 (cap :Capability, methods :List(UInt16))
                -> (wrapped :Capability, revoker :Revoker);
  # As wrap, plus a Revoker that ends the wrapped capability: after revoke,
  # every copy of it, and every wrapper made from it, fails each call with
  # a `disconnected` CapException.
}

interface Revoker @0xb951541628a42818 {
  # The right to end a revocable wrapper (Attenuator.wrapRevocable).
  revoke @0 () -> ();
  # Revoke the wrapper for good; revoking twice is harmless.
}

interface EndpointFactory @0xb217e6b6f934eab1 {
  # Makes endpoints, for servers that hand out objects at run time (the
  # shell's StdIO for each child, a session per login).
  create @0 (interfaceId :UInt64) -> (server :Capability, client :Capability);
  # A new endpoint serving interfaceId. `server` is the owner side (RECV
  # and RETURN; releasing the last copy closes the endpoint and fails its
  # callers with `disconnected`); `client` may only CALL and can be passed
  # on. Both count against the caller's capability slots.
}

interface Power @0xffb94f48348cd6ec {
  # The machine itself.
  shutdown @0 () -> ();
  # Halt the machine now (under QEMU: exit with the success status). Every
  # process stops where it is; nothing is saved.
}

interface TerminalSession @0xc816ca1298b6249a {
  # The serial terminal: bytes in (receive interrupts), bytes out.
  write @0 (data :Data) -> ();
  # Write bytes as they are (at most 4096).
  read @1 (maxBytes :UInt32) -> (data :Data);
  # Wait for at least one byte; up to maxBytes (at most 256) that arrived.
  readLine @2 (maxBytes :UInt32) -> (line :Data, status :LineStatus);
  # Wait for a line, edited on the terminal (backspace, Ctrl-U; Ctrl-C
  # cancels), echoed unless echo is off; the line without its end.
  setEcho @3 (on :Bool) -> ();
  # Whether readLine echoes what is typed (off for passwords).

  enum LineStatus {
    ok @0;
    cancelled @1;
    # Ctrl-C: the line is empty.
    tooLong @2;
    # Longer than maxBytes: the line is empty, the input was discarded.
    endOfInput @3;
    # Ctrl-D on an empty line.
  }
}

interface Echo @0xbfb68232880fd618 {
  # A demo and test service served by a user process over an endpoint.
  echo @0 (text :Text) -> (text :Text);
  # Answer with the same text.
}

# ---------------------------------------------------------------------------
# Sessions and the shell (docs/sessions.md). Served by user processes.

struct UserSession {
  # Who a shell acts for. Metadata, never authority: a session can do only
  # what the capabilities it was given allow, and holding this struct (or
  # forging one) grants nothing.
  profile @0 :Profile;
  sessionId @1 :Data;
  # 16 random bytes from the session manager; opaque to everyone else.
  principal @2 :Text;
  # The user name; empty for anonymous and guest sessions.

  enum Profile {
    anonymous @0;
    guest @1;
    operator @2;
  }
}

interface SessionManager @0xefb8bb6629bb01cd {
  # Logins. Audits every outcome.
  greeting @0 () -> (motd :Text);
  # The message of the day, for a shell that has no session yet.
  login @1 (user :Text, password :Text, origin :Text) -> (session :UserSession);
  # An operator session; `permissionDenied` for a wrong user or password,
  # answered only after a delay that grows with consecutive failures.
  # origin: where the person is, as the caller saw it, for the audit
  # records ("remote 10.0.2.2:40000" from the remote gateway; empty at the
  # console). It is the caller's statement, recorded as such; it grants
  # nothing.
  setup @2 (user :Text, password :Text) -> (session :UserSession);
  # Create the one local operator credential (volatile: gone at reboot)
  # and log in; `failed` when one exists already.
  guest @3 (origin :Text) -> (session :UserSession);
  # A guest session; `permissionDenied` unless the manifest offers guests.
  # origin: as for login.
  check @4 (sessionId :Data) -> (session :UserSession);
  # The live session with this id; `permissionDenied` if there is none.
  end @5 (sessionId :Data) -> ();
  # End a session (logout); ending an unknown one is harmless.
}

interface CredentialStore @0x952d2a5475ea867a {
  # Password verifiers: Argon2id (docs/argon2.md) with a random salt per
  # record. Passwords are never stored.
  create @0 (user :Text, password :Text) -> ();
  # `failed` if the user exists or the store is full.
  verify @1 (user :Text, password :Text) -> (ok :Bool);
  # Compared in constant time; an unknown user costs the same time.
  count @2 () -> (users :UInt32);
}

interface AuthorityBroker @0xc14c6259253c9e70 {
  # Decides what a session's shell holds.
  shellBundle @0 (session :UserSession, link :ShellLink)
              -> (caps :List(ProcessSpawner.Grant), programs :List(Text));
  # The capabilities of the session's profile, each revocable, and the
  # binaries its launcher may start (so a shell can say what a session may
  # run). Checks the session with SessionManager.check: a forged or ended
  # one gets `permissionDenied`. With a link (the shell's should always
  # send one), the session is logged out as soon as the link breaks: the
  # shell ended, however it ended.
  logout @1 (sessionId :Data) -> ();
  # Revoke every capability issued to the session and end it.
}

interface ShellLink @0xe3ac32f64cbc6819 {
  # How the broker notices that a shell has ended, crash included: the
  # shell makes an endpoint of this interface, keeps the owner side and
  # never serves it, and sends the client facet with shellBundle. The
  # broker keeps a `hold` call waiting on it; when the shell's owner side
  # goes (it exited, crashed or was killed), the call fails with
  # `disconnected`, and the broker logs the session out.
  hold @0 () -> ();
  # Never answered.
}

interface AuditLog @0xbe255ad2af512075 {
  # Append-only records of what happened to sessions. Who may append or
  # read is decided by who holds which wrapper of it.
  append @0 (kind :Kind, principal :Text, detail :Text) -> ();
  read @1 (from :UInt32, max :UInt32) -> (records :List(Record), next :UInt32);
  # Records from sequence number `from` on, at most max (at most 32).

  enum Kind {
    loginOk @0;
    loginFailed @1;
    setup @2;
    guest @3;
    launch @4;
    logout @5;
  }

  struct Record {
    seq @0 :UInt32;
    timeNs @1 :UInt64;
    kind @2 :Kind;
    principal @3 :Text;
    detail @4 :Text;
  }
}

interface SystemInfo @0xf6910c8a16c6a137 {
  motd @0 () -> (text :Text);
  # KernelParams.motd of the boot manifest.
  guestEnabled @1 () -> (on :Bool);
  # KernelParams.guestEnabled.
  uptime @2 () -> (ns :UInt64);
  memory @3 () -> (accounts :List(FrameLedger.Account), more :UInt32);
  # FrameLedger.accounts: memory use per process, page tables and kernel
  # heap included.
  cpuTime @4 () -> (cycles :UInt64, idleCycles :UInt64, cpus :UInt32);
  # Timer.cpuTime: how busy the machine has been, for load figures (and
  # the remote benchmark's guest instructions per call, docs/remote.md).
}

interface StdIO @0x8ee58c5307569067 {
  # What the shell gives a child instead of its terminal.
  write @0 (data :Data) -> ();
  # At most 4096 bytes.
  readLine @1 (maxBytes :UInt32) -> (line :Data, status :TerminalSession.LineStatus);
}

interface Chat @0xc0b51d6646cedbba {
  # The resident demo service: a shared message board.
  post @0 (from :Text, text :Text) -> (seq :UInt32);
  recent @1 (max :UInt32) -> (lines :List(Text));
  # The newest messages, oldest first (at most 16).
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
  memoryMiB @5 :UInt32;
  # The memory the service is guaranteed, in MiB, carved out of init's;
  # 0 means 16.
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
  # The objects the kernel creates at boot, which a manifest grant may name
  # (CapGrant.source.kernel), and the interface each implements.
  console @0 $C.implements("Console");
  timer @1 $C.implements("Timer");
  entropy @2 $C.implements("EntropySource");
  frames @3 $C.implements("FrameAllocator");
  vm @4 $C.implements("VirtualMemory");
  bootPackage @5 $C.implements("BootPackage");
  spawner @6 $C.implements("ProcessSpawner");
  attenuator @7 $C.implements("Attenuator");
  endpoints @8 $C.implements("EndpointFactory");
  terminal @9 $C.implements("TerminalSession");
  power @10 $C.implements("Power");
  ledger @11 $C.implements("FrameLedger");
  threads @12 $C.implements("ThreadSpawner");
  threadControl @13 $C.implements("ThreadControl");
  park @14 $C.implements("ParkSpace");
  network @15 $C.implements("NetworkInterface");
}

struct Export {
  name @0 :Text;
  interfaceId @1 :UInt64;
}

struct KernelParams {
  motd @0 :Text;
  # Message of the day, printed by the kernel at boot (at most 1024 bytes).
  guestEnabled @1 :Bool;
  # Whether the session manager offers the guest profile.
}

# ---------------------------------------------------------------------------
# Devices (docs/devices.md)

interface NetworkInterface @0xadbbe0a5c58462ba {
  # Raw Ethernet frames through the kernel's virtio-net driver. The kernel
  # owns the device, its queues and its bounce buffers: no physical address,
  # descriptor or device register ever reaches the holder. Without a device
  # every method fails with `failed`.
  send @0 (frame :Data) -> ();
  # Queue one frame (destination MAC first, no FCS) for transmission:
  # 14..mtu+14 bytes, else invalidArgument; overloaded while every transmit
  # buffer is in flight.
  receive @1 () -> (frame :Data);
  # The next received frame, waiting (as a deferred completion) until one
  # arrives. Frames that arrive while nobody waits are kept in the receive
  # queue until it is full; later ones are dropped by the device.
  info @2 () -> (info :NetworkInfo);
  receiveMany @3 () -> (frames :List(Data));
  # Every frame received and not yet taken, oldest first, as one answer:
  # at least one (waiting for it as receive does), at most 16 and at most
  # as many full-size frames as the caller's result buffer holds (24 bytes,
  # then 8 + the MTU + 14 rounded up to 8 for each). A result buffer too
  # small for one full-size frame is refused with invalidArgument. One
  # answer for a burst of frames is one kernel call and one wake-up
  # instead of one per frame.
}

struct NetworkInfo {
  mac @0 :Data;
  # 6 bytes.
  mtu @1 :UInt16;
  # Largest payload after the 14-byte Ethernet header.
  linkUp @2 :Bool;
  txFrames @3 :UInt64;
  txBytes @4 :UInt64;
  rxFrames @5 :UInt64;
  rxBytes @6 :UInt64;
  rxDropped @7 :UInt64;
  # Received frames that were too short or too long (discarded).
  deviceErrors @8 :UInt64;
  # Used-ring entries the driver refused: an index that ran ahead of what
  # was made available, an unknown or idle descriptor id, a length larger
  # than the buffer.
}

# ---------------------------------------------------------------------------
# Networking: the netstack service (docs/network.md, "The netstack service")

interface TcpSocket @0xcecdc93fd4d788b4 {
  # One TCP connection served by netstack.
  read @0 (max :UInt32) -> (data :Data);
  # Up to max bytes (1..65000), waiting until some arrive; empty data is the
  # end of the peer's stream. failed if the connection was reset or timed
  # out; overloaded if another read is already waiting.
  write @1 (data :Data) -> (accepted :UInt32);
  # Queue bytes (at most 60000 per call); accepted may be fewer than sent
  # (back-pressure): a write waits until at least one byte fits. failed
  # after shutdown or when the connection is gone.
  shutdown @2 () -> ();
  # Send FIN after the queued data; reading stays possible.
  peer @3 () -> (address :UInt32, port :UInt16);
  # The remote IPv4 address (host byte order) and port.
  close @4 () -> ();
  # End the connection (graceful; unread data resets it) and this
  # capability at once. Releasing the last reference (or dying holding it)
  # does the same: netstack learns it from the kernel (docs/ipc.md,
  # "Clients gone").
}

interface TcpListener @0x9e277f25c72936e8 {
  accept @0 () -> (socket :Capability);
  # The oldest connection that completed its handshake, waiting until one
  # does; a TcpSocket.
  port @1 () -> (port :UInt16);
  close @2 () -> ();
  # Stop listening; this capability fails afterwards.
}

interface TcpListenAuthority @0xaf82c1c090231d56 {
  # The right to listen on the ports the manifest lists for it.
  listen @0 (port :UInt16) -> (listener :Capability);
  # A TcpListener; permissionDenied for a port outside the scope (the
  # message names the port and the allowed ones), failed if it is already
  # listened on or the service has no room.
  ports @1 () -> (ports :List(UInt16));
}

interface TcpConnector @0x9700c45dafb58f30 {
  # The right to open connections to the destinations the manifest lists.
  connect @0 (address :UInt32, port :UInt16) -> (socket :Capability);
  # A TcpSocket once the handshake completes; permissionDenied outside the
  # scope; failed if the peer refused or did not answer.
}

interface UdpSocket @0xbefd179a5074255e {
  # One local UDP port served by netstack, scoped by the manifest to one
  # remote address and a list of its ports (export name
  # udp_LOCALPORT_A_B_C_D_PORT[_PORT...], docs/network.md): it sends only
  # there and receives only from there.
  send @0 (address :UInt32, port :UInt16, data :Data) -> ();
  # One datagram of 1..1472 bytes; permissionDenied outside the scope,
  # invalidArgument for a size, failed if no address is configured yet.
  receive @1 () -> (address :UInt32, port :UInt16, data :Data, dropped :UInt32);
  # The oldest datagram waiting, waiting until one arrives. dropped:
  # datagrams refused since the previous receive because the socket's
  # queue (16) was full. overloaded if another receive is already waiting.
}

interface NetworkManager @0xb8c1e5d0f1be6fda {
  # Configuration and counters of the stack.
  status @0 () -> (address :UInt32, netmask :UInt32, gateway :UInt32, dhcp :Bool,
                   rxFrames :UInt64, txFrames :UInt64, tcpIn :UInt64, tcpOut :UInt64,
                   tcpRetransmits :UInt64, dropped :UInt64, sockets :UInt32,
                   tcpSynEvicted :UInt64, tcpBacklogDrops :UInt64);
  # dhcp: the address came from a DHCP server (not the static fallback).
  # dropped: frames the stack refused, by any reason. tcpSynEvicted:
  # half-open connections dropped for a newer SYN when a backlog was full;
  # tcpBacklogDrops: SYNs dropped with nothing to evict.
  ping @1 (address :UInt32) -> (rttMs :UInt32);
  # One ICMP echo request to address, which must be the gateway (a holder
  # may check the link it sees configured, not probe the network:
  # permissionDenied otherwise), and the round trip in milliseconds; failed
  # without a reply in 5 s or without a configured address; overloaded if
  # another ping of this capability is waiting.
}
