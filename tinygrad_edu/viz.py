"""Draw computation graphs with data, gradients and local derivatives; step through backprop.

micrograd's ``draw_dot`` shows each Value's data and grad; torchviz shows neither values nor
gradients. Here every edge also carries its *local derivative* d out / d in, the number the engine
stored when the op ran, so the chain rule can be read straight off the picture::

    dL/d parent  +=  (d node / d parent)  x  dL/d node
                      ^ label on the edge      ^ grad in the node's box

What is drawn (``draw_graph``):

* each Value is a record box ``name | data | grad``; its op (``+``, ``x``, ``tanh``, ``dot`` ...)
  is its own small oval in front of it. Fill colours tell the kinds apart: parameters (orange),
  inputs (blue), constants (grey, no grad shown), computed nodes (white), the output (green);
  ``legend=True`` adds a key.
* node ids are ``n0, n1, ...`` by position in ``topological_order(root)``: the same graph gives the
  same DOT text on every run, and unlabelled nodes are called by those ids in the text walkthrough.
* ``collapse="neuron"`` draws each neuron (a ``dot`` with Parameter weights, plus its activation)
  as one box, so a whole MLP fits on a page.
* ``step=k`` draws the graph as it stands after k steps of the backward pass (``drawn_steps``;
  with ``collapse="neuron"`` a neuron's box is one step: its activation and its dot).

Stepping (``backprop_steps``, ``explain_backward``, ``step_through``, ``export_frames``,
``export_html``): the backward pass replayed one node at a time, in the order ``Value.backward``
processes them, with each chain-rule product written out. PyTorch shows none of this: it keeps no
interior gradients at all. ``export_html`` writes the steps as one self-contained page (a slider,
no kernel, no network; built by ``tinygrad_edu.page``), and the output ``step_through`` saves in a
notebook carries that page too.

Rendering (``render``, ``render_bytes``) runs the system Graphviz ``dot`` program; when it is
missing, a ``GraphvizNotFoundError`` says how to install it, and ``graph.source`` (the DOT text) is
still available.
"""

from __future__ import annotations

import base64
import functools
import math
import re
import shutil
import subprocess
import sysconfig
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz

from tinygrad_edu.engine import Parameter, Value, topological_order

__all__ = [
    "DEFAULT_MAX_NODES",
    "ACTIVATIONS",
    "BackpropStep",
    "Drawing",
    "DrawnStep",
    "EdgeProduct",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "backprop_frames",
    "backprop_steps",
    "draw_graph",
    "drawn_steps",
    "explain_backward",
    "export_frames",
    "export_gif",
    "export_html",
    "format_matrix",
    "format_number",
    "gradients_after",
    "node_kind",
    "print_backprop",
    "render",
    "render_bytes",
    "step_caption",
    "step_frames",
    "step_through",
]

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


# -- the backward pass, one step at a time ---------------------------------------------------------


@dataclass(frozen=True)
class EdgeProduct:
    """One chain-rule product of a backward step: ``dL/d parent += local x upstream``.

    Attributes:
        parent: the parent Value that receives the contribution.
        local: d node / d parent (stored by the op).
        upstream: dL / d node, the gradient of the node being processed.
        contribution: ``local * upstream``.
        running_total: dL / d parent so far in this backward pass (after adding the contribution).
        parent_name: how the parent is called in text (its label or its drawing id ``n<k>``).
        output_name: the name of the output L (the root's label, or ``'L'``).
    """

    parent: Value
    local: float
    upstream: float
    contribution: float
    running_total: float
    parent_name: str = "?"
    output_name: str = "L"

    def __str__(self) -> str:
        f = format_number
        return (
            f"d{self.output_name}/d{self.parent_name} += {f(self.local)} x {f(self.upstream)}"
            f" = {f(self.contribution)} (total {f(self.running_total)})"
        )


@dataclass(frozen=True)
class BackpropStep:
    """One node processed by the backward pass, with the products it sends to its parents.

    Attributes:
        index: 0 for the first step (the root, if it has parents).
        node: the Value processed.
        name: its name in text (label or drawing id).
        formula: how it was computed from its parents, e.g. ``'n3 = a * b'``.
        upstream: dL / d node, complete when the node is processed (all its consumers are done).
        products: one ``EdgeProduct`` per parent edge, in the order of ``node.parents``.
        output_name: the name of L.
    """

    index: int
    node: Value
    name: str
    formula: str
    upstream: float
    products: list[EdgeProduct] = field(default_factory=list)
    output_name: str = "L"

    def __str__(self) -> str:
        lines = [
            f"step {self.index + 1}: {self.formula}    "
            f"(upstream d{self.output_name}/d{self.name} = {format_number(self.upstream)})"
        ]
        # Constants get gradients too (backward() does not skip them) but nobody needs them.
        lines += [f"  {p}" for p in self.products if node_kind(p.parent) != "constant"]
        return "\n".join(lines)


def _names(order: Sequence[Value]) -> dict[Value, str]:
    """Text names: the label, or the value for an unlabelled constant, or the drawing id n<k>.

    An unlabelled root (``order[-1]``) is called ``L``, as in every ``dL/d...`` of the text and in
    the legend's "output L", unless another node already carries that label.
    """
    names = {}
    for i, v in enumerate(order):
        if v.label:
            names[v] = v.label
        elif node_kind(v) == "constant":
            names[v] = format_number(v.data)
        else:
            names[v] = f"n{i}"
    if order and not order[-1].label and all(v.label != "L" for v in order):
        names[order[-1]] = "L"
    return names


