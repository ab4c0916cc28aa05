# The remote-session CapSet gateway (docs/remote.md): what a person on
# another machine reaches over standard Cap'n Proto RPC (rpc.capnp, the
# two-party network). RemoteLogin is the bootstrap capability.

@0x84d27890f39c730e;

using Capos = import "capos.capnp";

interface RemoteLogin @0xac1eaa14c5e9a5bb {
  login @0 (user :Text, password :Text) -> (session :RemoteSession);
  # An operator session; `failed` (permission denied) for a wrong user or
  # password, answered after the same growing delay as at the console.
  guest @1 () -> (session :RemoteSession);
  # A guest session, when the system offers guests.
}

interface RemoteSession @0xbdea5848b688b644 {
  # One login. Dropping it (or the connection) logs out.
  capSet @0 () -> (caps :List(NamedCap));
  # The session's bundle: the capabilities the authority broker issued for
  # its profile, exactly those a console shell would hold.
  whoami @1 () -> (profile :Capos.UserSession.Profile, principal :Text);
  logout @2 () -> ();
  # Revoke every capability of the session; each then answers
  # `disconnected`.
}

struct NamedCap @0xe2b1a4f3c7d90a12 {
  name @0 :Text;
  # The name a console shell knows it by ("info", "chat", ...).
  interfaceId @1 :UInt64;
  # The interface the capability implements (schema/capos.capnp).
  cap @2 :Capability;
}
