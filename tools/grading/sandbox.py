"""Start a command in a sandbox: bubblewrap, an unprivileged user, resource limits, no network.

The sandbox sees a read-only /usr (and /lib*, /bin, /etc's few files Python needs), the Python
environment and ``bpkit`` read-only, a private /tmp, and one writable working directory; never the
course folder, the chapters' sources or the gradebook.  It has no network (its own empty network
namespace), its own PID namespace (so every process it starts dies with it), and runs as uid/gid
``61000 + slot`` with no supplementary groups when the grader runs as root.  CPU time, address space
and the number of processes are limited with ``prlimit``; the wall clock by the grader, which kills
the whole process tree at the end.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

from . import wire

HERE = Path(__file__).resolve().parent
SANDBOX_UID = 61000
# the interpreter as the sandbox sees it: ``..`` folded (``benchmarks/../.venv/bin/python`` names a folder the
# sandbox does not have), symlinks kept (the venv's python is a link; resolving it would lose the venv)
PYTHON = os.path.abspath(sys.executable)


@dataclass
class Limits:
    cell_timeout: float = 60.0        # seconds of wall clock a cell or a call may take
    wall: float = 900.0               # seconds for the whole notebook
    cpu: int = 600                    # CPU seconds per process
    memory: int = 2 * 1024 ** 3       # bytes of address space per process
    nproc: int = 256                  # processes of the sandbox's user


class SandboxError(RuntimeError):
    pass


def available() -> str | None:
    """None when the sandbox can run here, otherwise why not."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    if shutil.which("prlimit") is None:
        return "prlimit (util-linux) is not installed"
    return None


_FONT_CACHE = []


def font_cache():
    """Matplotlib's font list as the grader's own Matplotlib built it (a JSON file), or None.

    Bound read-only into each sandbox's fresh Matplotlib folder, it spares every notebook that imports
    pyplot the scan of the system's fonts (~1.5 s a submission); the student's process can read it, never
    change it.  Built once in the process that forks the graders (batch.py).
    """
    if not _FONT_CACHE:
        try:
            from matplotlib import font_manager
            import matplotlib
            path = Path(matplotlib.get_cachedir()) / f"fontlist-v{font_manager.FontManager.__version__}.json"
            _FONT_CACHE.append(path if path.is_file() else None)
        except Exception:  # noqa: BLE001 — no Matplotlib, or no cache: each notebook scans the fonts itself
            _FONT_CACHE.append(None)
    return _FONT_CACHE[0]


def _python_roots():
    """Directories the sandboxed Python needs: the interpreter's prefix, the venv, bpkit's source."""
    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(sysconfig.get_paths()["stdlib"]).parent}
    import bpkit
    roots.add(Path(bpkit.__file__).resolve().parent)
    return sorted({r.resolve() for r in roots if r.exists()})


