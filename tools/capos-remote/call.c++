// Calls by name: arguments from the command line to a dynamic request,
// checked against the interface's compiled-in schema.
#include "remote.h"

#include <capnp/schema.h>
#include <kj/debug.h>
#include <stdlib.h>

#include "capos.capnp.h"

void fail(kj::String message)
{
    kj::throwFatalException(
        kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::mv(message)));
}

kj::Vector<kj::String> splitWords(kj::StringPtr line)
{
    kj::Vector<kj::String> words;
    size_t i = 0, n = line.size();
    while (i < n) {
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i >= n)
            break;
        kj::Vector<char> w;
        bool quoted = false;
        while (i < n && (quoted || (line[i] != ' ' && line[i] != '\t'))) {
            char c = line[i++];
            if (c == '"') {
                quoted = !quoted;
            } else if (c == '\\' && quoted && i < n) {
                w.add(line[i++]);
            } else {
                w.add(c);
            }
        }
        if (quoted)
            fail(kj::str("unterminated quote in: ", line));
        w.add('\0');
        words.add(kj::heapString(w.begin(), w.size() - 1));
    }
    return words;
}

kj::Maybe<capnp::InterfaceSchema> findInterface(uint64_t id)
{
    // What a session's bundle may carry (docs/sessions.md), plus the
    // gateway's own interfaces.
    capnp::InterfaceSchema known[] = {
        capnp::Schema::from<SystemInfo>(),     capnp::Schema::from<Chat>(),
        capnp::Schema::from<AuditLog>(),       capnp::Schema::from<Power>(),
        capnp::Schema::from<ProcessSpawner>(), capnp::Schema::from<Timer>(),
        capnp::Schema::from<Console>(),        capnp::Schema::from<Echo>(),
        capnp::Schema::from<StdIO>(),          capnp::Schema::from<RemoteSession>(),
        capnp::Schema::from<RemoteLogin>(),
    };
    for (auto &s : known) {
        if (s.getProto().getId() == id)
            return s;
    }
    return nullptr;
}

static void setField(capnp::DynamicStruct::Builder params, capnp::StructSchema::Field f,
                     kj::StringPtr v)
{
    auto name = f.getProto().getName();
    auto type = f.getType();
    char *end = nullptr;
    switch (type.which()) {
    case capnp::schema::Type::TEXT:
        params.set(f, capnp::Text::Reader(v));
        return;
    case capnp::schema::Type::DATA:
        params.set(f, capnp::Data::Reader(v.asBytes()));
        return;
    case capnp::schema::Type::BOOL:
        if (v != "true" && v != "false")
            fail(kj::str(name, " is a Bool (true or false), not ", v));
        params.set(f, v == "true");
        return;
    case capnp::schema::Type::INT8:
    case capnp::schema::Type::INT16:
    case capnp::schema::Type::INT32:
    case capnp::schema::Type::INT64: {
        long long x = strtoll(v.cStr(), &end, 0);
        if (*end != '\0' || v.size() == 0)
            fail(kj::str(name, " is an integer, not ", v));
        params.set(f, static_cast<int64_t>(x));
        return;
    }
    case capnp::schema::Type::UINT8:
    case capnp::schema::Type::UINT16:
    case capnp::schema::Type::UINT32:
    case capnp::schema::Type::UINT64: {
        unsigned long long x = strtoull(v.cStr(), &end, 0);
        if (*end != '\0' || v.size() == 0 || v[0] == '-')
            fail(kj::str(name, " is an unsigned integer, not ", v));
        params.set(f, static_cast<uint64_t>(x));
        return;
    }
    case capnp::schema::Type::FLOAT32:
    case capnp::schema::Type::FLOAT64: {
        double x = strtod(v.cStr(), &end);
        if (*end != '\0' || v.size() == 0)
            fail(kj::str(name, " is a number, not ", v));
        params.set(f, x);
        return;
    }
    case capnp::schema::Type::ENUM: {
        KJ_IF_MAYBE (e, type.asEnum().findEnumerantByName(v)) {
            params.set(f, capnp::DynamicEnum(*e));
            return;
        }
        fail(kj::str(name, " has no value ", v));
    }
    default:
        fail(kj::str(name, " has a type the command line cannot give"));
    }
}

capnp::Request<capnp::DynamicStruct, capnp::DynamicStruct>
buildRequest(capnp::DynamicCapability::Client &cap, kj::StringPtr method,
             kj::ArrayPtr<const kj::String> args, kj::StringPtr principal)
{
    auto schema = cap.getSchema();
    KJ_IF_MAYBE (m, schema.findMethodByName(method)) {
        auto req = cap.newRequest(*m);
        auto fields = m->getParamType().getFields();
        bool given[64] = {};
        size_t next = 0;
        for (auto &a : args) {
            KJ_IF_MAYBE (eq, a.findFirst('=')) {
                auto fname = kj::heapString(a.slice(0, *eq));
                KJ_IF_MAYBE (f, m->getParamType().findFieldByName(fname)) {
                    setField(req, *f, a.slice(*eq + 1));
                    if (f->getIndex() < 64)
                        given[f->getIndex()] = true;
                    continue;
                }
            }
            // Positional: the next parameter not given yet, skipping `from`,
            // which is who is logged in.
            while (next < fields.size() &&
                   (given[next] || fields[next].getProto().getName() == "from"))
                next++;
            if (next >= fields.size())
                fail(
                    kj::str("too many arguments for ", method, " (", describeMethods(schema), ")"));
            setField(req, fields[next], a);
            given[next++] = true;
        }
        for (auto f : fields) {
            if (f.getProto().getName() == "from" && !given[f.getIndex()] &&
                f.getType().which() == capnp::schema::Type::TEXT) {
                req.set(f, capnp::Text::Reader(principal));
            }
        }
        return req;
    }
    fail(kj::str("no method ", method, "; the methods are: ", describeMethods(schema)));
}

kj::String describeMethods(capnp::InterfaceSchema schema)
{
    kj::Vector<kj::String> parts;
    for (auto m : schema.getMethods()) {
        kj::Vector<kj::String> ps;
        for (auto f : m.getParamType().getFields()) {
            ps.add(kj::str(f.getProto().getName()));
        }
        parts.add(kj::str(m.getProto().getName(), "(", kj::strArray(ps, ", "), ")"));
    }
    return kj::strArray(parts, " ");
}
