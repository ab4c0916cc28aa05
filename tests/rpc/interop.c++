// What the official C++ RPC implementation does beyond what capos-remote
// exercises, against the gateway harness (run with --login-delay):
// capabilities in params (imported, then released: the client's object is
// destroyed), a call cancelled before its answer, 100 calls in flight
// against the limit of 64 outstanding questions while another connection
// keeps working. TAP on stdout.
//
//   rpc-interop PORT
#include <capnp/ez-rpc.h>
#include <kj/async-io.h>
#include <kj/debug.h>
#include <kj/timer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capos.capnp.h"
#include "remote.capnp.h"

namespace
{

int port, ntest, nfail;

void tap(bool ok, kj::StringPtr what)
{
    ntest++;
    nfail += !ok;
    printf("%s %d - %s\n", ok ? "ok" : "not ok", ntest, what.cStr());
    fflush(stdout);
}

// A capability of the client's; it notes when the last reference is gone.
class Probe final : public Echo::Server
{
  public:
    explicit Probe(bool &gone) : gone(gone)
    {
    }
    ~Probe()
    {
        gone = true;
    }

  private:
    bool &gone;
};

struct Session {
    capnp::EzRpcClient rpc;
    kj::Timer &timer;
    RemoteSession::Client session = nullptr;
    capnp::Capability::Client info = nullptr;

    Session() : rpc("127.0.0.1", port), timer(rpc.getIoProvider().getTimer())
    {
    }

    template <typename T> T wait(kj::Promise<T> &&p)
    {
        return timer.timeoutAfter(10 * kj::SECONDS, kj::mv(p)).wait(rpc.getWaitScope());
    }

    void sleep(unsigned ms)
    {
        timer.afterDelay(ms * kj::MILLISECONDS).wait(rpc.getWaitScope());
    }

    void login()
    {
        auto req = rpc.getMain<RemoteLogin>().loginRequest();
        req.setUser("alice");
        req.setPassword(getenv("CAPOS_PASSWORD"));
        session = req.send().getSession();
        auto caps = wait(session.capSetRequest().send());
        info = caps.getCaps()[0].getCap();
    }

    kj::String motd()
    {
        auto r = wait(info.castAs<SystemInfo>().motdRequest().send());
        return kj::str(r.getText());
    }
};

template <typename F> kj::Maybe<kj::String> failure(F &&f)
{
    KJ_IF_MAYBE (e, kj::runCatchingExceptions(kj::fwd<F>(f))) {
        return kj::str(e->getDescription());
    }
    return nullptr;
}

void paramsCapability()
{
    Session s;
    bool gone = false;
    kj::String text;
    auto err = failure([&]() {
        s.login();
        // SystemInfo.motd with params that carry a capability of ours: the
        // gateway imports it, then gives it back (Release) after the call.
        auto req = s.info.typelessRequest(capnp::typeId<SystemInfo>(), 0, nullptr);
        auto p = req.initAs<NamedCap>();
        p.setName("probe");
        p.setCap(kj::heap<Probe>(gone));
        auto resp = s.wait(req.send());
        text = kj::str(resp.getAs<SystemInfo::MotdResults>().getText());
        for (int i = 0; i < 200 && !gone; i++)
            s.sleep(10);
    });
    KJ_IF_MAYBE (e, err) {
        tap(false, kj::str("a call whose params carry a capability: ", *e));
        return;
    }
    tap(text.startsWith("Welcome"), kj::str("a call whose params carry a capability: ", text));
    tap(gone, "the gateway released the imported capability: the client's object was destroyed");
}

void cancel()
{
    Session s;
    auto err = failure([&]() {
        {
            // Dropped at once: the client sends Finish before the (slow)
            // login is answered; the gateway then answers `canceled`.
            auto req = s.rpc.getMain<RemoteLogin>().loginRequest();
            req.setUser("alice");
            req.setPassword(getenv("CAPOS_PASSWORD"));
            auto dropped = req.send();
            s.sleep(20);
        }
        s.sleep(400);
        s.login();
        s.motd();
    });
    KJ_IF_MAYBE (e, err) {
        tap(false, kj::str("a cancelled login, then a login on the same connection: ", *e));
    } else {
        tap(true, "a cancelled login, then a login on the same connection");
    }
}

void tooManyQuestions()
{
    Session s, other;
    int ok = 0, refused = 0;
    kj::String why;
    auto err = failure([&]() {
        s.login();
        other.login();
        kj::Vector<kj::Promise<void>> calls;
        for (int i = 0; i < 100; i++) {
            calls.add(s.info.castAs<SystemInfo>().uptimeRequest().send().then(
                [&](auto &&) { ok++; },
                [&](kj::Exception &&e) {
                    refused++;
                    if (why == nullptr)
                        why = kj::str(e.getDescription());
                }));
        }
        s.wait(kj::joinPromises(calls.releaseAsArray()));
    });
    KJ_IF_MAYBE (e, err) {
        tap(false, kj::str("100 calls in flight: ", *e));
        return;
    }
    bool limited = refused > 0 && why != nullptr &&
                   strstr(why.cStr(), "too many outstanding questions; the limit is 64") != nullptr;
    tap(limited, kj::str("100 calls in flight: ", ok, " answered, ", refused,
                         " refused: ", why == nullptr ? kj::str("") : kj::mv(why)));
    kj::String text;
    auto err2 = failure([&]() { text = other.motd(); });
    tap(err2 == nullptr && text.startsWith("Welcome"),
        "another connection of the same client keeps working");
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 2 || getenv("CAPOS_PASSWORD") == nullptr) {
        fprintf(stderr, "usage: CAPOS_PASSWORD=... rpc-interop PORT\n");
        return 2;
    }
    port = atoi(argv[1]);
    paramsCapability();
    cancel();
    tooManyQuestions();
    printf("1..%d\n", ntest);
    return nfail == 0 ? 0 : 1;
}
