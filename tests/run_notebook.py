"""Execute one notebook top to bottom with a given Python as its kernel; print a JSON summary.

    python run_notebook.py NOTEBOOK KERNEL_PYTHON TIMEOUT

Run by tests/test_launch_notebooks.py under ``unshare -rn`` (network off).  The kernel is
``KERNEL_PYTHON -m ipykernel_launcher`` (a fresh venv's), started in the notebook's folder; the
executed notebook is written beside it as ``<name>.out.ipynb``.
"""

import json
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

path, python, timeout = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
nb = nbformat.read(path, as_version=4)
km = KernelManager()
km._kernel_spec = KernelSpec(argv=[python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                             display_name="launch venv", language="python")
client = NotebookClient(nb, km=km, timeout=timeout, resources={"metadata": {"path": str(path.parent)}})
start, error = time.perf_counter(), None
try:
    client.execute()
except CellExecutionError as exc:
    error = str(exc)[-3000:]
except Exception as exc:  # a timeout, a dead kernel
    error = f"{type(exc).__name__}: {exc}"[-3000:]
elapsed = time.perf_counter() - start
nbformat.write(nb, path.with_suffix(".out.ipynb"))
setup = "".join(o.get("text", "") for o in nb.cells[0].get("outputs", []) if o.get("output_type") == "stream")
print(json.dumps({"error": error, "seconds": round(elapsed, 1), "setup": setup}))
