"""Interactive explorers: change weights, watch δ and the gradients update (ipywidgets + matplotlib).

Loaded on first use (``bp.widgets``); ``import bpkit`` does not import ipywidgets or matplotlib.
Every explorer is an ``ipywidgets.VBox``: display it as the last line of a cell.  Its numbers are
shown as text (an HTML table), its figures as images redrawn in place, so that the static website
shows each explorer's initial state and a live kernel updates it on every slider move.
"""

from __future__ import annotations

try:
    import anywidget  # noqa: F401  (the accessible slider and the figures with alt text: _slider, _render)
    import ipywidgets  # noqa: F401
    import matplotlib  # noqa: F401
except ImportError as err:  # pragma: no cover
    raise ImportError("bpkit.widgets needs ipywidgets, anywidget and matplotlib: "
                      "pip install ipywidgets anywidget matplotlib") from err

from .chapters import (BatchExplorer, ChainExplorer, DepthExplorer, ForwardExplorer, OutputDeltaExplorer,
                       RegularizationExplorer)
from .explorer import NetworkExplorer
from .descent import DescentLandscape
from .init_explorer import InitExplorer
from .graph_explorer import GraphExplorer  # noqa: E402,F401  (in __all__ below)
from .landscape import LossLandscape
from .playground import Playground
from .sweep import BackpropSweep

__all__ = ["BackpropSweep", "BatchExplorer", "ChainExplorer", "DepthExplorer", "DescentLandscape", "ForwardExplorer", "GraphExplorer",
           "InitExplorer", "LossLandscape", "NetworkExplorer", "OutputDeltaExplorer", "Playground", "RegularizationExplorer"]
