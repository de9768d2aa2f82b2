"""Let the C allocator recycle the memory of large arrays instead of page-faulting fresh memory.

glibc serves every allocation above its mmap threshold (128 KiB at first) with a fresh mmap and returns
it to the system on free, so each new 256×256 float64 array (512 KiB) page-faults all its pages again:
measured here, a 256×256 matrix product into a new array took 0.82 ms, into a reused one 0.49 ms.
Raising the mmap and trim thresholds keeps such blocks in the heap, where NumPy's next array of the
same size reuses them.  This is process-wide; set BPKIT_MALLOC_TUNING=0 to leave the allocator alone.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 << 20   # blocks up to 64 MiB come from the heap
TRIM_THRESHOLD = 256 << 20  # keep up to 256 MiB of freed heap before returning it


def tune_malloc() -> bool:
    """Raise glibc's mmap/trim thresholds (Linux with glibc only); True if it was done."""
    if os.environ.get("BPKIT_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, …): nothing to tune
        return False
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1


MALLOC_TUNED = tune_malloc()
