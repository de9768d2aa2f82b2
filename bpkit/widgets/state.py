"""The network is the state; a slider is a view of one number in it.

A slider key names one float: ``"0.W[1,0]"`` (layer 0's weight from input 2 to neuron 1),
``"1.b[0]"``, ``"x[0]"`` (input of the explorer's sample), ``"t[0]"`` (its target).  Training writes
the network's floats and then *shows* them on the sliders; a slider the reader moves writes only its
own float.  Nothing ever reads all sliders back into the network, so the grid of a slider (its
``step``) never rounds a trained weight, and a slider's range grows when its value leaves it.
"""

from __future__ import annotations

import math
import re

_PARAM = re.compile(r"(\d+)\.([Wb])\[(\d+)(?:,(\d+))?\]")
_DATA = re.compile(r"([xt])\[(\d+)\]")


def locate(explorer, key):
    """``(array, index)`` of the float that slider ``key`` shows: edit ``array[index]`` in place."""
    m = _DATA.fullmatch(key)
    if m:
        return (explorer.X if m.group(1) == "x" else explorer.T), (0, int(m.group(2)))
    m = _PARAM.fullmatch(key)
    if m is None:
        raise ValueError(f"slider key {key!r} is not a parameter like '0.W[1,0]' or '1.b[0]', nor 'x[i]' or 't[i]'")
    layer, kind, i, j = m.groups()
    layers = explorer.net.layers
    if int(layer) >= len(layers):
        raise ValueError(f"slider key {key!r}: the network has {len(layers)} layers (0 to {len(layers) - 1})")
    array = layers[int(layer)].W if kind == "W" else layers[int(layer)].b
    index = (int(i), int(j)) if kind == "W" else (int(i),)
    return array, index


def value_of(explorer, key):
    array, index = locate(explorer, key)
    return float(array[index])


def widen(s, value):
    """Grow the range of slider ``s`` to whole numbers so that it can show ``value`` (a signed range stays symmetric)."""
    if s.min <= value <= s.max:
        return
    if s.min < 0 < s.max:
        bound = float(math.ceil(abs(value)))
        s.max, s.min = max(s.max, bound), min(s.min, -bound)
    elif value > s.max:
        s.max = float(math.ceil(value))
    else:
        s.min = float(math.floor(value))


def on_grid(value, s):
    """The value a browser slider shows for ``value``: the nearest point of its grid."""
    return round(round((value - s.min) / s.step) * s.step + s.min, 10)


class SliderState:
    """Links an explorer's sliders to its floats: ``show(key)`` puts the float on the slider without
    writing anything back; ``write(key, value)`` edits only that float.

    A browser shows a slider on its grid; if it ever sends back the grid point nearest to a value the
    kernel just showed (an echo, not a move), that echo is dropped, so the trained float stays exact.
    """

    def __init__(self, explorer):
        self.explorer = explorer
        self.quiet = False
        self._echo = {}  # key -> the grid value a browser would echo after the kernel showed an off-grid float

    def show(self, key, expect_echo=True):
        s = self.explorer.sliders[key]
        value = value_of(self.explorer, key)
        self.quiet = True
        try:
            widen(s, value)
            s.value = value
        finally:
            self.quiet = False
        grid = on_grid(value, s)
        if grid != value and expect_echo:
            self._echo[key] = grid
        else:
            self._echo.pop(key, None)

    def show_all(self, data=False):
        for key in self.explorer.sliders:
            if data or key[0] not in "xt":
                self.show(key)

    def write(self, key, value):
        """The reader moved slider ``key`` to ``value``: True if the float changed (an echo changes nothing)."""
        echo = self._echo.pop(key, None)
        if echo is not None and value == echo:
            self.show(key, expect_echo=False)  # the exact float back on the slider; the next move is the reader's
            return False
        array, index = locate(self.explorer, key)
        array[index] = value
        return True
