"""The strict book build, cold and unchanged, and each chapter's SymPy checks.

    python benchmarks/bench_book.py

* cold: a copy of the project with no _build, `jupyter-book build -W -n --keep-going` executing
  every chapter (target ≤ 90 s on 2 cores);
* unchanged: the same command again with nothing changed (target ≤ 10 s);
* SymPy checks: each chapter executed once with nbclient, the execution time of the cells that use
  SymPy summed from the cells' timing metadata (target ≤ 5 s per chapter).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from timing import save

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

COLD_TARGET, UNCHANGED_TARGET, SYMPY_TARGET = 90.0, 10.0, 5.0
# a cell counts as a SymPy check if it uses SymPy: sp.…, sympy, the symbolic helpers, the errata checks
SYMPY_CELL = re.compile(r"(?<![\w.])sp\.|\bsympy\b|\bassert_same\b|\bSymbolicNetwork\b|\bsymbols_matrix\b|\bE\.show\(|\berrata\b")


def copy_project(dest: Path):
    skip = shutil.ignore_patterns("_build", ".venv", "node_modules", ".git", "artifacts", "coursework", "__pycache__",
                                  ".pytest_cache", ".hypothesis")
    shutil.copytree(ROOT, dest, ignore=skip, dirs_exist_ok=True)


def timed_build(book: Path):
    config = subprocess.run([sys.executable, str(book / "tools" / "offline_assets.py")], cwd=book, capture_output=True,
                            text=True, check=True).stdout.strip()
    t0 = time.perf_counter()
    result = subprocess.run([str(Path(sys.executable).with_name("jupyter-book")), "build", str(book), "-W", "-n",
                             "--keep-going", "--config", str(book / config)], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if result.returncode != 0:
        raise RuntimeError("the build failed:\n" + (result.stdout + result.stderr)[-3000:])
    return seconds


def sympy_seconds(chapter: Path):
    from nbclient import NotebookClient

    from chapter_tools import notebook

    nb = notebook(chapter)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(chapter.parent)}}).execute()
    total = sympy = 0.0
    for cell in nb.cells:
        timing = cell.metadata.get("execution", {})
        if cell.cell_type != "code" or "iopub.execute_input" not in timing:
            continue
        start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
        seconds = (end - start).total_seconds()
        total += seconds
        if SYMPY_CELL.search(cell.source):
            sympy += seconds
    return total, sympy


def main():
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "book"
        copy_project(book)
        if (ROOT / "node_modules").exists():  # npm ci would fetch the same pinned files again
            shutil.copytree(ROOT / "node_modules", book / "node_modules", symlinks=True)
        cold = timed_build(book)
        unchanged = timed_build(book)
    chapters = []
    for path in sorted((ROOT / "chapters").glob("*.md")):
        if "```{code-cell}" not in path.read_text():
            continue
        total, sympy = sympy_seconds(path)
        chapters.append({"chapter": path.stem, "execute_s": total, "sympy_s": sympy})
    print(f"strict build, cold (every chapter executed): {cold:6.1f} s   target <= {COLD_TARGET:.0f} s  "
          f"{'ok' if cold <= COLD_TARGET else 'OVER'}")
    print(f"strict build, unchanged:                     {unchanged:6.1f} s   target <= {UNCHANGED_TARGET:.0f} s  "
          f"{'ok' if unchanged <= UNCHANGED_TARGET else 'OVER'}")
    print(f"{'chapter':16} {'cells':>8} {'SymPy checks':>13}  target <= {SYMPY_TARGET:.0f} s")
    for c in chapters:
        flag = "ok" if c["sympy_s"] <= SYMPY_TARGET else "OVER"
        print(f"{c['chapter']:16} {c['execute_s']:7.2f}s {c['sympy_s']:12.2f}s  {flag}")
    save("book", {"cold_s": cold, "unchanged_s": unchanged, "chapters": chapters,
                  "targets": {"cold_s": COLD_TARGET, "unchanged_s": UNCHANGED_TARGET, "sympy_s": SYMPY_TARGET}})


if __name__ == "__main__":
    main()
