"""Importing any module of the package does no I/O of its own (the doctests import every one of them): no file
opened, written or removed, no folder made, no process started, no connection, from the package's own code.

What a library does while it is being imported (reading its own metadata or settings) is its business, not
the module's that imports it; a call the package makes at import time into a library that then does I/O is
the package's, and is caught."""

from __future__ import annotations

import subprocess
import sys

PROBE = r'''
import importlib, importlib.util, os, pkgutil, sys

PKG = os.path.dirname(importlib.util.find_spec("observatoire").origin) + os.sep
WATCH = {"open", "os.mkdir", "os.remove", "os.rename", "os.rmdir", "os.chmod", "os.truncate", "os.symlink",
         "shutil.rmtree", "shutil.copyfile", "shutil.move", "subprocess.Popen", "os.system", "socket.connect",
         "socket.bind", "socket.getaddrinfo", "sqlite3.connect", "urllib.Request"}
found, busy = [], False


def hook(event, args):
    global busy
    if busy or event not in WATCH:
        return
    busy = True
    try:
        f = sys._getframe(1)
        while f is not None:                  # innermost first: whose code asked for it?
            name = f.f_code.co_filename
            if name.startswith(("<frozen importlib", "<frozen zipimport")):
                break                         # a module being imported, doing its own business
            if name.startswith(PKG):
                found.append(f"{event} {str(args[0])[:120]!r} from {name[len(PKG):]}:{f.f_lineno}")
                break
            f = f.f_back
    finally:
        busy = False


sys.addaudithook(hook)
import observatoire

names = sorted(m.name for m in pkgutil.walk_packages(observatoire.__path__, "observatoire."))
for name in names:
    importlib.import_module(name)
print(len(names))
print("\t".join(found))
from pathlib import Path
from observatoire.statefiles import read_json
try:
    read_json(Path(os.devnull), None)                 # I/O of the package's own, after the imports: seen?
except Exception:
    pass
print("\t".join(found))
'''


def test_importing_every_module_does_no_io() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    n, at_import, after = out.stdout.splitlines()
    assert int(n) > 100                                          # every module was imported
    assert at_import == "", at_import.replace("\t", "\n")
    assert after.startswith("open ") and "statefiles.py" in after   # the probe does see the package's I/O
