"""Runs inside the sandbox: executes a student's notebook cell by cell and answers the grader.

Protocol (one JSON object a line, wire.py) on this process's stdin/stdout, which are moved to private
file descriptors before any student code runs (the student's own output goes to files per cell):

    {"op": "cell", "seq", "index", "source", "names", "timeout"}  → {"op": "cell", "seq", "status", ...}
    {"op": "call", "seq", "handle", "args", "kwargs", "timeout"}   → {"op": "result", "seq", "value"|"error"}
        (while a call runs, the student's function may ask {"op": "callback", ...} and get
         {"op": "callback_result", "value"|"error"})
    {"op": "quit"}                                                  → {"op": "bye", "cpu"}

Every cell and every call runs in a forked child of the process holding the state before it.  When it
ends normally (or raises, or calls exit()), the child carries on as the notebook's process and its
parent only waits; when it runs past its time limit (even if it ignores Ctrl-C), the parent kills the
child's process group with SIGKILL and carries on from the state before that cell.  A cell that kills
its own process only loses that cell.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire  # noqa: E402

OUTPUT_LIMIT = 20_000          # characters of a cell's stdout / stderr kept for the feedback
PROTO_IN = PROTO_OUT = -1
_buffer = b""
HANDLES = {}                   # handle → the student's callable, for calls across the boundary
SHELL = None
CPU_BASE = 0.0                 # CPU seconds of this process's ancestors in the chain of cells (for the benchmark)


def _cpu():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def send(message):
    data = wire.dumps(message)
    view = memoryview(data)
    while view:
        n = os.write(PROTO_OUT, view)
        view = view[n:]


def receive():
    global _buffer
    while b"\n" not in _buffer:
        chunk = os.read(PROTO_IN, 1 << 20)
        if not chunk:
            os._exit(0)            # the grader has gone
        _buffer += chunk
        if len(_buffer) > wire.MAX_LINE:
            os._exit(3)
    line, _buffer = _buffer.split(b"\n", 1)
    return wire.loads(line)


def _read(path):
    try:
        with open(path, "rb") as f:
            data = f.read(OUTPUT_LIMIT + 1)
    except OSError:
        return ""
    text = data[:OUTPUT_LIMIT].decode("utf-8", "replace")
    return text + ("\n… (output cut)" if len(data) > OUTPUT_LIMIT else "")


def _redirect(stem):
    for fd, suffix in ((1, "out"), (2, "err")):
        target = os.open(f"{stem}.{suffix}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def fork_and_watch(timeout, work, stem, continue_as_child):
    """Run ``work()`` in a forked child with ``timeout`` seconds of wall clock.

    Returns None in the child when it finished and ``continue_as_child`` (the child carries on), never
    returns in a child otherwise; in the parent, returns "timeout", "died: …", or "done" (the child
    finished and exited — only when not ``continue_as_child``).
    """
    global CPU_BASE
    r, w = os.pipe()
    before = CPU_BASE + _cpu()
    pid = os.fork()
    if pid == 0:
        CPU_BASE = before              # a forked child's own times start at 0
        os.close(r)
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        work()
        _flush()
        os.write(w, b"1")
        os.close(w)
        if continue_as_child:
            return None
        os._exit(0)
    os.close(w)
    deadline = time.monotonic() + timeout
    outcome = None
    while outcome is None:
        left = deadline - time.monotonic()
        if left <= 0:
            outcome = "timeout"
            break
        try:
            ready, _, _ = select.select([r], [], [], left)
        except InterruptedError:
            continue
        if ready:
            outcome = "done" if os.read(r, 1) == b"1" else "died"
    os.close(r)
    if outcome == "done" and continue_as_child:
        # the child is the notebook's process now: wait for it, then leave with it
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    if outcome == "timeout":
        for sig in (signal.SIGKILL,):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                pass
    _, status = os.waitpid(pid, 0)
    if outcome == "died":
        code = os.waitstatus_to_exitcode(status)
        outcome = f"died: the process ended ({'signal ' + signal.Signals(-code).name if code < 0 else 'exit code ' + str(code)})"
    return outcome


def run_cell(msg):
    index = int(msg["index"])
    stem = f"/tmp/cells/{index}"
    result = {}

    def work():
        _redirect(stem)
        try:
            outcome = SHELL.run_cell(str(msg["source"]), store_history=False)
            error = outcome.error_before_exec or outcome.error_in_exec
        except BaseException as exc:     # noqa: BLE001 — anything the cell raised ends only this cell
            error = exc
        if error is None:
            result["status"] = "ok"
        elif isinstance(error, SystemExit):
            result["status"] = "exit"
            result["error"] = f"the cell called exit({error.code if error.code is not None else ''})"
        else:
            result["status"] = "error"
            result["error"] = "".join(traceback.format_exception_only(type(error), error)).strip()[-2000:]

    outcome = fork_and_watch(float(msg.get("timeout", 60)), work, stem, continue_as_child=True)
    if outcome is None:                  # the child: the cell ended; report and carry on
        reply = {"op": "cell", "seq": msg.get("seq"), "index": index, **result}
        reply["values"] = _values(msg.get("names") or [])
    elif outcome == "timeout":
        reply = {"op": "cell", "seq": msg.get("seq"), "index": index, "status": "timeout",
                 "error": f"the cell ran longer than {msg.get('timeout')} s and was stopped"}
    else:
        reply = {"op": "cell", "seq": msg.get("seq"), "index": index, "status": "died", "error": outcome[6:]}
    reply["stdout"] = _read(stem + ".out")
    reply["stderr"] = _read(stem + ".err")
    send(reply)


def _values(names):
    values = {}
    ns = SHELL.user_ns
    for name in names:
        if name in ns:
            try:
                values[name] = wire.encode(ns[name], HANDLES)
            except Exception as exc:  # noqa: BLE001 — a value whose encoding fails is reported as such
                values[name] = {"unsupported": f"{type(ns[name]).__name__} ({type(exc).__name__})"}
    return values


def _callback(key, name):
    def call_grader(*args, **kwargs):
        send({"op": "callback", "handle": key, "args": wire.encode(list(args)),
              "kwargs": wire.encode(kwargs)})
        reply = receive()
        if reply.get("op") != "callback_result":
            os._exit(4)
        if "error" in reply:
            raise RuntimeError(str(reply["error"]))
        return wire.decode(reply.get("value"))
    call_grader.__name__ = name
    return call_grader


def run_call(msg):
    seq = msg.get("seq")

    def work():
        _redirect("/tmp/cells/call")
        try:
            fn = HANDLES[str(msg["handle"])]
            args = wire.decode(msg.get("args", []), _callback)
            kwargs = wire.decode(msg.get("kwargs", {"dict": {}}), _callback)
            value = fn(*args, **kwargs)
            reply = {"op": "result", "seq": seq, "value": wire.encode(value)}
        except BaseException as exc:  # noqa: BLE001
            reply = {"op": "result", "seq": seq,
                     "error": "".join(traceback.format_exception_only(type(exc), exc)).strip()[-2000:]}
        send(reply)

    outcome = fork_and_watch(float(msg.get("timeout", 60)), work, "/tmp/cells/call", continue_as_child=False)
    if outcome == "timeout":
        send({"op": "result", "seq": seq, "error": f"the call ran longer than {msg.get('timeout')} s and was stopped"})
    elif outcome != "done":
        send({"op": "result", "seq": seq, "error": outcome[6:]})


def main():
    global PROTO_IN, PROTO_OUT, SHELL
    PROTO_IN, PROTO_OUT = os.dup(0), os.dup(1)
    os.makedirs("/tmp/cells", exist_ok=True)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    _redirect("/tmp/cells/setup")
    from traitlets.config import Config
    from IPython.core.interactiveshell import InteractiveShell
    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    SHELL = InteractiveShell.instance(config=config)

    def exit(code=None):  # noqa: A001 — as in Jupyter, exit() ends the cell; here it costs nothing more
        raise SystemExit(code)
    SHELL.user_ns["exit"] = SHELL.user_ns["quit"] = exit
    import warnings
    warnings.simplefilter("default")
    send({"op": "ready", "pid": os.getpid()})
    while True:
        msg = receive()
        if msg["op"] == "cell":
            run_cell(msg)
        elif msg["op"] == "call":
            run_call(msg)
        elif msg["op"] == "quit":
            _flush()
            send({"op": "bye", "cpu": CPU_BASE + _cpu()})   # the CPU the whole chain of cells used
            os._exit(0)


if __name__ == "__main__":
    main()