def _formula(node: Value, names: dict[Value, str]) -> str:
    """``name = expression in the parents' names``, e.g. ``n4 = tanh(n3)`` or ``z = w0*x0 + b``."""
    args = [names[p] for p in node.parents]
    op = node.op
    if op in ("+", "-", "*", "/"):
        expr = f"{args[0]} {op} {args[1]}"
    elif op == "pow":
        expr = f"{args[0]} ** {args[1]}"
    elif op == "**":
        expr = f"{args[0]} ** {format_number(node.arg or 0.0)}"
    elif op == "c**x":
        expr = f"{format_number(node.arg or 0.0)} ** {args[0]}"
    elif op == "neg":
        expr = f"-{args[0]}"
    elif op == "dot":
        n = len(args) // 2
        terms = [f"{w}*{x}" for w, x in zip(args[:n], args[n : 2 * n])]
        terms += args[2 * n :]  # the bias, if any
        expr = " + ".join(terms)
    else:  # sum and the unary functions
        expr = f"{op}({', '.join(args)})"
    return f"{names[node]} = {expr}"


def backprop_steps(root: Value, grad: float = 1.0) -> list[BackpropStep]:
    """The backward pass of ``root`` as a list of steps, without touching any ``.grad``.

    It replays ``root.backward(grad)`` exactly: the same order
    (``reversed(topological_order(root))``; one step per node that has parents, since a leaf's
    step would do nothing) and the same floating-point operations,
    ``total[parent] += local * upstream``. It simulates a *fresh* pass: every gradient starts at 0
    and the root's at ``grad``. So the running totals of the last products equal the ``.grad``
    values after zeroing the leaves (``model.zero_grad()``) and calling ``root.backward(grad)``,
    bit for bit; ``.grad`` values left by earlier calls are ignored.
    """
    return _backprop_steps(root, grad)


def _backprop_steps(
    root: Value, grad: float = 1.0, names: dict[Value, str] | None = None
) -> list[BackpropStep]:
    """``backprop_steps``, the nodes called by ``names`` in the text (default: ``_names``)."""
    seed = float(grad)
    order = topological_order(root)
    names = names if names is not None else _names(order)
    out_name = root.label or "L"
    totals: dict[Value, float] = dict.fromkeys(order, 0.0)
    totals[root] += seed
    steps: list[BackpropStep] = []
    for node in reversed(order):
        if not node.parents:
            continue
        upstream = totals[node]
        products = []
        for parent, local in zip(node.parents, node.local_grads):
            contribution = local * upstream
            totals[parent] += contribution  # the same operation as Value.backward
            products.append(
                EdgeProduct(
                    parent, local, upstream, contribution, totals[parent], names[parent], out_name
                )
            )
        steps.append(
            BackpropStep(
                len(steps), node, names[node], _formula(node, names), upstream, products, out_name
            )
        )
    return steps


def _totals_after(
    root: Value, steps: Sequence[BackpropStep], k: int, grad: float
) -> tuple[dict[Value, float], dict[Value, int]]:
    """Gradients reached after the first k steps, and how many contributions each node got."""
    totals: dict[Value, float] = {root: float(grad)}
    received: dict[Value, int] = {}
    for step in steps[:k]:
        for p in step.products:
            totals[p.parent] = p.running_total
            received[p.parent] = received.get(p.parent, 0) + 1
    return totals, received


def gradients_after(root: Value, k: int | None = None, grad: float = 1.0) -> dict[Value, float]:
    """dL/d node for every node reached after ``k`` backward steps (all steps when k is None).

    Nodes not reached yet are absent. With all steps, this is the result of a fresh
    ``root.backward(grad)``, computed without touching ``.grad``.
    """
    steps = backprop_steps(root, grad)
    k = len(steps) if k is None else _check_step(k, len(steps))
    return _totals_after(root, steps, k, grad)[0]


