#!/usr/bin/env python3
"""Layering check (docs/kernel.md, "Layers and the call path"): every
quoted #include must name a file of the same layer or a lower one.

  lib/            only lib/ itself (folder-qualified or the same folder),
                  the ABI in include/, and the generated schema header
  kernel/ core    anything but kernel/objects/ (objects are reached through
                  the registry, kernel/registry.h)
  kernel/arch/    its own headers, include/, lib/ and kernel core
  tools/          only tools/, lib/ and include/

Also: every object class defined under kernel/objects/ is listed in the
registry (kernel/objects/registry.c).

Prints TAP, one line per rule, and the offending includes.
"""
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
GENERATED = {"capos.capnp.h", "rpc.capnp.h", "remote.capnp.h"}


def files(prefix):
    out = subprocess.run(["git", "ls-files", prefix], capture_output=True, text=True, check=True)
    return [f for f in out.stdout.split() if f.endswith((".c", ".h"))]


def includes(path):
    with open(path, encoding="utf-8") as f:
        return INCLUDE.findall(f.read())


def resolves(path, inc, roots):
    """The file an include names, searching the includer's folder then roots."""
    for d in [os.path.dirname(path)] + roots:
        cand = os.path.normpath(os.path.join(d, inc))
        if os.path.exists(cand):
            return cand
    return None


def check(name, paths, roots, allowed, forbidden=()):
    bad = []
    for p in paths:
        for inc in includes(p):
            if inc in GENERATED:
                continue
            target = resolves(p, inc, roots)
            if target is None:
                bad.append(f"{p}: \"{inc}\" is not a file of an allowed layer")
            elif not target.startswith(allowed) or target.startswith(forbidden):
                bad.append(f"{p}: \"{inc}\" is {target}, above this layer")
    for b in bad:
        print("# " + b)
    print(("not ok" if bad else "ok") + f" - {name}: {len(paths)} files")
    return not bad


ok = True
ok &= check("lib/ includes only lib/ and include/", files("lib"),
            ["lib", "lib/freestanding", "include"], ("lib/", "include/"))
core = [f for f in files("kernel") if not f.startswith(("kernel/objects/", "kernel/arch/"))]
ok &= check("kernel core does not include kernel/objects/", core,
            ["kernel", "lib", "lib/freestanding", "include", "kernel/arch/x86_64/include"],
            ("kernel/", "lib/", "include/"), ("kernel/objects/",))
ok &= check("kernel/arch/ does not include kernel/objects/", files("kernel/arch"),
            ["kernel/arch/x86_64/include", "kernel", "lib", "lib/freestanding", "include"],
            ("kernel/", "lib/", "include/"), ("kernel/objects/",))
ok &= check("tools/ includes only tools/, lib/ and include/", files("tools"),
            ["lib", "include"], ("tools/", "lib/", "include/"))


def classes_registered():
    """Every object class defined under kernel/objects/ is in the registry's
    one list (KOBJECT_CLASSES): a class left out would have its hooks
    silently never run."""
    defined = {}
    for p in files("kernel/objects"):
        with open(p, encoding="utf-8") as f:
            text = f.read()
        for name in re.findall(r"^const struct kobject_class (\w+)_class\b", text, re.M):
            defined[name] = p
        for name in re.findall(r"^KOBJECT_SINGLETON\((\w+),", text, re.M):
            defined[name] = p
    with open("kernel/objects/registry.c", encoding="utf-8") as f:
        listed = set(re.findall(r"\bX\((\w+)\)", f.read()))
    bad = [f"{p}: class {n}_class is not in KOBJECT_CLASSES (kernel/objects/registry.c)"
           for n, p in sorted(defined.items()) if n not in listed]
    bad += [f"kernel/objects/registry.c: X({n}) names no class" for n in sorted(listed - set(defined))
            if n != "NAME"]
    for b in bad:
        print("# " + b)
    print(("not ok" if bad else "ok") + f" - every object class is registered once: {len(defined)}")
    return not bad


ok &= classes_registered()
sys.exit(0 if ok else 1)
