"""Worksheets: seeded random expression graphs to differentiate by hand, with answer keys.

    sheet = exercises.worksheet(5, seed=42)
    print(sheet.markdown)        # the problems, with blanks
    print(sheet.answer_key)      # the same with every gradient and its chain-rule step
    open("sheet.html", "w").write(sheet.html)   # self-contained, with the drawings

Each problem is a small graph: inputs ``x, y, z`` (small nonzero integers by default) and
intermediate nodes ``u1, u2, ...``, each one op of earlier nodes, the last one the output ``L``.
The learner fills in dL/d(node) for every node, from the output back to the inputs: the backward
pass by hand. The answers come from ``backward()``; the tests check them against central finite
differences too. The same seed always gives the same sheet, so a teacher can print it and hand it
out, and a learner can regenerate it.
"""

from __future__ import annotations

import html
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tinygrad_edu.engine import Value
from tinygrad_edu.explain import rule_formulas

__all__ = ["WORKSHEET_OPS", "Problem", "Worksheet", "worksheet"]

# op name -> (arity, formula template); the local derivatives' text comes from each op's rule
# (explain.rule_formulas), not from a table of its own
_OPS: dict[str, tuple[int, str]] = {
    "+": (2, "{0} + {1}"),
    "-": (2, "{0} - {1}"),
    "*": (2, "{0} * {1}"),
    "square": (1, "{0}^2"),
    "relu": (1, "relu({0})"),
    "tanh": (1, "tanh({0})"),
    "exp": (1, "exp({0})"),
    "sigmoid": (1, "sigmoid({0})"),
}


def _local_text(step: _Step) -> tuple[str, ...]:
    """Each operand's local derivative as text, read off the engine op's rule; square is the
    product a * a, so its derivative is the sum of the rule's two (a + a)."""
    if step.op == "square":
        (a,) = step.operands
        return (" + ".join(rule_formulas("*", step.name, [a, a])),)
    return rule_formulas(step.op, step.name, list(step.operands))


WORKSHEET_OPS = tuple(_OPS)
"""The ops a worksheet can use; the default is the hand-friendly ``+ - * square relu``."""

_DEFAULT_OPS = ("+", "-", "*", "square", "relu")
_INPUT_NAMES = ("x", "y", "z", "w")


def _apply(op: str, args: Sequence[Value]) -> Value:
    a = args[0]
    if op == "+":
        return a + args[1]
    if op == "-":
        return a - args[1]
    if op == "*":
        return a * args[1]
    if op == "square":
        return a * a
    return getattr(a, op)()  # relu, tanh, exp, sigmoid


@dataclass(frozen=True)
class _Step:
    name: str
    op: str
    operands: tuple[str, ...]


@dataclass
class Problem:
    """One graph to differentiate.

    Attributes:
        number: its number on the sheet (from 1).
        inputs: {input name: value}.
        steps: the recipe, one ``(node, op, operands)`` per intermediate node; the last is L.
        answers: {node name: dL/d node} for every input and intermediate node (from backward()).
        values: {node name: value} of every node (the forward pass).
    """

    number: int
    inputs: dict[str, float]
    steps: list[_Step]
    answers: dict[str, float] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)

    @property
    def function(self) -> Callable[..., Value]:
        """The output as a function of Values, one per input in the order of ``inputs``."""

        def f(*args: Value | float) -> Value:
            if len(args) != len(self.inputs):
                raise TypeError(f"problem {self.number}: expected {len(self.inputs)} inputs")
            nodes = {
                name: (v if isinstance(v, Value) else Value(v))
                for name, v in zip(self.inputs, args)
            }
            for step in self.steps:
                nodes[step.name] = _apply(step.op, [nodes[o] for o in step.operands])
            return nodes[self.steps[-1].name]

        return f

    def graph(self) -> tuple[dict[str, Value], Value]:
        """Fresh labelled nodes at the problem's point: ({name: Value}, output)."""
        nodes = {name: Value(v, label=name) for name, v in self.inputs.items()}
        for step in self.steps:
            node = _apply(step.op, [nodes[o] for o in step.operands])
            node.label = step.name
            nodes[step.name] = node
        return nodes, nodes[self.steps[-1].name]

    def formula(self, name: str | None = None) -> str:
        """The formula of a node (default: the output) in the inputs, expanded."""
        by_name = {s.name: s for s in self.steps}
        name = self.steps[-1].name if name is None else name
        if name not in by_name:
            return name
        step = by_name[name]
        args = []
        for operand in step.operands:
            text = self.formula(operand)
            # a sum or product inside another binary op keeps its parentheses
            nested = operand in by_name and _OPS[by_name[operand].op][0] == 2
            args.append(f"({text})" if nested and _OPS[step.op][0] == 2 else text)
        return _OPS[step.op][1].format(*args)

    def chain_rule(self) -> list[str]:
        """dL/d node for each node, output first: the sum over its uses of local x upstream."""
        nodes, _ = self.graph()
        uses: dict[str, list[tuple[str, str, float]]] = {n: [] for n in nodes}
        for step in self.steps:
            node = nodes[step.name]
            texts = _local_text(step)
            for k, operand in enumerate(step.operands):
                local_text = texts[k]
                # square is a * a: one operand, two parents; its derivative is their sum
                local = sum(node.local_grads) if step.op == "square" else node.local_grads[k]
                uses[operand].append((step.name, local_text, local))
        out = self.steps[-1].name
        lines = [f"dL/d{out} = 1  (the output L is {out})"]
        for name in [*(s.name for s in reversed(self.steps[:-1])), *self.inputs]:
            if not uses[name]:
                lines.append(f"dL/d{name} = 0  ({name} is not used)")
                continue
            terms = " + ".join(f"d{u}/d{name} * dL/d{u}" for u, _, _ in uses[name])
            numbers = " + ".join(f"{_fmt(g)} * {_fmt(self.answers[u])}" for u, _, g in uses[name])
            words = ", ".join(f"d{u}/d{name} = {text}" for u, text, _ in uses[name])
            lines.append(
                f"dL/d{name} = {terms} = {numbers} = {_fmt(self.answers[name])}    [{words}]"
            )
        return lines