def _check_step(k: int, n_steps: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k <= n_steps:
        raise ValueError(
            f"step: must be an integer from 0 to {n_steps} (the backward steps), got {k!r}"
        )
    return k


def explain_backward(root: Value, grad: float = 1.0) -> str:
    """A text walkthrough of the backward pass: every step's chain-rule products, then the results.

    Example for ``L = a * b`` with a = 2, b = -3::

        Backward pass of L, seeded with dL/dL = 1: 1 step, in reverse topological order.
        step 1: L = a * b    (upstream dL/dL = 1)
          dL/da += -3 x 1 = -3 (total -3)
          dL/db += 2 x 1 = 2 (total 2)
        Gradients of the leaves: dL/da = -3, dL/db = 2
    """
    steps = backprop_steps(root, grad)
    order = topological_order(root)
    names = _names(order)
    out = names[root] if root.label else "L"
    plural = "step" if len(steps) == 1 else "steps"
    lines = [
        f"Backward pass of {out}, seeded with d{out}/d{out} = {format_number(grad)}: "
        f"{len(steps)} {plural}, in reverse topological order."
    ]
    lines += [str(s) for s in steps]
    totals = _totals_after(root, steps, len(steps), grad)[0]
    leaves = [v for v in order if not v.parents and node_kind(v) != "constant"]
    results = ", ".join(f"d{out}/d{names[v]} = {format_number(totals.get(v, 0.0))}" for v in leaves)
    lines.append(f"Gradients of the leaves: {results}")
    return "\n".join(lines)


def print_backprop(root: Value, grad: float = 1.0) -> None:
    """Print ``explain_backward(root, grad)``."""
    print(explain_backward(root, grad))


# -- drawing ---------------------------------------------------------------------------------------


@dataclass
class _Neuron:
    """A collapsed neuron: its dot node, optional activation, and the parameters it hides."""

    dot: Value
    activation: Value | None
    name: str
    n_weights: int
    has_bias: bool

    @property
    def output(self) -> Value:
        return self.activation if self.activation is not None else self.dot


_NEURON_PREFIX = re.compile(r"^(.*)\.(?:w\d+|b)$")


def _find_neurons(
    order: Sequence[Value], root: Value, pos: dict[Value, int]
) -> tuple[dict[Value, _Neuron], set[Value]]:
    """Neurons to collapse (keyed by their output Value) and the Values they hide.

    A neuron is a ``dot`` node with at least one Parameter parent. Its activation joins it when the
    dot's only consumer is one activation op (relu/tanh/sigmoid/leaky_relu) whose only parent is the
    dot. Its name comes from the weights' labels ``L0.N3.w0`` -> ``L0.N3`` (else its id ``n<k>``).
    A Parameter parent is hidden when this dot is its only consumer (a weight that is also used
    elsewhere, say in a weight-decay term, stays visible and gets an edge into the neuron).
    """
    consumers: dict[Value, list[Value]] = {v: [] for v in order}
    for v in order:
        for p in v.parents:
            if not consumers[p] or consumers[p][-1] is not v:
                consumers[p].append(v)
    neurons: dict[Value, _Neuron] = {}
    hidden: set[Value] = set()
    for v in order:
        if v.op != "dot" or not any(isinstance(p, Parameter) for p in v.parents):
            continue
        activation = None
        users = consumers[v]
        if v is not root and len(users) == 1:
            (user,) = users
            if user.op in ACTIVATIONS and len(user.parents) == 1:
                activation = user
                hidden.add(v)
        n = len(v.parents) // 2
        n_weights, has_bias = 0, False
        name = None
        for i, p in enumerate(v.parents):
            if isinstance(p, Parameter) and p.label and name is None:
                match = _NEURON_PREFIX.match(p.label)
                name = match.group(1) if match else None
            if isinstance(p, Parameter) and not p.parents and consumers[p] == [v]:
                hidden.add(p)
                if i >= 2 * n:
                    has_bias = True
                else:
                    n_weights += 1
        out = activation if activation is not None else v
        # unnamed: call it by its drawing id, like any unlabelled node
        neuron = _Neuron(v, activation, name or f"n{pos[out]}", n_weights, has_bias)
        neurons[neuron.output] = neuron
    return neurons, hidden


def _op_label(v: Value) -> str:
    op = v.op
    if op == "**":
        return f"x^{format_number(v.arg or 0.0)}"
    if op == "c**x":
        return f"{format_number(v.arg or 0.0)}^x"
    if op == "leaky_relu" and v.arg is not None and v.arg != 0.01:
        return f"leaky_relu({format_number(v.arg)})"
    return _OP_SYMBOLS.get(op, op)


@dataclass
class _Layout:
    """What a drawing of ``root`` shows: the nodes in topological order, their ids and names,
    the collapsed neurons (keyed by their output) and the Values they hide."""

    root: Value
    order: list[Value]
    pos: dict[Value, int]
    names: dict[Value, str]
    neurons: dict[Value, _Neuron]
    hidden: set[Value]

    def text_names(self) -> dict[Value, str]:
        """Names for the step text: a collapsed neuron's output is called by the neuron's name
        (as its box is), its hidden dot ``<neuron>.z``, unless they carry labels."""
        names = dict(self.names)
        for neuron in self.neurons.values():
            if not neuron.output.label:
                names[neuron.output] = neuron.name
            if neuron.activation is not None and not neuron.dot.label:
                names[neuron.dot] = f"{neuron.name}.z"
        return names

    @property
    def visible(self) -> list[Value]:
        return [v for v in self.order if v not in self.hidden]

    def owner(self, node: Value) -> Value:
        """The drawn node that stands for ``node``: its neuron's box if it is a hidden dot."""
        for neuron in self.neurons.values():
            if node is neuron.dot:
                return neuron.output
        return node


def _layout(root: Value, collapse: str | None) -> _Layout:
    order = topological_order(root)
    pos = {v: i for i, v in enumerate(order)}
    neurons: dict[Value, _Neuron] = {}
    hidden: set[Value] = set()
    if collapse == "neuron":
        neurons, hidden = _find_neurons(order, root, pos)
    return _Layout(root, order, pos, _names(order), neurons, hidden)


@dataclass(frozen=True)
class DrawnStep:
    """One step of the backward pass *as drawn*: the drawn node processed and the steps it covers.

    Without ``collapse`` it is one ``BackpropStep``. With ``collapse="neuron"`` a neuron's box
    stands for two steps of ``backprop_steps`` (its activation, then its ``dot``), so its drawn
    step covers both; the box becomes the current node when the ``dot`` step sends the gradient
    on to the neuron's inputs.

    Attributes:
        index: 1 for the first drawn step (``draw_graph(root, step=index)`` draws it).
        node: the drawn node processed (a neuron's output Value for a collapsed neuron).
        name: its name in the drawing.
        steps: the ``BackpropStep`` s it covers, in the order of the backward pass.
        done: how many steps of ``backprop_steps`` are done after this drawn step; the gradients
            drawn are ``gradients_after(root, done)``.
    """

    index: int
    node: Value
    name: str
    steps: tuple[BackpropStep, ...]
    done: int

    def __str__(self) -> str:
        return "\n".join(str(s) for s in self.steps)


def drawn_steps(root: Value, grad: float = 1.0, collapse: str | None = None) -> list[DrawnStep]:
    """The steps of ``draw_graph(root, step=k, collapse=collapse)`` for k = 1 .. n.

    Each drawn step ends after the last backward step of its drawn node (a collapsed neuron's
    activation step is followed by its ``dot`` step; the activation step changes nothing drawn
    except through the hidden ``dot``), so drawn step k shows ``gradients_after(root, done)``.
    """
    if collapse not in (None, "neuron"):
        raise ValueError(f"drawn_steps: collapse must be None or 'neuron', got {collapse!r}")
    layout = _layout(root, collapse)
    return _drawn_steps(layout, _backprop_steps(root, grad, layout.text_names()))


def _drawn_steps(layout: _Layout, steps: Sequence[BackpropStep]) -> list[DrawnStep]:
    activations = {n.activation for n in layout.neurons.values() if n.activation is not None}
    drawn: list[DrawnStep] = []
    mine: dict[Value, list[BackpropStep]] = {}  # steps of each drawn node, so far
    for done, step in enumerate(steps, start=1):
        node = layout.owner(step.node)
        mine.setdefault(node, []).append(step)
        if step.node in activations:
            continue  # the neuron's dot step comes next and ends its drawn step
        name = layout.neurons[node].name if node in layout.neurons else layout.names[node]
        drawn.append(DrawnStep(len(drawn) + 1, node, name, tuple(mine.pop(node)), done))
    return drawn


@dataclass
class _StepState:
    """Where the backward pass stands in a step drawing."""

    index: int
    n_steps: int
    totals: dict[Value, float]  # dL/d node reached so far
    received: dict[Value, int]  # contributions received so far
    expected: dict[Value, int]  # contributions each node gets in the whole pass
    step_of: dict[Value, BackpropStep]  # the nodes processed so far, and their steps
    current: Value | None  # the drawn node of the last step done


def _step_state(layout: _Layout, step: int, grad: float) -> _StepState:
    steps = backprop_steps(layout.root, grad)
    drawn = _drawn_steps(layout, steps)
    _check_step(step, len(drawn))
    done = drawn[step - 1].done if step > 0 else 0
    totals, received = _totals_after(layout.root, steps, done, grad)
    expected: dict[Value, int] = {}
    for v in layout.order:
        for p in v.parents:
            expected[p] = expected.get(p, 0) + 1
    return _StepState(
        index=step,
        n_steps=len(drawn),
        totals=totals,
        received=received,
        expected=expected,
        step_of={s.node: s for s in steps[:done]},
        current=drawn[step - 1].node if step > 0 else None,
    )


def _check_draw_arguments(root: Value, rankdir: str, collapse: str | None) -> None:
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"draw_graph: rankdir must be 'LR' or 'TB', got {rankdir!r}")
    if collapse not in (None, "neuron"):
        raise ValueError(f"draw_graph: collapse must be None or 'neuron', got {collapse!r}")
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph: root must be a Value, got {type(root).__name__}")


