"""Shared look of the drawings (colours, fonts, number formats) and the errors."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from tinygrad_edu.engine import Parameter, Value

DEFAULT_MAX_NODES = 300
"""Past this many drawn nodes ``draw_graph`` refuses (dot slows down and nobody can read it)."""

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu")
"""Ops that ``collapse="neuron"`` folds into the neuron box together with its ``dot``."""

# -- look ------------------------------------------------------------------------------------------

FONT = "Helvetica"
FILL = {
    "parameter": "#ffd8a8",  # orange: what training changes
    "input": "#a5d8ff",  # blue: data fed in
    "constant": "#e9ecef",  # grey: fixed numbers, no gradient shown
    "interior": "#ffffff",  # white: computed
    "output": "#b2f2bb",  # green: the root, where backprop starts
    "neuron": "#d0bfff",  # violet: a collapsed dot + activation
    "op": "#fff3bf",  # pale yellow: the operation ovals
}
CURRENT_FILL = "#ffc9c9"
CURRENT_COLOR = "#e03131"
DONE_EDGE_COLOR = "#495057"
PENDING_COLOR = "#adb5bd"
PATH_COLOR = "#1c7ed6"  # the edges of the paths draw_graph(paths_from=...) shows

_OP_SYMBOLS = {"*": "\u00d7", "/": "\u00f7", "-": "\u2212", "neg": "\u2212x", "pow": "x^y"}


# -- numbers ---------------------------------------------------------------------------------------


def format_number(x: float, digits: int = 4) -> str:
    """A short readable form of ``x`` with ``digits`` significant digits.

    Like ``'%.4g'``, but small magnitudes switch to scientific notation earlier (below 1e-3, where
    ``%g`` would still print ``0.0001234``), trailing zeros are dropped, and -0 prints as ``0``::

        2.0 -> '2'   -0.5 -> '-0.5'   0.0001234 -> '1.234e-04'   1e9 -> '1e+09'   1e-9 -> '1e-09'
        nan -> 'nan'   inf -> 'inf'
    """
    if digits < 1:
        raise ValueError(f"format_number: digits must be >= 1, got {digits!r}")
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0.0:
        return "0"
    if abs(x) < 1e-3:
        mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{exponent}"
    text = f"{x:.{digits}g}"
    return "0" if text == "-0" else text


def format_matrix(rows: Sequence[Sequence[float]], digits: int = 4, name: str | None = None) -> str:
    """A matrix (a list of rows) as aligned text, e.g. to print a Jacobian next to its formula.

    Each entry is written by ``format_number(entry, digits)`` and right-aligned in its column;
    with ``name``, the first row starts with ``name = `` and the others are indented to match::

        format_matrix([[1.0, -0.5], [2.25, 0.0]], name="A")  ->  A = [    1  -0.5 ]
                                                                     [ 2.25     0 ]

    Raises:
        ValueError: no rows, an empty row, or rows of different lengths (naming the row).
    """
    table = [[format_number(x, digits) for x in row] for row in rows]
    if not table or not table[0]:
        raise ValueError("format_matrix: need at least one row with at least one entry")
    for i, row in enumerate(table):
        if len(row) != len(table[0]):
            raise ValueError(
                f"format_matrix: row {i} has {len(row)} entries, row 0 has {len(table[0])}"
            )
    widths = [max(len(row[k]) for row in table) for k in range(len(table[0]))]
    lines = ["[ " + "  ".join(x.rjust(w) for x, w in zip(row, widths)) + " ]" for row in table]
    prefix = f"{name} = " if name else ""
    return "\n".join(
        (prefix if i == 0 else " " * len(prefix)) + line for i, line in enumerate(lines)
    )


def node_kind(v: Value) -> str:
    """'parameter', 'constant' (an unlabelled leaf with ``requires_grad=False``, e.g. the 2 in
    ``x * 2``), 'input' (any other leaf: a Value you made, or a model's labelled input x0, x1 ...)
    or 'interior' (the result of an op)."""
    if isinstance(v, Parameter):
        return "parameter"
    if v.parents:
        return "interior"
    return "input" if v.requires_grad or v.label else "constant"


def _escape(text: str) -> str:
    """Escape the characters that mean something inside a Graphviz record label.

    ``{ } | < >`` structure a record, backslash escapes; double quotes are escaped by the graphviz
    library when it quotes the whole label. Newlines become spaces (a record field is one line).
    """
    text = text.replace("\\", "\\\\").replace("\n", " ").replace("\r", " ")
    return re.sub(r"([{}|<>])", r"\\\1", text)


# -- errors ----------------------------------------------------------------------------------------


class GraphTooLargeError(ValueError):
    """``draw_graph`` was asked to draw more nodes than ``max_nodes``."""


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz ``dot`` program is not installed (the DOT source is still available)."""


_INSTALL_HELP = (
    "no Graphviz program was found (neither the bundled graphviz-pure nor a 'dot' on PATH), so "
    "the graph cannot be rendered to {fmt}. Reinstall the bundled one with pip install "
    "graphviz-pure, or install Graphviz: apt-get install graphviz (Debian/Ubuntu), "
    "brew install graphviz (macOS), "
    "conda install graphviz (conda), choco install graphviz / winget install graphviz (Windows), "
    "or see https://graphviz.org/download/. The DOT text is still available as graph.source."
)