@dataclass
class Worksheet:
    """A sheet of problems; ``markdown``/``html`` to hand out, ``answer_key`` to check."""

    seed: int
    problems: list[Problem]
    title: str = "Backpropagation by hand (역전파 연습)"

    @property
    def markdown(self) -> str:
        return self._markdown(answers=False)

    @property
    def answer_key(self) -> str:
        return self._markdown(answers=True)

    def _markdown(self, answers: bool) -> str:
        head = f"# {self.title}{' - answer key' if answers else ''}\n\nSeed {self.seed}. "
        head += (
            "For each problem, do the forward pass (the value of every node), then the backward "
            "pass: dL/d(node) for every node, from L back to the inputs.\n"
        )
        parts = [head]
        for p in self.problems:
            parts.append(f"\n## Problem {p.number}\n\nL = {p.formula()}  at  " + _point(p) + "\n")
            for step in p.steps:
                value = f" = {_fmt(p.values[step.name])}" if answers else " = ____"
                expression = _OPS[step.op][1].format(*step.operands)
                parts.append(f"- {step.name} = {expression}{value}")
            parts.append("")
            names = [*(s.name for s in reversed(p.steps)), *p.inputs]
            if answers:
                parts.extend(f"- {line}" for line in p.chain_rule())
            else:
                parts.extend(f"- dL/d{n} = ____" for n in names)
        return "\n".join(parts) + "\n"

    @property
    def html(self) -> str:
        """A self-contained page (inline SVG drawings without gradients, no network)."""
        return self._html(answers=False)

    @property
    def answer_key_html(self) -> str:
        return self._html(answers=True)

    def _html(self, answers: bool) -> str:
        body = [f"<h1>{html.escape(self.title)}{' - answer key' if answers else ''}</h1>"]
        body.append(f"<p>Seed {self.seed}.</p>")
        for p in self.problems:
            body.append(f"<h2>Problem {p.number}</h2>")
            body.append(
                f"<p><code>L = {html.escape(p.formula())}</code> at {html.escape(_point(p))}</p>"
            )
            body.append(_drawing(p, answers))
            rows = []
            for n in [*(s.name for s in reversed(p.steps)), *p.inputs]:
                cell = _fmt(p.answers[n]) if answers else "&nbsp;" * 12
                rows.append(f"<tr><td>dL/d{html.escape(n)}</td><td class='blank'>{cell}</td></tr>")
            body.append("<table>" + "".join(rows) + "</table>")
            if answers:
                body.append("<pre>" + html.escape("\n".join(p.chain_rule())) + "</pre>")
        style = (
            "body{font-family:sans-serif;max-width:50em;margin:auto}"
            "td{border:1px solid #999;padding:.3em .8em}.blank{min-width:8em}"
            "svg{max-width:100%;height:auto}"
        )
        return (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{style}</style></head><body>\n"
            + "\n".join(body)
            + "\n</body></html>\n"
        )