def _check_size(layout: _Layout, collapse: str | None, max_nodes: int) -> None:
    """Refuse more than ``max_nodes`` boxes and op ovals, saying which call draws the graph."""
    neurons = layout.neurons
    n_drawn = sum(1 + (1 if v.parents and v not in neurons else 0) for v in layout.visible)
    if n_drawn <= max_nodes:
        return
    hint = ""
    if collapse is None:
        collapsed = _layout(layout.root, "neuron")
        n_collapsed = sum(
            1 + (1 if v.parents and v not in collapsed.neurons else 0) for v in collapsed.visible
        )
        if collapsed.neurons:
            extra = "" if n_collapsed <= max_nodes else f", max_nodes={n_collapsed}"
            hint = (
                f'pass collapse="neuron"{extra} to draw each neuron (dot + activation) as one '
                f"node ({n_collapsed} nodes), or "
            )
    raise GraphTooLargeError(
        f"draw_graph: the graph has {n_drawn} nodes to draw (values and op nodes), more than "
        f"max_nodes={max_nodes}; {hint}raise the limit with max_nodes={n_drawn} (the drawing "
        f"gets slow to lay out and hard to read)"
    )


def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    show_local_grads: bool | None = None,
    collapse: str | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    step: int | None = None,
    grad: float = 1.0,
    legend: bool = False,
    title: str | None = None,
    digits: int = 4,
) -> graphviz.Digraph:
    """Draw the computation graph of ``root`` with data, gradients and local derivatives.

    Args:
        root: the output Value (usually the loss).
        rankdir: ``"LR"`` (left to right, inputs on the left) or ``"TB"`` (top to bottom).
        show_local_grads: label each edge parent -> op with d out / d parent. The default
            (None) labels every edge of an uncollapsed graph and none of a collapsed one: a dense
            layer has n_in x n_out edges, and hundreds of numbers make the overview unreadable
            (pass True to label them anyway, with d neuron / d input = act'(z) w).
        collapse: ``None``, or ``"neuron"`` to draw each ``dot`` with Parameter weights, plus its
            activation, as one box (the weights and bias it alone uses are hidden and counted).
        max_nodes: refuse (``GraphTooLargeError``) to draw more boxes and op ovals than this.
        step: draw the graph as it stands after this many steps of the backward pass
            (``drawn_steps(root, grad, collapse)``; without ``collapse`` these are the steps of
            ``backprop_steps``): gradients reached so far (``(so far)`` while contributions are
            still missing, blank when none arrived yet), the node of step ``step`` highlighted in
            red with ``local x upstream = contribution`` on its edges, edges already processed
            dark, edges still to come grey. ``step=0`` shows only the seed on the root. With
            ``collapse="neuron"`` a neuron's box is one step (its activation and its dot).
        grad: the seed dL/dL used with ``step``.
        legend: add a key to the kinds of boxes and the edge labels.
        title: a caption under the drawing.
        digits: significant digits of the numbers.

    Returns:
        a ``graphviz.Digraph``: ``.source`` is the DOT text (the same on every run for the same
        graph); display it in a notebook, or ``render(graph, "g.svg")``.

    Outside ``step`` mode the gradients shown are the ``.grad`` attributes as they are (call
    ``backward()`` first); constants' gradients are never shown.
    """
    _check_draw_arguments(root, rankdir, collapse)
    layout = _layout(root, collapse)
    _check_size(layout, collapse, max_nodes)
    state = _step_state(layout, step, grad) if step is not None else None
    fmt = lambda x: format_number(x, digits)  # noqa: E731

    g = _new_drawing(rankdir, title)
    g.summary = f"{len(layout.visible)} values" + (
        f", step {state.index} of {state.n_steps}" if state is not None else ""
    )
    _draw_nodes(g, layout, state, fmt)
    _draw_edges(g, layout, state, fmt, show_local_grads)
    if legend:
        _add_legend(g, _record, bool(layout.neurons), state is not None, layout.names[root])
    return g


