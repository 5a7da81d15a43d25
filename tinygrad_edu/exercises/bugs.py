"""A bug zoo: classic backprop mistakes from real reports, switched on inside the engine.

    with exercises.bug("sub_sign"):
        gradcheck(lambda a, b: a - b, [2.0, 1.0])      # GradcheckError: d(a-b)/db is +1

Each entry of ``BUGS`` replaces one thing in ``tinygrad_edu.engine`` (a derivative rule such as
``engine.d_sub``, ``engine.topological_order``, or ``Value.backward``) by the buggy version someone
really wrote. ``bug(name)`` puts the original back on exit, also when the block raises, so the
engine is exactly as before (the very same objects).

Every bug is caught by a gradient check: ``gradcheck`` for the wrong derivatives and the wrong
order, and ``gradcheck_backward_twice`` for the two that only show when ``backward()`` runs twice on
one graph (``gradcheck`` builds a fresh graph each time, so it cannot see them). ``PROBES`` are the
small checks a learner runs to find out which bug it is: each bug fails a different set of them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tinygrad_edu import engine
from tinygrad_edu.engine import Value
from tinygrad_edu.gradcheck import GradcheckError, gradcheck

__all__ = [
    "BUGS",
    "Bug",
    "Mystery",
    "PROBES",
    "Probe",
    "bug",
    "full_check",
    "gradcheck_backward_twice",
    "mystery",
    "run_probes",
    "symptom",
]


# ----------------------------------------------------------------------------------------------
# The buggy pieces (each a copy of the engine's piece with the one mistake)
# ----------------------------------------------------------------------------------------------


def _d_sub_wrong_sign(out: Any, a: Any, b: Any) -> tuple[float, float]:
    return (1.0, 1.0)  # BUG: d(a-b)/db is -1, not +1 (subtraction treated as addition)


def _d_exp_as_x(out: Any, x: Any) -> tuple[Any]:
    return (x,)  # BUG: d e^x/dx is e^x (out), not x


def _preorder(root: Value) -> list[Value]:
    """BUG: nodes in the order a depth-first search first reaches them, not after all their users.

    ``backward`` walks this list reversed, i.e. in discovery order: a node reached early through a
    short path passes its gradient on before a longer path has added its share.
    """
    order: list[Value] = []
    seen: set[Value] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        stack.extend(reversed(node.parents))
    return order[::-1]


def _backward_assigning(self: Value, grad: float = 1.0) -> None:
    """``Value.backward`` with ``=`` where the chain rule needs ``+=``."""
    order = engine.topological_order(self)
    earlier = [(n, n.grad) for n in order if n.grad != 0.0 and not n.parents]
    for node in order:
        node.grad = 0.0
    self.grad = float(grad)
    for node in reversed(order):
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad = local * node.grad  # BUG: the last path overwrites the others
    for leaf, g in earlier:
        leaf.grad += g


def _backward_keeping_interior(self: Value, grad: float = 1.0) -> None:
    """``Value.backward`` that starts from whatever the last call left in each node."""
    order = engine.topological_order(self)
    self.grad = float(grad)  # BUG: no reset of the interior nodes first
    for node in reversed(order):
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad += local * node.grad


def _backward_resetting_leaves(self: Value, grad: float = 1.0) -> None:
    """``Value.backward`` that zeroes every node first, leaves included."""
    order = engine.topological_order(self)
    for node in order:
        node.grad = 0.0  # BUG: a leaf's gradient from an earlier call is thrown away
    self.grad = float(grad)
    for node in reversed(order):
        for parent, local in zip(node.parents, node.local_grads):
            parent.grad += local * node.grad


# ----------------------------------------------------------------------------------------------
# The zoo
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bug:
    """One classic mistake.

    Attributes:
        name: the key in ``BUGS``.
        title: one line.
        description: what is wrong and what it does to the gradients.
        source: the public reports where it was made or discussed.
        target: what it replaces, as ``"engine.d_sub"`` or ``"Value.backward"``.
        caught_by: ``"gradcheck"`` or ``"gradcheck_backward_twice"``.
        example: a function on which that check fails while the bug is on.
        example_inputs: the point of the example.
        fix: the correct code, in one line.
    """

    name: str
    title: str
    description: str
    source: str
    target: str
    caught_by: str
    example: Callable[..., Value]
    example_inputs: tuple[float, ...]
    fix: str
    replacement: Callable[..., Any]

    def check(self) -> bool:
        """Run the check that catches this bug on its example (raises ``GradcheckError`` if on)."""
        checker = gradcheck if self.caught_by == "gradcheck" else gradcheck_backward_twice
        return checker(self.example, list(self.example_inputs))

    def __repr__(self) -> str:
        return f"Bug({self.name!r}: {self.title})"


def _diamond(a: Value) -> Value:
    h = a * a
    return h + h.sin()


BUGS: dict[str, Bug] = {
    b.name: b
    for b in [
        Bug(
            name="assign_instead_of_add",
            title="`=` instead of `+=` in the backward pass",
            description=(
                "Each edge sets parent.grad = local * grad instead of adding to it, so a value "
                "used on several paths keeps only the last path's share: d(a*a)/da comes out as a, "
                "not 2a."
            ),
            source=(
                "karpathy/micrograd#2 (wrong gradient when a non-leaf Value is re-used); the "
                "micrograd lecture notebook's note 'in the video I incorrectly used = instead of "
                "+=' (quoted in karpathy/nn-zero-to-hero#52); callummcdougall/ARENA_2.0#18 (no "
                "test caught grads[parent] = in_grad)"
            ),
            target="Value.backward",
            caught_by="gradcheck",
            example=lambda a: a * a,
            example_inputs=(3.0,),
            fix="parent.grad += local * node.grad",
            replacement=_backward_assigning,
        ),
        Bug(
            name="sub_sign",
            title="subtraction's derivative with the wrong sign",
            description=(
                "d(a-b)/db is taken as +1 (subtraction handled as addition), so every gradient "
                "that flows through the subtracted operand has the wrong sign: the MSE's "
                "(prediction - target) pushes the network the wrong way."
            ),
            source=(
                "AayushSameerShah/Neural-Net-Zero-to-Hero-with-Andrej#1 ('Micrograd subtraction "
                "gradient is wrong'); KhawajaAbaid/micrograd_c#1 (backward_subtract); "
                "owlbarn/owl#532 (1 - x differentiated with the wrong sign)"
            ),
            target="engine.d_sub",
            caught_by="gradcheck",
            example=lambda a, b: a - b,
            example_inputs=(2.0, 1.0),
            fix="return (1.0, -1.0)  # d(a-b)/da = 1, d(a-b)/db = -1",
            replacement=_d_sub_wrong_sign,
        ),
        Bug(
            name="exp_derivative_is_x",
            title="exp's derivative taken as x instead of e^x",
            description=(
                "The local derivative of e^x is e^x, the op's own output; using the input x "
                "instead is wrong everywhere (x = e^x has no real solution)."
            ),
            source=(
                "karpathy/nn-zero-to-hero#52 (a learner proposed self.data, i.e. x, as exp's "
                "local derivative; the answer: 'local grad is exp(x), so we use out.data')"
            ),
            target="engine.d_exp",
            caught_by="gradcheck",
            example=lambda a: a.exp(),
            example_inputs=(1.0,),
            fix="return (out,)  # d e^x/dx = e^x",
            replacement=_d_exp_as_x,
        ),
        Bug(
            name="node_before_its_users",
            title="a node processed before all its users have added to its gradient",
            description=(
                "The backward pass visits nodes in the order a search first reaches them "
                "instead of a topological order. A node reached early through a short path "
                "passes its gradient on before a longer path adds its share: right on a tree, "
                "wrong on any diamond (h = a*a; h + sin(h))."
            ),
            source=(
                "karpathy/micrograd#64 (recursive backward without a topological sort: 'this "
                "doesn't actually work ... where a non-leaf variable is re-used'), "
                "karpathy/micrograd#68; lucasdelimanogueira/PyNorch#90 (a diamond gives wrong "
                "gradients)"
            ),
            target="engine.topological_order",
            caught_by="gradcheck",
            example=_diamond,
            example_inputs=(1.0,),
            fix="order each node after all of its users (a post-order depth-first search)",
            replacement=_preorder,
        ),
        Bug(
            name="interior_grads_not_reset",
            title="interior gradients not reset between backward() calls",
            description=(
                "backward() sets only the output's gradient and adds into whatever the interior "
                "nodes kept from the last call, so a second backward() on the same graph counts "
                "the old interior gradients again. Invisible with one backward() per graph."
            ),
            source=(
                "karpathy/micrograd#102 ('zero each grad prior to accumulation ... those "
                "gradients accumulate, making the gradients of the weights wrong'); "
                "karpathy/nn-zero-to-hero#30 and karpathy/micrograd#32 (does zero_grad need "
                "the interior nodes too?)"
            ),
            target="Value.backward",
            caught_by="gradcheck_backward_twice",
            example=lambda a: (a * a) * a,
            example_inputs=(1.5,),
            fix="set every interior node's .grad to 0 before the loop",
            replacement=_backward_keeping_interior,
        ),
        Bug(
            name="leaf_grad_reset",
            title="a leaf's accumulated gradient reset by a second backward()",
            description=(
                "backward() zeroes every node first, leaves included, so two backward() calls "
                "give the gradient of one: gradient accumulation over mini-batches (and "
                "PyTorch's semantics) silently breaks. The mirror image of forgetting "
                "zero_grad() between steps: leaves must accumulate, and the training loop "
                "zeroes them."
            ),
            source=(
                "karpathy/micrograd#53 and its pull request #54 (reset all grads in backward(), "
                "leaves included; closed); karpathy/micrograd#63 ('that's rather a feature': "
                "frameworks accumulate leaf gradients over mini-batches)"
            ),
            target="Value.backward",
            caught_by="gradcheck_backward_twice",
            example=lambda a, b: a * b,
            example_inputs=(2.0, -3.0),
            fix="reset interior nodes only; leaves keep (and add to) what they had",
            replacement=_backward_resetting_leaves,
        ),
    ]
}


def _owner(target: str) -> tuple[Any, str]:
    where, attribute = target.split(".")
    return (Value if where == "Value" else engine), attribute


@contextmanager
def bug(name: str) -> Iterator[Bug]:
    """Switch the bug ``name`` on inside the engine for the ``with`` block; yields the ``Bug``.

    On exit (normal or by an exception) the original object is put back, so the engine is
    exactly as it was. Raises ``KeyError`` naming the known bugs for an unknown name.
    """
    if name not in BUGS:
        raise KeyError(f"unknown bug {name!r}; the zoo has {sorted(BUGS)}")
    entry = BUGS[name]
    owner, attribute = _owner(entry.target)
    original = vars(owner)[attribute]  # the raw function, not a bound method
    setattr(owner, attribute, entry.replacement)
    try:
        yield entry
    finally:
        setattr(owner, attribute, original)


class Mystery:
    """A bug chosen by a seed, its name hidden: ``with mystery(seed):``, then ``.reveal()``."""

    def __init__(self, seed: int) -> None:
        self._name = random.Random(seed).choice(sorted(BUGS))
        self._active: Any = None

    def __enter__(self) -> Mystery:
        self._active = bug(self._name)
        self._active.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._active.__exit__(*exc)
        self._active = None

    def reveal(self) -> Bug:
        """The answer: which bug it was."""
        return BUGS[self._name]

    def __repr__(self) -> str:
        return "Mystery(one of the bugs in exercises.BUGS)"


def mystery(seed: int) -> Mystery:
    """One of ``BUGS`` chosen by ``seed`` (same seed, same bug), not named until revealed."""
    return Mystery(seed)


# ----------------------------------------------------------------------------------------------
# Checks
# ----------------------------------------------------------------------------------------------


def gradcheck_backward_twice(
    f: Callable[..., Value],
    inputs: list[float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """``gradcheck(..., backward_twice=True)``: ``backward()`` twice on ONE graph must give twice
    the gradient (leaves accumulate across calls, as in PyTorch; interior nodes do not)."""
    return gradcheck(f, inputs, eps, atol, rtol, raise_exception, backward_twice=True)


@dataclass(frozen=True)
class Probe:
    """One small check a learner runs to narrow a bug down."""

    name: str
    function: Callable[..., Value]
    inputs: tuple[float, ...]
    twice: bool = False  # run gradcheck_backward_twice instead of gradcheck

    def passes(self) -> bool:
        checker = gradcheck_backward_twice if self.twice else gradcheck
        try:
            return checker(self.function, list(self.inputs))
        except GradcheckError:
            return False


PROBES: list[Probe] = [
    Probe("a + b", lambda a, b: a + b, (2.0, -1.0)),
    Probe("a - b", lambda a, b: a - b, (2.0, -1.0)),
    Probe("a * b", lambda a, b: a * b, (2.0, -1.0)),
    Probe("exp(a)", lambda a: a.exp(), (0.5,)),
    Probe("tanh(a)", lambda a: a.tanh(), (0.5,)),
    Probe("a * a (one value used twice)", lambda a: a * a, (1.5,)),
    Probe("h + sin(h), h = a * a (a diamond)", _diamond, (1.0,)),
    Probe("backward() twice on a * b", lambda a, b: a * b, (2.0, -1.0), twice=True),
    Probe("backward() twice on (a * a) * a", lambda a: (a * a) * a, (1.5,), twice=True),
]


def symptom(a: Value, b: Value) -> Value:
    """A small function that every bug of the zoo gets wrong: h = a*b; L = (h + e^h) - b.

    A product, an exp, a subtraction, a value (h) used on two paths of different length.
    """
    h = a * b
    return (h + h.exp()) - b


def full_check(f: Callable[..., Value], inputs: list[float]) -> bool:
    """``gradcheck`` and ``gradcheck_backward_twice`` on f; prints each failure's table."""
    ok = True
    for checker in (gradcheck, gradcheck_backward_twice):
        try:
            checker(f, inputs)
            print(f"{checker.__name__}: pass")
        except GradcheckError as e:
            ok = False
            print(e, end="\n\n")
    return ok


def run_probes(probes: list[Probe] | None = None) -> dict[str, bool]:
    """Run every probe (default ``PROBES``) and print pass / FAIL; returns {name: passed}."""
    results = {}
    for probe in PROBES if probes is None else probes:
        results[probe.name] = probe.passes()
        print(f"{'pass' if results[probe.name] else 'FAIL'}  {probe.name}")
    return results