def command(workdir: Path, slot: int, limits: Limits, argv):
    """The argv that runs ``argv`` sandboxed with ``workdir`` as its only writable directory."""
    why = available()
    if why:
        raise SandboxError(why)
    bwrap = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
             "--hostname", "sandbox", "--clearenv"]
    for d in ("/usr", "/lib", "/lib64", "/bin", "/sbin"):
        if os.path.exists(d):
            bwrap += ["--ro-bind", d, d] if not os.path.islink(d) else ["--symlink", os.readlink(d), d]
    for f in ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/fonts"):
        if os.path.exists(f):
            bwrap += ["--ro-bind", f, f]
    # the private /tmp first: a venv or checkout that lives under /tmp (a CI clone, say) is bound on top of it
    bwrap += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    made = {Path("/tmp")}
    for root in _python_roots():
        if not str(root).startswith("/usr/"):
            for parent in reversed(root.parents):   # bubblewrap would make them 0700, closed to the uid
                if str(parent) != "/" and parent not in made:
                    made.add(parent)
                    bwrap += ["--perms", "0755", "--dir", str(parent)]
            bwrap += ["--ro-bind", str(root), str(root)]
    fonts = font_cache()
    if fonts is not None:
        bwrap += ["--perms", "1777", "--dir", "/tmp/mpl", "--ro-bind", str(fonts), f"/tmp/mpl/{fonts.name}"]
    bwrap += ["--perms", "0755", "--dir", "/opt", "--perms", "0755", "--dir", "/opt/grader",
              "--ro-bind", str(HERE / "runner.py"), "/opt/grader/runner.py",
              "--ro-bind", str(HERE / "wire.py"), "/opt/grader/wire.py",
              "--perms", "0755", "--dir", "/home", "--bind", str(workdir), "/home/student",
              "--chdir", "/home/student"]
    env = {"HOME": "/tmp", "PATH": f"{Path(PYTHON).parent}:/usr/bin:/bin", "LANG": "C.UTF-8",
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/mpl", "IPYTHONDIR": "/tmp/ipython",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
    for key, value in env.items():
        bwrap += ["--setenv", key, value]
    prlimit = ["prlimit", f"--cpu={int(limits.cpu)}", f"--as={int(limits.memory)}",
               f"--nproc={int(limits.nproc)}", f"--core=0", "--"]
    user = []
    if os.geteuid() == 0:
        # bubblewrap runs as root (it can bind the interpreter wherever it lives) and keeps only the
        # capability to change user; setpriv drops to the sandbox's own uid before Python starts, and
        # with it every capability
        uid = SANDBOX_UID + slot
        bwrap[1:2] = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                      "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        user = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--"]
        os.chown(workdir, uid, uid)
        for p in Path(workdir).rglob("*"):
            os.chown(p, uid, uid)
    return [*prlimit, *bwrap, "--", *user, *argv]


class Sandbox:
    """The runner (runner.py) started in the sandbox; ``request`` sends a message and reads replies."""

    def __init__(self, workdir: Path, slot: int = 0, limits: Limits | None = None):
        self.limits = limits or Limits()
        argv = command(Path(workdir), slot, self.limits,
                       [PYTHON, "-I", "-X", "utf8", "/opt/grader/runner.py"])
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self._buffer = b""
        self.seq = 0
        self.cpu = None          # CPU seconds the notebook's processes used, as its runner reports when it quits
        hello = self.receive(timeout=60)
        if hello.get("op") != "ready":
            raise SandboxError(f"the sandbox did not start: {hello}")

    def left(self):
        return self.limits.wall - (time.monotonic() - self.started)

    def send(self, message):
        try:
            self.proc.stdin.write(wire.dumps(message))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise SandboxError("the notebook's process is gone") from None

    def receive(self, timeout):
        deadline = time.monotonic() + min(timeout, max(self.left(), 0))
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SandboxError("the notebook ran past the grader's time limit"
                                       if self.left() <= 0 else "the notebook's process stopped answering")
                if sel.select(left):
                    try:
                        chunk = os.read(fd, 1 << 20)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        raise SandboxError("the notebook's process ended")
                    self._buffer += chunk
                    if len(self._buffer) > wire.MAX_LINE:
                        raise SandboxError("the notebook's process sent too much data")
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return wire.loads(line)
        except wire.WireError as exc:
            raise SandboxError(f"the notebook's process broke the protocol ({exc})") from None

    def request(self, message, timeout):
        self.seq += 1
        message = dict(message, seq=self.seq)
        self.send(message)
        return self.seq

    def close(self):
        """Kill everything the sandbox started and wait for it: no process of the student survives."""
        if self.proc.poll() is None:
            try:
                self.send({"op": "quit"})
                bye = self.receive(timeout=2)
                if bye.get("op") == "bye" and isinstance(bye.get("cpu"), (int, float)):
                    self.cpu = float(bye["cpu"])
                self.proc.wait(timeout=1)     # the notebook's process leaves; whatever it left is killed next
            except (SandboxError, subprocess.TimeoutExpired):
                pass
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