def _new_drawing(rankdir: str, title: str | None) -> Drawing:
    g = Drawing(name="computation_graph")
    g.attr(
        rankdir=rankdir,
        ordering="out",
        fontname=FONT,
        fontsize="12",
        nodesep="0.25",
        ranksep="0.45",
        bgcolor="white",
        pad="0.2",
    )
    g.attr("node", fontname=FONT, fontsize="11", style="filled", penwidth="1.2")
    g.attr("edge", fontname=FONT, fontsize="10", arrowsize="0.6", color=DONE_EDGE_COLOR)
    if title:
        g.attr(label=title, labelloc="b", fontsize="13")
    return g


def _record(fields: list[str]) -> str:
    # Braces flip a record's fields across the rank direction: a strip left to right in LR
    # (micrograd's look), a compact card top to bottom in TB (wide layers stay narrow).
    return graphviz.nohtml("{ " + " | ".join(_escape(f) for f in fields) + " }")


def _grad_field(v: Value, layout: _Layout, state: _StepState | None, fmt: Any) -> str:
    if state is None:
        return f"grad {fmt(v.grad)}"
    if v not in state.totals:
        return "grad "  # not reached yet: blank
    partial = v is not layout.root and state.received.get(v, 0) < state.expected.get(v, 0)
    return f"grad {fmt(state.totals[v])}" + (" (so far)" if partial else "")


def _draw_nodes(g: Drawing, layout: _Layout, state: _StepState | None, fmt: Any) -> None:
    """One record box per drawn Value (``n<k>``), in topological order, and its op oval."""
    root, neurons = layout.root, layout.neurons
    current = state.current if state is not None else None
    for v in layout.visible:
        vid = f"n{layout.pos[v]}"
        kind = "output" if v is root else node_kind(v)
        attrs: dict[str, str] = {"shape": "record", "fillcolor": FILL[kind], "color": "#343a40"}
        grad_text = _grad_field(v, layout, state, fmt)
        if v in neurons:
            neuron = neurons[v]
            counts = f"{neuron.n_weights} w" + (" + b" if neuron.has_bias else "")
            act = neuron.activation.op if neuron.activation is not None else "linear"
            fields = [f"{neuron.name} {act}", counts, f"data {fmt(v.data)}", grad_text]
            if v is not root:
                attrs["fillcolor"] = FILL["neuron"]
        elif kind == "constant":
            fields = ([v.label] if v.label else []) + [f"data {fmt(v.data)}"]
        else:
            fields = [layout.names[v], f"data {fmt(v.data)}", grad_text]
        if v is root:
            attrs["penwidth"] = "2"
        if v is current:
            attrs.update(fillcolor=CURRENT_FILL, color=CURRENT_COLOR, penwidth="2.5")
        g.node(vid, label=_record(fields), **attrs)
        if v.parents and v not in neurons:
            op_attrs = {
                "shape": "ellipse",
                "fillcolor": FILL["op"],
                "color": "#868e96",
                "fontsize": "11",
                "width": "0.3",
                "height": "0.3",
                "margin": "0.04,0.02",
            }
            if v is current:
                op_attrs.update(color=CURRENT_COLOR, penwidth="2.5")
            g.node(f"{vid}_op", label=_op_label(v), **op_attrs)
            g.edge(f"{vid}_op", vid)


# (parent, local derivative d drawn node / d parent, the edge's product in the steps done, the
# upstream gradient to print beside it)
_Edge = tuple[Value, float, EdgeProduct | None, float]


def _node_edges(v: Value, layout: _Layout, state: _StepState | None) -> list[_Edge]:
    """The edges drawn into ``v``: into its op oval, or straight into a collapsed neuron's box."""
    step_of = state.step_of if state is not None else {}
    if v not in layout.neurons:
        if v in step_of:
            return [(p.parent, p.local, p, p.upstream) for p in step_of[v].products]
        return [(p, local, None, 0.0) for p, local in zip(v.parents, v.local_grads)]
    neuron = layout.neurons[v]
    act_local = neuron.activation.local_grads[0] if neuron.activation is not None else 1.0
    # d out/d p = act'(z) * d z/d p through the hidden dot node z; the product added into p is
    # (d z/d p) x dL/dz, printed as (d out/d p) x dL/d out
    products: Sequence[EdgeProduct | None] = [None] * len(neuron.dot.parents)
    if neuron.dot in step_of:
        products = step_of[neuron.dot].products
    upstream = state.totals.get(v, 0.0) if state is not None else 0.0
    return [
        (p, local * act_local, product, upstream)
        for p, local, product in zip(neuron.dot.parents, neuron.dot.local_grads, products)
        if p not in layout.hidden
    ]


def _draw_edges(
    g: Drawing,
    layout: _Layout,
    state: _StepState | None,
    fmt: Any,
    show_local_grads: bool | None,
) -> None:
    """Edges parent -> op oval (or -> neuron box), labelled with the local derivative.

    An edge label in dot becomes a virtual node on an extra rank, and with one labelled edge all
    ranks double: the hundreds of unlabelled layer-to-layer edges of a collapsed MLP then each
    get a virtual node and the drawing grows ten times taller. So a collapsed graph uses xlabel,
    placed after the layout.
    """
    neurons, pos = layout.neurons, layout.pos
    label_key = "xlabel" if neurons else "label"
    for v in layout.visible:
        if not v.parents:
            continue
        if v in neurons:
            target = f"n{pos[v]}"
            labelled = bool(show_local_grads)
            style = {"color": "#868e96", "penwidth": "0.7", "arrowsize": "0.45"}
        else:
            target = f"n{pos[v]}_op"
            labelled = bool(show_local_grads) if neurons else show_local_grads is not False
            style = {}
        for p, local, product, upstream in _node_edges(v, layout, state):
            attrs = dict(style)
            if state is None:
                if labelled:
                    attrs[label_key] = fmt(local)
            elif product is not None:
                if labelled:
                    attrs[label_key] = (
                        f"{fmt(local)} \u00d7 {fmt(upstream)} = {fmt(product.contribution)}"
                    )
                if v is state.current:
                    attrs.update(color=CURRENT_COLOR, fontcolor=CURRENT_COLOR, penwidth="2")
                else:
                    attrs.update(fontcolor=DONE_EDGE_COLOR)
            else:
                if labelled:  # not reached yet: the local derivative is known, the upstream not
                    attrs[label_key] = f"{fmt(local)} \u00d7 ?"
                attrs.update(color=PENDING_COLOR, fontcolor=PENDING_COLOR, style="dashed")
            g.edge(f"n{pos[p]}", target, **attrs)


