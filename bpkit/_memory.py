"""Memory: each network reuses the arrays of its own finished calls, and (opt-in) the C allocator's tuning.

:class:`Recycler` — on by default, local to one network.  A call of ``loss_and_grads`` allocates its
activations, δ and gradients afresh; glibc returns freed blocks above its mmap/trim thresholds to the
system, so without reuse every new large array is page-faulted in again (measured here, under load, batch
256, widths 256–1024: bpkit/hand-written preallocated pass 1.06–1.35 without reuse, 1.05–1.12 with it;
``benchmarks/README.md``).  A network keeps the arrays it
handed out (at most :attr:`Recycler.KEEP` of each shape and dtype) and gives one out again only when
nothing else refers to it — not the caller (the returned gradients, ``net.deltas``, ``layer.Z``, a view
of any of them), not another thread — so no array a user can reach ever changes under them.  The memory
is the network's — about one call's activations, δ and gradients (more while the caller holds results,
at most :attr:`Recycler.KEEP` arrays of each shape) — freed with the network or by ``net.release_memory()``.

:func:`tune_malloc` — opt-in, process-wide:

glibc serves every allocation above its mmap threshold (128 KiB at first) with a fresh mmap and returns
it to the system on free, so each new 256×256 float64 array (512 KiB) page-faults all its pages again:
measured here, a 256×256 matrix product into a new array took 0.82 ms, into a reused one 0.49 ms.
Raising the mmap and trim thresholds keeps such blocks in the heap, where NumPy's next array of the
same size reuses them.

The price: the setting is process-wide (it overrides the user's ``MALLOC_*`` / ``GLIBC_TUNABLES``), and
freed memory stays with the process — in a notebook-like run 1.2 GB stayed resident after the arrays
were freed, against 30 MB without.  So ``import bpkit`` leaves the allocator alone; call
:func:`tune_malloc` (``bp.tune_malloc()``), or set ``BPKIT_MALLOC_TUNING=1`` before ``import bpkit``,
for long training loops on large layers.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import weakref
from collections import deque

import numpy as np

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 << 20   # blocks up to 64 MiB come from the heap
TRIM_THRESHOLD = 256 << 20  # keep up to 256 MiB of freed heap before returning it

MALLOC_TUNED = False


def tune_malloc() -> bool:
    """Raise glibc's mmap/trim thresholds, process-wide (Linux with glibc only); True if it was done.

    Speeds up the allocation of large arrays (a 256×256 product: 0.82 → 0.49 ms) at the cost of
    keeping up to 256 MiB of freed memory in the process.  Off unless called (or
    ``BPKIT_MALLOC_TUNING=1`` at import).
    """
    global MALLOC_TUNED
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, …): nothing to tune
        return False
    MALLOC_TUNED = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    return MALLOC_TUNED


if os.environ.get("BPKIT_MALLOC_TUNING", "0") == "1":
    tune_malloc()


def _refs_of_a_kept_array() -> int:
    """What ``sys.getrefcount`` says of an array that only the recycler holds, in the code shape of
    :meth:`Recycler.empty` (the deque, the local name, the call's argument): 3 on CPython 3.11."""
    kept = deque([np.empty(0)])
    a = kept.popleft()
    kept.append(a)
    return sys.getrefcount(a)


_UNSHARED = _refs_of_a_kept_array()
_NEW = object()
# refcounts are only exact under the GIL (a free-threaded build defers some): there, never reuse
_REUSE = getattr(sys, "_is_gil_enabled", lambda: True)()


class Recycler:
    """The arrays one network handed out, given out again once only the recycler refers to them.

    ``empty(shape, dtype)`` is ``np.empty(shape, dtype)``, except that for arrays of at least
    :attr:`MIN_BYTES` it first looks at the arrays of that shape and dtype it handed out before and
    returns one that nothing else refers to (its reference count says so, and it has no weak
    reference).  An array the caller still holds — directly, in a dict, through a view — is never given
    out again.  Thread-safe (one lock; the check and the hand-out happen under it).
    """

    MIN_BYTES = 1 << 16  # smaller arrays come from the heap anyway
    KEEP = 48            # arrays kept per (shape, dtype): two passes of a deep network's activations, δ, gradients
    SCAN = 8             # arrays looked at per request before allocating a new one

    def __init__(self):
        self._lock = threading.Lock()
        self._kept = {}

    def empty(self, shape, dtype):
        key = (shape, dtype)
        kept = self._kept.get(key, _NEW)
        if kept is _NEW:
            kept = self._first(key)
        if kept is None:  # too small to be worth it
            return np.empty(shape, dtype)
        with self._lock:
            for _ in range(min(len(kept), self.SCAN)):
                a = kept.popleft()
                kept.append(a)
                if sys.getrefcount(a) == _UNSHARED and not weakref.getweakrefcount(a):
                    return a
            a = np.empty(shape, dtype)
            kept.append(a)
            return a

    def _first(self, key):
        """The deque of arrays of a (shape, dtype) not asked for before, or None if they are not kept."""
        shape, dtype = key
        n = np.dtype(dtype).itemsize
        for d in shape:
            n *= d
        with self._lock:
            return self._kept.setdefault(key, deque(maxlen=self.KEEP) if n >= self.MIN_BYTES and _REUSE else None)

    def __reduce__(self):
        """A copied or pickled network starts with an empty recycler (its arrays are its own)."""
        return (Recycler, ())

    def nbytes(self) -> int:
        """Bytes of the arrays kept (some of them may be in use)."""
        with self._lock:
            return sum(a.nbytes for kept in self._kept.values() if kept is not None for a in kept)

    def clear(self) -> None:
        """Forget every kept array (those nobody else holds are freed)."""
        with self._lock:
            self._kept.clear()
