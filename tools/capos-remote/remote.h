// capos-remote: the host client of the capOS remote-session gateway
// (docs/remote.md), built on the official Cap'n Proto C++ RPC library.
#pragma once

#include <capnp/dynamic.h>
#include <kj/async.h>
#include <kj/string.h>
#include <kj/vector.h>

#include "remote.capnp.h"

// One capability of the session's bundle.
struct BundleCap {
    kj::String name;
    uint64_t interfaceId;
    capnp::Capability::Client cap;
};

// Fail a command with a message for the user (no source location).
[[noreturn]] void fail(kj::String message);

// Words of a command line; "..." quotes with \" and \\ escapes.
kj::Vector<kj::String> splitWords(kj::StringPtr line);

// The interface with this id among those a bundle may hold, or nullptr.
kj::Maybe<capnp::InterfaceSchema> findInterface(uint64_t id);

// Build the request for `method` on cap from args ("value" positionally,
// or "field=value"); `from` (a Text parameter) defaults to `principal`.
// Throws kj::Exception with a message for the user on bad arguments.
capnp::Request<capnp::DynamicStruct, capnp::DynamicStruct>
buildRequest(capnp::DynamicCapability::Client &cap, kj::StringPtr method,
             kj::ArrayPtr<const kj::String> args, kj::StringPtr principal);

// "method(a :Text, b :UInt32)" for each method of the interface.
kj::String describeMethods(capnp::InterfaceSchema schema);