class Drawing(graphviz.Digraph):
    """What ``draw_graph`` returns: a ``graphviz.Digraph`` with a readable text form.

    A notebook shows it as SVG; its plain-text form (``repr``, and the fallback a notebook saves
    beside the SVG) says what it draws instead of printing a memory address that changes every
    run, so saved notebooks stay the same from run to run.
    """

    summary = ""

    def __repr__(self) -> str:
        about = f": {self.summary}" if self.summary else ""
        return f"<computation graph drawing{about}; render(graph, 'g.svg') writes it>"

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, str]:
        """What a notebook shows: the SVG with a PNG beside it, or why it could not be drawn.

        The PNG is what an untrusted notebook (every downloaded one), a repository page and
        nbviewer display, since they do not show SVG from an untrusted source. When rendering
        fails for any reason, the cell shows the package's message and the DOT text instead of
        a traceback, so *Run All* goes on.
        """
        try:
            svg = render_bytes(self, "svg").decode("utf-8")
            png = render_bytes(self, "png")
        except (GraphvizNotFoundError, RuntimeError, OSError) as error:
            return {"text/plain": f"{error}\n\n{self.source}"}
        return {
            "image/svg+xml": svg,
            "image/png": base64.b64encode(png).decode("ascii"),
            "text/plain": repr(self),
        }


def _add_legend(
    g: graphviz.Digraph, record: Any, with_neuron: bool, with_step: bool, output_name: str = "L"
) -> None:
    """A key to the box colours and edge labels, drawn as a separate cluster.

    The output entry names the root as the drawing does (``output o`` for a root labelled o).
    """
    with g.subgraph(name="cluster_legend") as key:
        key.attr(label="legend", labelloc="t", fontsize="11", style="rounded", color="#adb5bd")
        entries = [
            ("parameter", "parameter (learned)"),
            ("input", "input"),
            ("constant", "constant (no grad)"),
            ("interior", "computed value"),
            ("output", f"output {output_name}"),
        ]
        if with_neuron:
            entries.append(("neuron", "neuron: dot + activation"))
        previous = None
        for kind, text in entries:
            nid = f"legend_{kind}"
            key.node(nid, label=record([text]), shape="record", fillcolor=FILL[kind])
            if previous is not None:
                key.edge(previous, nid, style="invis")
            previous = nid
        key.node("legend_op", label="op", shape="ellipse", fillcolor=FILL["op"], color="#868e96")
        key.edge(previous, "legend_op", style="invis")
        edge_text = (
            "edge: local \u00d7 upstream = contribution" if with_step else "edge: d out / d in"
        )
        key.node("legend_edge", label=edge_text, shape="plaintext", style="")
        key.edge("legend_op", "legend_edge", style="invis")
        if with_step:
            key.node(
                "legend_current",
                label=record(["current step"]),
                shape="record",
                fillcolor=CURRENT_FILL,
                color=CURRENT_COLOR,
                penwidth="2.5",
            )
            key.edge("legend_edge", "legend_current", style="invis")


# -- rendering -------------------------------------------------------------------------------------


