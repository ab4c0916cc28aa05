// capos-remote: log in to a capOS system's remote-session gateway over
// standard Cap'n Proto RPC and use the session's capabilities.
//
//   capos-remote [--host H] --port N [--timeout S] [--no-pipeline]
//                (login USER | guest) [-c COMMAND]...
//
// Commands (from -c, else read from stdin, with a prompt on a terminal):
//   caps                     the session's capabilities
//   whoami                   who the session is
//   call NAME.METHOD [ARGS]  e.g. call info.motd, call chat.post "hi"
//   bench NAME.METHOD COUNT [ARGS]  COUNT calls in a row, and their rate
//   release NAME             drop a capability (the gateway is told)
//   logout                   end the session; its capabilities then fail
//   help, quit
// The password comes from CAPOS_PASSWORD, else from the terminal (no echo).
#include <capnp/ez-rpc.h>
#include <capnp/schema.h>
#include <kj/async-io.h>
#include <kj/debug.h>
#include <kj/time.h>
#include <kj/timer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "remote.h"

namespace
{

struct Options {
    kj::String host = kj::str("127.0.0.1");
    unsigned port = 0;
    unsigned timeout = 30;
    bool pipeline = true;
    bool guest = false;
    kj::String user;
    kj::Vector<kj::String> commands;
};

[[noreturn]] void usage(const char *why)
{
    fprintf(stderr,
            "capos-remote: %s\n"
            "usage: capos-remote [--host H] --port N [--timeout S] [--no-pipeline]\n"
            "                    (login USER | guest) [-c COMMAND]...\n",
            why);
    exit(2);
}

Options parseArgs(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; i++) {
        kj::StringPtr a = argv[i];
        bool more = i + 1 < argc;
        if (a == "--host" && more) {
            o.host = kj::str(argv[++i]);
        } else if (a == "--port" && more) {
            o.port = (unsigned)atoi(argv[++i]);
        } else if (a == "--timeout" && more) {
            o.timeout = (unsigned)atoi(argv[++i]);
        } else if (a == "--no-pipeline") {
            o.pipeline = false;
        } else if (a == "login" && more) {
            o.user = kj::str(argv[++i]);
        } else if (a == "guest") {
            o.guest = true;
        } else if (a == "-c" && more) {
            o.commands.add(kj::str(argv[++i]));
        } else {
            usage(kj::str("unexpected argument: ", a).cStr());
        }
    }
    if (o.port == 0 || o.port > 65535)
        usage("--port N (1..65535) is required");
    if (o.user == nullptr && !o.guest)
        usage("say \"login USER\" or \"guest\"");
    return o;
}

kj::String readPassword()
{
    if (const char *env = getenv("CAPOS_PASSWORD"))
        return kj::str(env);
    FILE *tty = fopen("/dev/tty", "r+");
    if (tty == nullptr) {
        fprintf(stderr, "capos-remote: no password: set CAPOS_PASSWORD or run on a terminal\n");
        exit(2);
    }
    fputs("password: ", tty);
    fflush(tty);
    struct termios old, noecho;
    int fd = fileno(tty);
    bool restore = tcgetattr(fd, &old) == 0;
    if (restore) {
        noecho = old;
        noecho.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fd, TCSAFLUSH, &noecho);
    }
    char buf[256] = "";
    if (fgets(buf, sizeof(buf), tty) == nullptr)
        buf[0] = '\0';
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &old);
    fputs("\n", tty);
    fclose(tty);
    buf[strcspn(buf, "\r\n")] = '\0';
    auto pw = kj::str(buf);
    memset(buf, 0, sizeof(buf));
    return pw;
}

class Client
{
  public:
    Client(Options &o)
        : opts(o), rpc(o.host, o.port), ws(rpc.getWaitScope()),
          timer(rpc.getIoProvider().getTimer())
    {
    }

    template <typename T> T wait(kj::Promise<T> &&p)
    {
        return timer.timeoutAfter(opts.timeout * kj::SECONDS, kj::mv(p)).wait(ws);
    }

    // Log in and fetch the bundle. Pipelined: capSet() and whoami() are sent
    // on the promised session with login(), all in one round trip.
    void login()
    {
        auto boot = rpc.getMain<RemoteLogin>();
        if (opts.guest) {
            start(boot.guestRequest().send());
        } else {
            auto pw = readPassword();
            auto req = boot.loginRequest();
            req.setUser(opts.user);
            req.setPassword(pw);
            start(req.send());
        }
        printf("logged in: %s, %zu capabilities\n", opts.guest ? "guest" : principal.cStr(),
               bundle.size());
    }