def _drawing(p: Problem, answers: bool) -> str:
    """The graph as inline SVG (gradients only on the answer key); empty if no Graphviz."""
    from tinygrad_edu import viz

    nodes, out = p.graph()
    if answers:
        out.backward()
        graph = viz.draw_graph(out, show_local_grads=True)
    else:
        graph = viz.draw_graph(out, step=0, show_local_grads=False)
    try:
        svg = viz.render_bytes(graph, "svg").decode("utf-8")
    except viz.GraphvizNotFoundError:
        return "<p>(no drawing: Graphviz is not available)</p>"
    return svg[svg.index("<svg") :]


def _fmt(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.4g}"


def _point(p: Problem) -> str:
    return ", ".join(f"{n} = {_fmt(v)}" for n, v in p.inputs.items())


def _draw_problem(
    rng: random.Random, number: int, ops: Sequence[str], n_inputs: int, n_ops: int
) -> Problem:
    """One problem: every input used, every value small, no relu at its kink."""
    for _attempt in range(10_000):
        inputs = {
            _INPUT_NAMES[i]: float(rng.choice([-3, -2, -1, 1, 2, 3])) for i in range(n_inputs)
        }
        names = list(inputs)
        steps: list[_Step] = []
        for k in range(n_ops):
            op = rng.choice(ops)
            arity = _OPS[op][0]
            # the newest node is an operand, so the steps form one chain to L
            operands = [names[-1]] + [rng.choice(names) for _ in range(arity - 1)]
            rng.shuffle(operands)
            name = f"u{k + 1}"
            steps.append(_Step(name, op, tuple(operands)))
            names.append(name)
        problem = Problem(number, inputs, steps)
        if _acceptable(problem):
            _solve(problem)
            return problem
    raise ValueError(
        f"worksheet: found no problem with {n_inputs} inputs in {n_ops} steps of {list(ops)} "
        "that uses every input and stays small; allow more steps or other ops"
    )


def _acceptable(p: Problem) -> bool:
    used = {o for s in p.steps for o in s.operands}
    if not set(p.inputs) <= used:
        return False
    nodes, _ = p.graph()
    for step in p.steps:
        if step.op == "relu" and nodes[step.operands[0]].data == 0.0:
            return False  # at the kink the derivative is a convention, not a lesson
    return all(math.isfinite(v.data) and abs(v.data) <= 100 for v in nodes.values())


def _solve(p: Problem) -> None:
    nodes, out = p.graph()
    out.backward()
    p.values = {name: v.data for name, v in nodes.items()}
    p.answers = {name: v.grad for name, v in nodes.items()}


def worksheet(
    n: int = 5,
    seed: int = 0,
    *,
    ops: Sequence[str] = _DEFAULT_OPS,
    inputs: int = 2,
    steps: int = 3,
    title: str | None = None,
) -> Worksheet:
    """``n`` seeded random problems: the same ``seed`` (and options) give the same sheet.

    Args:
        n: how many problems.
        seed: the sheet's seed.
        ops: the ops to draw from (``WORKSHEET_OPS``); the default's answers are integers.
        inputs: inputs per problem (1 to 4), named x, y, z, w.
        steps: intermediate nodes per problem (the last is the output L).
        title: the sheet's heading.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"worksheet: n must be a positive int, got {n!r}")
    unknown = [op for op in ops if op not in _OPS]
    if unknown or not ops:
        raise ValueError(f"worksheet: unknown ops {unknown}; choose from {WORKSHEET_OPS}")
    if not 1 <= inputs <= len(_INPUT_NAMES):
        raise ValueError(f"worksheet: inputs must be 1 to {len(_INPUT_NAMES)}, got {inputs!r}")
    if steps < max(1, inputs - 1):
        raise ValueError(f"worksheet: {inputs} inputs need at least {inputs - 1} steps")
    if inputs > 1 and all(_OPS[op][0] == 1 for op in ops):
        raise ValueError("worksheet: with several inputs, ops must include a binary op (+ - *)")
    rng = random.Random(seed)
    problems = [_draw_problem(rng, k + 1, tuple(ops), inputs, steps) for k in range(n)]
    sheet = Worksheet(seed, problems)
    if title is not None:
        sheet.title = title
    return sheet
