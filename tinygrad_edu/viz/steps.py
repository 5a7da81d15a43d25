"""The backward pass replayed one node at a time: ``backprop_steps``, ``gradients_after``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tinygrad_edu.engine import Value, topological_order
from tinygrad_edu.viz._common import (
    format_number,
    node_kind,
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


def explain_backward(root: Value, grad: float = 1.0, formulas: bool = False) -> str:
    """A text walkthrough of the backward pass: every step's chain-rule products, then the results.

    Example for ``L = a * b`` with a = 2, b = -3::

        Backward pass of L, seeded with dL/dL = 1: 1 step, in reverse topological order.
        step 1: L = a * b    (upstream dL/dL = 1)
          dL/da += -3 x 1 = -3 (total -3)
          dL/db += 2 x 1 = 2 (total 2)
        Gradients of the leaves: dL/da = -3, dL/db = 2

    With ``formulas=True`` each product also says its local derivative's formula, read off the
    op's rule (``explain.backprop_text``): ``dL/da += (∂L/∂a = b = -3) x 1 = -3 (total -3)``.
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
    if formulas:
        from tinygrad_edu.explain import backprop_text

        lines.append(backprop_text(root, grad))
    else:
        lines += [str(s) for s in steps]
    totals = _totals_after(root, steps, len(steps), grad)[0]
    leaves = [v for v in order if not v.parents and node_kind(v) != "constant"]
    results = ", ".join(f"d{out}/d{names[v]} = {format_number(totals.get(v, 0.0))}" for v in leaves)
    lines.append(f"Gradients of the leaves: {results}")
    return "\n".join(lines)


def print_backprop(root: Value, grad: float = 1.0, formulas: bool = False) -> None:
    """Print ``explain_backward(root, grad, formulas)``."""
    print(explain_backward(root, grad, formulas))