    template <typename Results> void start(capnp::RemotePromise<Results> &&p)
    {
        if (!opts.pipeline) {
            // The session as an imported capability: each later call is a
            // round trip of its own, for comparison.
            session = wait(kj::mv(p)).getSession();
            fetch();
            return;
        }
        session = p.getSession();
        KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() { fetch(); })) {
            // A failed login fails the pipelined calls too; report its own error.
            wait(kj::mv(p));
            kj::throwFatalException(kj::mv(*e));
        }
    }

    void fetch()
    {
        auto caps = session.capSetRequest().send();
        auto who = session.whoamiRequest().send();
        auto list = wait(kj::mv(caps));
        for (auto nc : list.getCaps()) {
            bundle.add(BundleCap{kj::str(nc.getName()), nc.getInterfaceId(), nc.getCap()});
        }
        principal = kj::str(wait(kj::mv(who)).getPrincipal());
    }

    // Run one command line; false if it failed.
    bool run(kj::StringPtr line)
    {
        auto w = splitWords(line);
        if (w.size() == 0)
            return true;
        kj::StringPtr cmd = w[0];
        if (cmd == "caps") {
            for (auto &nc : bundle) {
                KJ_IF_MAYBE (s, findInterface(nc.interfaceId)) {
                    printf("%-8s %s (%#018llx)\n", nc.name.cStr(), s->getShortDisplayName().cStr(),
                           (unsigned long long)nc.interfaceId);
                } else {
                    printf("%-8s (unknown interface %#018llx)\n", nc.name.cStr(),
                           (unsigned long long)nc.interfaceId);
                }
            }
        } else if (cmd == "whoami") {
            auto who = wait(session.whoamiRequest().send());
            auto p = capnp::toDynamic(who).get("profile").as<capnp::DynamicEnum>();
            KJ_IF_MAYBE (e, p.getEnumerant()) {
                printf("%s (%s)\n", who.getPrincipal().size() ? who.getPrincipal().cStr() : "guest",
                       e->getProto().getName().cStr());
            }
        } else if (cmd == "call" && w.size() >= 2) {
            call(w[1], w.slice(2, w.size()), 1);
        } else if (cmd == "bench" && w.size() >= 3) {
            int n = atoi(w[2].cStr());
            if (n <= 0)
                fail(kj::str("bench NAME.METHOD COUNT [ARGS]: COUNT must be positive"));
            call(w[1], w.slice(3, w.size()), n);
        } else if (cmd == "release" && w.size() == 2) {
            // Dropping the last client reference sends Release.
            kj::Vector<BundleCap> kept;
            for (auto &nc : bundle) {
                if (nc.name != w[1])
                    kept.add(kj::mv(nc));
            }
            if (kept.size() == bundle.size())
                fail(kj::str("no capability named ", w[1], " (see caps)"));
            bundle = kj::mv(kept);
            printf("released %s\n", w[1].cStr());
        } else if (cmd == "logout") {
            wait(session.logoutRequest().send());
            printf("logged out\n");
        } else if (cmd == "help") {
            printf("caps | whoami | call NAME.METHOD [ARGS] | bench NAME.METHOD COUNT [ARGS] |\n"
                   "release NAME | logout | quit\n");
        } else {
            fail(kj::str("unknown command: ", line, " (try help)"));
        }
        return true;
    }

  private:
    // One call, printing its results; or `count` calls one after the other,
    // printing the rate (a round trip each).
    void call(kj::StringPtr target, kj::ArrayPtr<const kj::String> args, int count)
    {
        KJ_IF_MAYBE (dot, target.findFirst('.')) {
            auto name = kj::heapString(target.slice(0, *dot));
            kj::StringPtr method = target.slice(*dot + 1);
            for (auto &nc : bundle) {
                if (nc.name != name)
                    continue;
                KJ_IF_MAYBE (s, findInterface(nc.interfaceId)) {
                    auto dyn = nc.cap.castAs<capnp::DynamicCapability>(*s);
                    if (count == 1) {
                        auto resp = wait(buildRequest(dyn, method, args, principal).send());
                        printf("%s\n",
                               kj::str(static_cast<capnp::DynamicStruct::Reader>(resp)).cStr());
                        return;
                    }
                    auto &clock = kj::systemPreciseMonotonicClock();
                    auto t0 = clock.now();
                    for (int i = 0; i < count; i++)
                        wait(buildRequest(dyn, method, args, principal).send());
                    double us = (double)((clock.now() - t0) / kj::MICROSECONDS);
                    printf("%d calls of %s in %.1f ms: %.0f calls/s, %.1f us per round trip\n",
                           count, target.cStr(), us / 1000, count * 1e6 / us, us / count);
                    return;
                }
                fail(kj::str("the interface of ", name, " is not known to this client"));
            }
            fail(kj::str("no capability named ", name, " (see caps)"));
        }
        fail(kj::str("say NAME.METHOD, e.g. info.motd, not ", target));
    }

    Options &opts;
    capnp::EzRpcClient rpc;
    kj::WaitScope &ws;
    kj::Timer &timer;
    RemoteSession::Client session = nullptr;
    kj::Vector<BundleCap> bundle;
    kj::String principal = kj::str("");
};

// The part of a KJ exception a user wants: the description.
kj::String message(const kj::Exception &e)
{
    return kj::str(e.getDescription());
}

} // namespace

int main(int argc, char **argv)
{
    Options o = parseArgs(argc, argv);
    Client c(o);
    KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() { c.login(); })) {
        fprintf(stderr, "capos-remote: login failed: %s\n", message(*e).cStr());
        return 1;
    }
    int rc = 0;
    auto runOne = [&](kj::StringPtr line) {
        KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() { c.run(line); })) {
            fprintf(stderr, "error: %s\n", message(*e).cStr());
            rc = 1;
        }
        fflush(stdout);
    };
    if (o.commands.size() > 0) {
        for (auto &cmd : o.commands)
            runOne(cmd);
        return rc;
    }
    bool tty = isatty(0);
    for (;;) {
        if (tty) {
            printf("capos> ");
            fflush(stdout);
        }
        char buf[4096];
        if (fgets(buf, sizeof(buf), stdin) == nullptr)
            break;
        buf[strcspn(buf, "\r\n")] = '\0';
        if (strcmp(buf, "quit") == 0)
            break;
        runOne(buf);
    }
    return rc;
}