def _renderer() -> list[str] | None:
    """The Graphviz program to run: the bundled ``graphviz-pure``, else the system ``dot``.

    ``graphviz-pure`` (a dependency, a Rust port of Graphviz) is looked up beside the running
    Python first, since a notebook kernel's ``PATH`` often lacks its virtualenv's ``bin``.
    """
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / "graphviz-pure", scripts / "graphviz-pure.exe"):
        if candidate.is_file():
            return [str(candidate)]
    for name in ("graphviz-pure", "dot"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def render_bytes(graph: graphviz.Digraph, format: str = "svg", dpi: int | None = None) -> bytes:
    """Lay out ``graph`` with Graphviz and return the drawing (``"svg"``, ``"png"``).

    ``dpi`` sets the resolution of bitmap formats (Graphviz draws PNGs at 96 dpi; 150-200 suits
    slides). Raises ``GraphvizNotFoundError`` (with install instructions) when no Graphviz program
    is found.
    """
    program = _renderer()
    if program is None:
        raise GraphvizNotFoundError(_INSTALL_HELP.format(fmt=format))
    if dpi is not None:
        graph = graph.copy()
        graph.attr(dpi=str(dpi))
    result = subprocess.run(
        [*program, f"-T{format}"], input=graph.source.encode("utf-8"), capture_output=True
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"render: Graphviz could not write {format!r}: {message}")
    return result.stdout


def render(
    graph: graphviz.Digraph, path: str | Path, format: str | None = None, dpi: int | None = None
) -> Path:
    """Write the drawing of ``graph`` to ``path`` (format from the suffix unless given); return it.

    Only the image is written (no DOT file beside it). ``format`` is ``"svg"`` or ``"png"`` (any
    Graphviz output format works); ``dpi`` as in ``render_bytes``.
    """
    path = Path(path)
    fmt = format or path.suffix.lstrip(".").lower()
    if not fmt:
        raise ValueError(f"render: cannot tell the format of {str(path)!r}; pass format='svg'")
    data = render_bytes(graph, fmt, dpi)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# -- stepping in a notebook, frames, GIF -----------------------------------------------------------


def backprop_frames(root: Value, grad: float = 1.0, **draw_kwargs: Any) -> list[graphviz.Digraph]:
    """One drawing per state of the backward pass: ``draw_graph(root, step=k)`` for k = 0 .. n.

    n is ``len(drawn_steps(root, grad, collapse))``: with ``collapse="neuron"`` a neuron's box
    is one step.
    """
    n = len(drawn_steps(root, grad, draw_kwargs.get("collapse")))
    return [draw_graph(root, step=k, grad=grad, **draw_kwargs) for k in range(n + 1)]


def step_caption(root: Value, k: int, grad: float = 1.0, collapse: str | None = None) -> str:
    """The text of drawn step ``k`` (as shown above the drawing by ``step_through``).

    Step 0 names the seed; step k lists the chain-rule products of ``drawn_steps(...)[k - 1]``
    (for a collapsed neuron, its activation's step and its dot's step, said so on a first line).
    """
    drawn = drawn_steps(root, grad, collapse)
    _check_step(k, len(drawn))
    if k == 0:
        out = root.label or "L"
        return f"step 0: nothing done yet; the seed d{out}/d{out} = {format_number(grad)}"
    step = drawn[k - 1]
    if collapse is None:
        return str(step)
    first, last = step.done - len(step.steps) + 1, step.done
    covers = f"backward step {last}" if first == last else f"backward steps {first}-{last}"
    n_all = len(backprop_steps(root, grad))
    return f"drawn step {k} of {len(drawn)}: {step.name} ({covers} of {n_all})\n{step}"


def _svg_text(graph: graphviz.Digraph) -> str:
    """The drawing as an inline ``<svg>`` element, or, when it cannot be rendered, the reason
    and the DOT text in a ``<pre>``."""
    try:
        svg = render_bytes(graph, "svg").decode("utf-8")
    except (GraphvizNotFoundError, RuntimeError) as error:
        return f"<pre>{_html_escape(str(error))}\n\n{_html_escape(graph.source)}</pre>"
    return svg[svg.find("<svg") :]  # inline in HTML: drop the XML prolog


def step_frames(root: Value, grad: float = 1.0, **draw_kwargs: Any) -> list[Any]:
    """The frames of the step page (``tinygrad_edu.page.Frame``), one per drawn step 0 .. n.

    Each holds the SVG of ``draw_graph(root, step=k, ...)``, ``step_caption(root, k, ...)``, the
    id of the node processed (scrolled into view) and, under ``data["grads"]``, the gradients
    drawn: ``{"n<i>": dL/d node}`` for every drawn non-constant node reached, the numbers of
    ``gradients_after(root, done)``.
    """
    from tinygrad_edu.page import Frame

    collapse = draw_kwargs.get("collapse")
    layout = _layout(root, collapse)
    steps = _backprop_steps(root, grad, layout.text_names())
    drawn = _drawn_steps(layout, steps)
    frames = []
    for k in range(len(drawn) + 1):
        done = drawn[k - 1].done if k > 0 else 0
        totals = _totals_after(root, steps, done, grad)[0]
        grads = {
            f"n{layout.pos[v]}": totals[v]
            for v in layout.visible
            if v in totals and node_kind(v) != "constant"
        }
        frames.append(
            Frame(
                svg=_svg_text(draw_graph(root, step=k, grad=grad, **draw_kwargs)),
                caption=step_caption(root, k, grad, collapse),
                node=f"n{layout.pos[drawn[k - 1].node]}" if k > 0 else None,
                data={"grads": grads, "done": done},
            )
        )
    return frames


def export_html(
    root: Value, path: str | Path, grad: float = 1.0, title: str | None = None, **draw_kwargs: Any
) -> Path:
    """Write the backward pass of ``root`` as one self-contained HTML page; return its path.

    The page holds every step's drawing (inline SVG, ``draw_graph(root, step=k, **draw_kwargs)``
    for k = 0 .. n) with the step's text above it, a slider, previous/next buttons and the keys
    (left/right arrows step, Home/End jump); the node processed is scrolled into view. Nothing is
    loaded from the network: open the file in any browser, offline, or send it. Works with
    ``collapse="neuron"`` (a neuron's box is one step). See ``tinygrad_edu.page``.
    """
    from tinygrad_edu.page import write_page

    if not isinstance(root, Value):
        raise TypeError(f"export_html: root must be a Value, got {type(root).__name__}")
    name = root.label or "L"
    heading = title or f"Backward pass of {name}, one step at a time"
    return write_page(step_frames(root, grad, **draw_kwargs), path, heading)


def _png_strip(frames: Sequence[graphviz.Digraph], captions: Sequence[str]) -> bytes | None:
    """The frames as one PNG, one below the other, each under its caption (for pages that show
    no HTML); None when Pillow is missing or the strip would be too big to be useful."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        return None
    import io

    # Every frame is laid out alike (only colours and labels change): from the first one's size,
    # tell whether the strip is too big before rendering and holding all of them.
    first = Image.open(io.BytesIO(render_bytes(frames[0], "png")))
    if first.width * first.height * len(frames) > _MAX_STRIP_PIXELS:
        return None
    images = [first.convert("RGB")]
    images += [Image.open(io.BytesIO(render_bytes(f, "png"))).convert("RGB") for f in frames[1:]]
    font = ImageFont.load_default()
    line = 14
    heights = [line * (len(c.splitlines()) + 1) + im.height + 20 for c, im in zip(captions, images)]
    width = max(im.width for im in images) + 20
    if sum(heights) > _MAX_STRIP_PIXELS // width:
        return None
    strip = Image.new("RGB", (width, sum(heights)), "white")
    draw = ImageDraw.Draw(strip)
    top = 0
    for caption, im, height in zip(captions, images, heights):
        draw.line([(0, top), (width, top)], fill="#adb5bd")
        for i, text in enumerate(caption.splitlines()):
            draw.text((10, top + 6 + i * line), text, fill="black", font=font)
        strip.paste(im, (10, top + line * (len(caption.splitlines()) + 1)))
        top += height
    out = io.BytesIO()
    strip.convert("P", palette=Image.Palette.ADAPTIVE).save(out, "PNG", optimize=True)
    return out.getvalue()


_MAX_STRIP_PIXELS = 40_000_000
"""A bigger strip of frames (about 6,000 x 6,000 pixels) is left out of the saved output."""


def step_through(root: Value, grad: float = 1.0, static: bool = True, **draw_kwargs: Any) -> Any:
    """Scrub through the backward pass in a notebook.

    With ipywidgets installed: returns a widget (a ``VBox``) with a slider over the drawn steps
    0 .. n (``drawn_steps``), the step's chain-rule text and, below it, the drawing after that
    many steps (SVG, in a box that scrolls when the drawing is wider than the output). Display it
    as the last expression of a cell. ``collapse="neuron"`` and the other ``draw_graph`` options
    pass through ``draw_kwargs``.

    With ``static`` (the default), the output a notebook saves also works with no kernel: beside
    the live widget it carries the step page of ``export_html`` (a slider that runs in the
    browser: nbconvert's HTML and nbviewer keep it) and a PNG strip of all the frames (for pages
    that show no HTML). A live notebook shows the widget. Building them renders every step once,
    and the slider then shows those drawings, so a move runs no Graphviz.

    Without ipywidgets: returns ``backprop_frames(...)``, the list of drawings (each shows itself
    as SVG when displayed in a notebook).
    """
    collapse = draw_kwargs.get("collapse")
    n_steps = len(drawn_steps(root, grad, collapse))
    draw_graph(root, step=n_steps, grad=grad, **draw_kwargs)  # bad options fail here, not later
    try:
        import ipywidgets as widgets
    except ImportError:
        return backprop_frames(root, grad, **draw_kwargs)

    slider = widgets.IntSlider(
        value=0, min=0, max=n_steps, step=1, description="step", continuous_update=False
    )
    slider.layout.width = "min(100%, 40em)"
    # The widget's own box is the scrolling one: as wide as the output (no margin, so its right
    # edge stays inside), and a wide or tall drawing scrolls inside it. Its value is the bare
    # SVG, as before the box was added: a <style> or wrapper sent with every step made the
    # browser restyle the whole page on every move.
    picture = widgets.HTML(
        layout=widgets.Layout(
            width="100%",
            max_height="80vh",
            overflow="auto",
            margin="0",
            border="1px solid #dee2e6",
        )
    )
    caption = widgets.HTML()

    # With ``static`` every step is rendered once anyway (for the saved page); a move then only
    # sends that SVG, with no Graphviz run in the kernel.
    frames = functools.cache(lambda: step_frames(root, grad, **draw_kwargs))

    def show(k: int) -> None:
        if static:
            picture.value = frames()[k].svg
        else:
            picture.value = _svg_text(draw_graph(root, step=k, grad=grad, **draw_kwargs))
        text = step_caption(root, k, grad, collapse)
        caption.value = f"<pre>{_html_escape(text)}</pre>"

    slider.observe(lambda change: show(change["new"]), names="value")
    show(0)
    box = _stepper_box(widgets)([slider, caption, picture])
    box.layout.width = "100%"
    if static:
        box.static_page = functools.cache(lambda: _static_output(root, grad, draw_kwargs, frames()))
    plural = "step" if n_steps == 1 else "steps"
    box.description = f"<backward pass stepper: {n_steps} {plural} of {root.label or 'L'}>"
    return box


def _stepper_box(widgets: Any) -> type:
    """A ``VBox`` whose saved output carries the no-kernel page and the PNG strip too."""

    class StepThrough(widgets.VBox):  # type: ignore[misc, name-defined]
        static_page: Any = None
        description = "<backward pass stepper>"

        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
            bundle = dict(super()._repr_mimebundle_(**kwargs))
            bundle["text/plain"] = self.description  # stable, unlike the widget's repr
            if self.static_page is not None:
                bundle.update(self.static_page())
            return bundle

    return StepThrough


def _static_output(
    root: Value, grad: float, draw_kwargs: dict[str, Any], frames: Sequence[Any]
) -> dict[str, str]:
    """The step page (``text/html``) and the PNG strip (``image/png``) of ``step_through``, from
    its ``step_frames``."""

    from tinygrad_edu.page import page_fragment

    out: dict[str, str] = {"text/html": page_fragment(frames)}
    try:
        strip = _png_strip(backprop_frames(root, grad, **draw_kwargs), [f.caption for f in frames])
    except (GraphvizNotFoundError, RuntimeError):
        strip = None
    if strip is not None:
        out["image/png"] = base64.b64encode(strip).decode("ascii")
    return out


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def export_frames(
    root: Value, directory: str | Path, format: str = "svg", grad: float = 1.0, **draw_kwargs: Any
) -> list[Path]:
    """Write ``frame_000.<format>``, ``frame_001`` ... (one per backward step, from step 0).

    Returns the paths. Needs the Graphviz ``dot`` program.
    """
    directory = Path(directory)
    frames = backprop_frames(root, grad, **draw_kwargs)
    return [
        render(frame, directory / f"frame_{k:03d}.{format}", format)
        for k, frame in enumerate(frames)
    ]


def export_gif(
    root: Value,
    path: str | Path,
    duration_ms: int = 1500,
    grad: float = 1.0,
    **draw_kwargs: Any,
) -> Path:
    """An animated GIF of the backward pass, one frame per step (needs Pillow and Graphviz).

    Frames differ a little in size (labels grow as products appear); each is centred on a white
    canvas of the largest size so the picture does not jump.
    """
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError("export_gif needs Pillow: pip install pillow") from error
    import io

    images = [
        Image.open(io.BytesIO(render_bytes(frame, "png"))).convert("RGB")
        for frame in backprop_frames(root, grad, **draw_kwargs)
    ]
    width = max(im.width for im in images)
    height = max(im.height for im in images)
    canvases = []
    for im in images:
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(im, ((width - im.width) // 2, (height - im.height) // 2))
        canvases.append(canvas.convert("P", palette=Image.Palette.ADAPTIVE))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvases[0].save(path, save_all=True, append_images=canvases[1:], duration=duration_ms, loop=0)
    return path
