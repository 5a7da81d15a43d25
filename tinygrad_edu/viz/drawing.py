"""``draw_graph``: the graph as a Graphviz drawing, whole, collapsed by neuron, or at step k."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import graphviz

from tinygrad_edu.engine import Parameter, Value, topological_order
from tinygrad_edu.viz._common import (
    _OP_SYMBOLS,
    ACTIVATIONS,
    CURRENT_COLOR,
    CURRENT_FILL,
    DEFAULT_MAX_NODES,
    DONE_EDGE_COLOR,
    FILL,
    FONT,
    PATH_COLOR,
    PENDING_COLOR,
    GraphTooLargeError,
    GraphvizNotFoundError,
    _escape,
    format_number,
    node_kind,
)
from tinygrad_edu.viz.rendering import (
    render_bytes,
)
from tinygrad_edu.viz.steps import (
    BackpropStep,
    EdgeProduct,
    _backprop_steps,
    _check_step,
    _names,
    _totals_after,
    backprop_steps,
)

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
    edge_labels: str = "value",
    paths_from: Value | None = None,
    highlight: Iterable[Any] | None = None,
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
        edge_labels: ``"value"`` labels an edge with its local derivative's number;
            ``"formula"`` with the formula read off the op's rule and its value,
            ``∂e/∂a = b = -3`` (``explain.local_formula``).
        paths_from: a node of the graph: the edges of every path from it up to ``root`` are drawn
            thick and blue (``explain.paths``; their products sum to its gradient).
        highlight: edges to mark in red, as ``gradcheck.check_local_derivatives`` reports them
            (objects with ``.node`` and ``.parent_index``) or ``(node, parent_index)`` pairs,
            labelled "wrong: ...".
            ``edge_labels="formula"``, ``paths_from`` and ``highlight`` need ``collapse=None``.

    Returns:
        a ``graphviz.Digraph``: ``.source`` is the DOT text (the same on every run for the same
        graph); display it in a notebook, or ``render(graph, "g.svg")``.

    Outside ``step`` mode the gradients shown are the ``.grad`` attributes as they are (call
    ``backward()`` first); constants' gradients are never shown.
    """
    _check_draw_arguments(root, rankdir, collapse)
    marks = _edge_marks(root, collapse, edge_labels, paths_from, highlight)
    layout = _layout(root, collapse)
    _check_size(layout, collapse, max_nodes)
    state = _step_state(layout, step, grad) if step is not None else None
    fmt = lambda x: format_number(x, digits)  # noqa: E731

    g = _new_drawing(rankdir, title)
    g.summary = f"{len(layout.visible)} values" + (
        f", step {state.index} of {state.n_steps}" if state is not None else ""
    )
    _draw_nodes(g, layout, state, fmt)
    _draw_edges(g, layout, state, fmt, show_local_grads, marks)
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
        return "grad ?" if v is state.current else "grad "  # asked (a quiz), or not reached yet
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


@dataclass
class _EdgeMarks:
    """What ``draw_graph``'s explaining options ask of the edges, keyed by (node, parent index)."""

    formula: bool = False
    on_path: set[tuple[Value, int]] = field(default_factory=set)
    wrong: set[tuple[Value, int]] = field(default_factory=set)


def _edge_marks(
    root: Value,
    collapse: str | None,
    edge_labels: str,
    paths_from: Value | None,
    highlight: Iterable[Any] | None,
) -> _EdgeMarks:
    if edge_labels not in ("value", "formula"):
        raise ValueError(
            f"draw_graph: edge_labels must be 'value' or 'formula', got {edge_labels!r}"
        )
    asked = [
        name
        for name, given in (
            ("edge_labels='formula'", edge_labels == "formula"),
            ("paths_from", paths_from is not None),
            ("highlight", highlight is not None),
        )
        if given
    ]
    if collapse is not None and asked:
        raise ValueError(f"draw_graph: {', '.join(asked)} needs collapse=None (every edge drawn)")
    marks = _EdgeMarks(formula=edge_labels == "formula")
    if paths_from is not None:
        from tinygrad_edu.explain import paths

        if not isinstance(paths_from, Value):
            raise TypeError(
                f"draw_graph: paths_from must be a Value, got {type(paths_from).__name__}"
            )
        for path in paths(root, paths_from):
            for k, i in enumerate(path.parent_indices):
                marks.on_path.add((path.nodes[k + 1], i))
    for item in highlight or ():
        node, i = (item.node, item.parent_index) if hasattr(item, "node") else item
        if not isinstance(node, Value) or not 0 <= i < len(node.parents):
            raise ValueError(f"draw_graph: highlight {item!r} is no edge (node, parent index)")
        marks.wrong.add((node, i))
    return marks


def _draw_edges(
    g: Drawing,
    layout: _Layout,
    state: _StepState | None,
    fmt: Any,
    show_local_grads: bool | None,
    marks: _EdgeMarks | None = None,
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
        for i, (p, local, product, upstream) in enumerate(_node_edges(v, layout, state)):
            attrs = dict(style)
            if marks is not None and marks.formula and labelled:
                from tinygrad_edu.explain import local_formula

                text, value = local_formula(v, i, layout.names)
                local_text = f"{text} = {fmt(value)}"
            else:
                local_text = fmt(local)
            if state is None:
                if labelled:
                    attrs[label_key] = local_text
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
                    attrs[label_key] = f"{local_text} \u00d7 ?"
                attrs.update(color=PENDING_COLOR, fontcolor=PENDING_COLOR, style="dashed")
            if marks is not None and (v, i) in marks.on_path:
                attrs.update(color=PATH_COLOR, fontcolor=PATH_COLOR, penwidth="2.5", style="solid")
            if marks is not None and (v, i) in marks.wrong:
                attrs.update(color=CURRENT_COLOR, fontcolor=CURRENT_COLOR, penwidth="3")
                attrs[label_key] = f"wrong: {attrs.get(label_key, fmt(local))}"
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


def _quiz_drawing(
    root: Value, known: dict[Value, float], asked: Value | None, digits: int = 4, **kwargs: Any
) -> graphviz.Digraph:
    """The drawing of a quiz question: the gradients found so far (``known``), ``asked`` in red
    with ``grad ?``, every edge with its local derivative and the upstream still to find."""
    layout = _layout(root, None)
    expected: dict[Value, int] = {}
    for v in layout.order:
        for p in v.parents:
            expected[p] = expected.get(p, 0) + 1
    state = _StepState(
        index=0,
        n_steps=0,
        totals=dict(known),
        received=dict(expected),  # a known gradient is complete: no "(so far)"
        expected=expected,
        step_of={},
        current=asked,
    )
    fmt = lambda x: format_number(x, digits)  # noqa: E731
    g = _new_drawing(kwargs.get("rankdir", "LR"), kwargs.get("title"))
    g.summary = f"{len(layout.visible)} values, quiz"
    _draw_nodes(g, layout, state, fmt)
    _draw_edges(g, layout, state, fmt, kwargs.get("show_local_grads"))
    return g
