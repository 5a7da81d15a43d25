"""Benchmarks behind ``python -m tinygrad_edu bench``: speed and memory, measured in one process.

Workloads:

* ``moons``: one training step of micrograd's demo (100 points of ``make_moons``,
  ``MLP(2, [16, 16, 1])``, hinge loss + 1e-4 L2, forward, backward and an SGD update), timed three
  ways in the same run: with this package, with micrograd 0.1.0 (when it is installed: ``pip install
  "tinygrad_edu[bench]"``) and with plain Python floats and a hand-written backward pass
  (:class:`FloatMLP`, the practical floor for scalar Python code). Python's garbage collector stays
  on, as users have it. All three start from the same weights and report the same loss.
* ``chain``: build and back-propagate a chain of 1,000,000 ops, ``y <- tanh(1.0001 * y)`` repeated
  (depth 1,000,000; the constants hang off the side), timing the forward construction and
  ``backward()`` separately.
* ``compiled``: the moons step compiled (``tinygrad_edu.compile``) with the python and the numpy
  backend, timed in turns with the eager step and the floor; each backend's compile time and the
  steps it takes to pay it back.
* ``digits``: a digits-shaped step (64 inputs, ``MLP(64, [32, 10])``, softmax cross-entropy, a batch
  of 64, data generated in code), eager vs the numpy backend vs plain floats (``bench_compiled``).
* ``memory``: bytes per graph node (``tracemalloc``, counted while the graph is built) for the chain
  and for the moons step's graph, and two checks: dropping a loss frees its graph by reference
  counting alone (a weak reference dies with the garbage collector off), and building and dropping
  a graph leaves nothing for the cyclic collector (``gc.collect()`` finds 0 unreachable objects).

Timings are medians of several repeats; compare ratios measured in one run, never absolute times
across machines.
"""

from __future__ import annotations

import gc
import importlib
import operator
import statistics
import time
import tracemalloc
import weakref
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from . import data, nn
from .engine import Value, topological_order

__all__ = [
    "BenchConfig",
    "FloatMLP",
    "QUICK",
    "FULL",
    "run",
    "format_report",
    "moons_problem",
    "build_chain",
    "time_interleaved",
]


@dataclass(frozen=True)
class BenchConfig:
    """Sizes and repeats of one benchmark run."""

    moons_points: int = 100
    rounds: int = 5  # each round: micrograd for 1 step, the others for `per_round` (after warm-up)
    per_round: int = 3
    chain_ops: int = 1_000_000
    chain_repeats: int = 3
    memory_chain_ops: int = (
        100_000  # tracemalloc slows allocation; bytes per node do not depend on n
    )
    seed: int = 0
    digits_batch: int = 64  # samples per step of the digits-shaped workload (1,797 per epoch)


FULL = BenchConfig()
QUICK = BenchConfig(
    moons_points=20,
    rounds=1,
    chain_ops=20_000,
    chain_repeats=1,
    memory_chain_ops=5_000,
    digits_batch=8,
)

L2_WEIGHT = 1e-4  # micrograd's demo: alpha = 1e-4
LEARNING_RATE = 0.1
LAYER_SIZES = (16, 16, 1)


def time_interleaved(
    fns: dict[str, tuple[Callable[[], object], int]], rounds: int
) -> dict[str, float]:
    """Median seconds per call of each function, timed in turns.

    ``fns`` maps a name to ``(function, calls per round)``. Every round runs each function in a
    block: an untimed garbage collection and warm-up call, then its number of timed calls in a
    row, as a training loop makes them. Taking turns means a change in the machine's load during
    the run slows all of them alike, so their ratios stay meaningful; the collection and warm-up
    at the start of a block mean no function pays for the garbage another one left behind
    (micrograd leaves its whole graph as cyclic garbage), while consecutive calls of the same
    function do pay for their own, as they would in a user's loop (the collector stays on).
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, (fn, calls) in fns.items():
            gc.collect()
            fn()
            for _ in range(calls):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


# ----------------------------------------------------------------------------------------------
# The moons step, three ways
# ----------------------------------------------------------------------------------------------


def moons_problem(n_points: int = 100, seed: int = 0) -> tuple[list[list[float]], list[int]]:
    """micrograd's demo data: ``make_moons(n, noise=0.1)`` with labels mapped to -1 / +1."""
    X, y = data.make_moons(n_points, noise=0.1, seed=seed)
    return [list(map(float, x)) for x in X], [2 * int(label) - 1 for label in y]


def _moons_setup(config: BenchConfig) -> tuple[list[list[float]], list[int], nn.MLP]:
    """The demo's data and a fresh ``MLP(2, [16, 16, 1])``, both from ``config.seed``."""
    X, ys = moons_problem(config.moons_points, config.seed)
    return X, ys, nn.MLP(2, list(LAYER_SIZES), seed=config.seed)


def _engine_step(
    model: nn.MLP, params: list[Any], X: Sequence[Sequence[float]], ys: Sequence[int]
) -> float:
    """One step with this package: forward, backward, SGD update; returns the loss before it."""
    scores = model.forward_batch(X)
    loss = nn.hinge_loss(scores, ys) + nn.l2_penalty(params, L2_WEIGHT)
    model.zero_grad()
    loss.backward()
    for p in params:
        p.data -= LEARNING_RATE * p.grad
    return loss.data


class FloatMLP:
    """The moons model in plain Python floats with a hand-written backward pass.

    The floor for scalar Python code: no graph, no objects per operation. For a ReLU network
    ``a_l = relu(W_l a_{l-1} + b_l)`` (identity at the output) and the loss
    ``J = (1/n) sum_i relu(1 - y_i s_i) + alpha sum_w w^2``, backpropagation by hand is

        dJ/ds_i = -y_i / n  if 1 - y_i s_i > 0, else 0
        dJ/dz_l = dJ/da_l * [z_l > 0]          (identity at the output: dJ/dz = dJ/da)
        dJ/dW_l += dJ/dz_l a_{l-1}^T,   dJ/db_l += dJ/dz_l,   dJ/da_{l-1} = W_l^T dJ/dz_l

    plus ``2 alpha w`` for every weight and bias. Every sample is back-propagated (its gradient is
    zero when its margin is met), as the engine does.
    """

    def __init__(self, weights: list[list[list[float]]], biases: list[list[float]]) -> None:
        self.weights = weights  # weights[l][j][k]: layer l, neuron j, input k
        self.biases = biases

    @classmethod
    def from_model(cls, model: nn.MLP) -> FloatMLP:
        """Copy the weights of an ``nn.MLP`` (layers of neurons with ``w`` and ``b``)."""
        weights = [[[w.data for w in n.w] for n in layer.neurons] for layer in model.layers]
        biases = [[n.b.data for n in layer.neurons] for layer in model.layers]
        return cls(weights, biases)

    def parameters(self) -> list[float]:
        """All weights and biases in ``nn.MLP``'s order (per neuron: its weights, then its bias)."""
        return [
            x
            for rows, bs in zip(self.weights, self.biases)
            for row, b in zip(rows, bs)
            for x in (*row, b)
        ]

    def _output(self, a: list[float], y: int, n: int) -> tuple[float, list[float]]:
        """The hinge term of one sample and dJ/dz at the output: relu(1 - y s) / n."""
        margin = 1.0 - y * a[0]
        if margin > 0.0:
            return margin / n, [-y / n]
        return 0.0, [0.0]

    def _backprop(
        self, X: Sequence[Sequence[float]], ys: Sequence[int]
    ) -> tuple[float, list[list[list[float]]], list[list[float]]]:
        """The data term of the loss and its gradient: forward, ``_output``, then back."""
        weights, biases = self.weights, self.biases
        last = len(weights) - 1
        grad_w = [[[0.0] * len(row) for row in rows] for rows in weights]
        grad_b = [[0.0] * len(bs) for bs in biases]
        n = len(X)
        loss = 0.0
        for x, y in zip(X, ys):
            activations = [list(x)]
            a: list[float] = activations[0]
            for layer, (rows, bs) in enumerate(zip(weights, biases)):
                z = [sum(map(operator.mul, row, a)) + b for row, b in zip(rows, bs)]
                a = z if layer == last else [zj if zj > 0.0 else 0.0 for zj in z]
                activations.append(a)
            term, delta = self._output(a, y, n)  # delta: dJ/dz at the output
            loss += term
            for layer in range(last, -1, -1):
                rows, a_in = weights[layer], activations[layer]
                for j, d in enumerate(delta):
                    grad_b[layer][j] += d
                    g_row = grad_w[layer][j]
                    for k, ak in enumerate(a_in):
                        g_row[k] += d * ak
                if layer:  # dJ/dz of the layer below: W^T delta, through the ReLU
                    delta = [
                        sum(rows[j][k] * d for j, d in enumerate(delta)) if a_in[k] > 0.0 else 0.0
                        for k in range(len(a_in))
                    ]
        return loss, grad_w, grad_b

    def loss_and_grads(
        self, X: Sequence[Sequence[float]], ys: Sequence[int]
    ) -> tuple[float, list[list[list[float]]], list[list[float]]]:
        """The loss and its gradient with respect to every weight and bias."""
        loss, grad_w, grad_b = self._backprop(X, ys)
        weights, biases = self.weights, self.biases
        penalty = 0.0
        for rows, bs, g_rows, g_bs in zip(weights, biases, grad_w, grad_b):
            for row, g_row in zip(rows, g_rows):
                for k, w in enumerate(row):
                    penalty += w * w
                    g_row[k] += 2.0 * L2_WEIGHT * w
            for j, b in enumerate(bs):
                penalty += b * b
                g_bs[j] += 2.0 * L2_WEIGHT * b
        return loss + L2_WEIGHT * penalty, grad_w, grad_b

    def step(self, X: Sequence[Sequence[float]], ys: Sequence[int]) -> float:
        """One SGD step; returns the loss before it."""
        loss, grad_w, grad_b = self.loss_and_grads(X, ys)
        for rows, g_rows in zip(self.weights, grad_w):
            for row, g_row in zip(rows, g_rows):
                for k, g in enumerate(g_row):
                    row[k] -= LEARNING_RATE * g
        for bs, g_bs in zip(self.biases, grad_b):
            for j, g in enumerate(g_bs):
                bs[j] -= LEARNING_RATE * g
        return loss


def _micrograd() -> Any | None:
    """micrograd's ``engine`` and ``nn`` modules, or None when it is not installed."""
    try:
        return (
            importlib.import_module("micrograd.engine"),
            importlib.import_module("micrograd.nn"),
        )
    except ImportError:
        return None


def _micrograd_model(model: nn.MLP) -> tuple[Any, Any, list[Any]] | None:
    """(micrograd's engine module, its MLP, its parameters) with ``model``'s weights, or None."""
    modules = _micrograd()
    if modules is None:
        return None
    engine, mg_nn = modules
    mg_model = mg_nn.MLP(model.nin, [layer.nout for layer in model.layers])
    mg_params = mg_model.parameters()
    ours = model.parameters()
    if len(mg_params) != len(ours):  # pragma: no cover - a different micrograd
        raise RuntimeError(
            f"bench: micrograd model has {len(mg_params)} parameters, not {len(ours)}"
        )
    for theirs, mine in zip(mg_params, ours):
        theirs.data = mine.data
    return engine, mg_model, mg_params


def _micrograd_loss(
    engine: Any,
    mg_model: Any,
    mg_params: list[Any],
    X: Sequence[Sequence[float]],
    ys: Sequence[int],
) -> Any:
    """micrograd's demo loss, in its own code (as in its demo.ipynb)."""
    inputs = [list(map(engine.Value, x)) for x in X]
    scores = list(map(mg_model, inputs))
    losses = [(1 + -y * s).relu() for y, s in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = L2_WEIGHT * sum(p * p for p in mg_params)
    return data_loss + reg_loss


def _micrograd_step_fn(
    model: nn.MLP, X: Sequence[Sequence[float]], ys: Sequence[int]
) -> Callable[[], float] | None:
    """micrograd's demo step from ``model``'s weights, or None when micrograd is not installed."""
    found = _micrograd_model(model)
    if found is None:
        return None
    engine, mg_model, mg_params = found

    def step() -> float:
        total = _micrograd_loss(engine, mg_model, mg_params, X, ys)
        mg_model.zero_grad()
        total.backward()
        for p in mg_params:
            p.data -= LEARNING_RATE * p.grad
        return float(total.data)

    return step


def bench_moons(config: BenchConfig) -> dict[str, Any]:
    """Seconds per step of the moons demo: this package, micrograd (if installed), float floor."""
    X, ys, model = _moons_setup(config)
    results: dict[str, Any] = {"points": len(X), "layers": [2, *LAYER_SIZES]}
    floor = FloatMLP.from_model(model)
    mg_step = _micrograd_step_fn(model, X, ys)
    params = model.parameters()
    first_loss = {"tinygrad_edu": _engine_step(model, params, X, ys), "floor": floor.step(X, ys)}
    fns: dict[str, tuple[Callable[[], object], int]] = {
        "tinygrad_edu": (lambda: _engine_step(model, params, X, ys), config.per_round),
        "floor": (lambda: floor.step(X, ys), config.per_round),
    }
    if mg_step is not None:
        first_loss["micrograd"] = mg_step()
        fns["micrograd"] = (mg_step, 1)  # about a second per step: once per round
    medians = time_interleaved(fns, config.rounds)
    results["tinygrad_edu_s"] = medians["tinygrad_edu"]
    results["floor_s"] = medians["floor"]
    results["micrograd_s"] = medians.get("micrograd")
    results["first_loss"] = first_loss
    results["ratio_floor"] = results["tinygrad_edu_s"] / results["floor_s"]
    if results["micrograd_s"] is not None:
        results["speedup_micrograd"] = results["micrograd_s"] / results["tinygrad_edu_s"]
    else:
        results["speedup_micrograd"] = None
    return results


# ----------------------------------------------------------------------------------------------
# The chain
# ----------------------------------------------------------------------------------------------


def build_chain(n_ops: int, start: float = 0.5) -> tuple[Value, Value]:
    """``y <- tanh(1.0001 * y)`` until ``n_ops`` ops are chained; returns (leaf, output).

    Depth ``n_ops``: each op uses the previous result, so backward() must walk all of it. Each
    multiplication also makes a constant leaf for 1.0001 (as ``y * 1.0001`` does), so the graph
    holds ``n_ops + n_ops // 2 + 1`` Values for even ``n_ops``.
    """
    x = Value(start, label="x")
    y = x
    for i in range(n_ops):
        y = y * 1.0001 if i % 2 == 0 else y.tanh()
    return x, y


def bench_chain(config: BenchConfig) -> dict[str, Any]:
    """Forward construction vs backward() of the chain, medians of ``chain_repeats`` builds."""
    forward, backward = [], []
    for _ in range(config.chain_repeats):
        start = time.perf_counter()
        x, y = build_chain(config.chain_ops)
        forward.append(time.perf_counter() - start)
        start = time.perf_counter()
        y.backward()
        backward.append(time.perf_counter() - start)
        del x, y
    f, b = statistics.median(forward), statistics.median(backward)
    return {
        "ops": config.chain_ops,
        "values": config.chain_ops + config.chain_ops // 2 + 1,
        "forward_s": f,
        "backward_s": b,
        "backward_over_forward": b / f,
    }


# ----------------------------------------------------------------------------------------------
# Memory
# ----------------------------------------------------------------------------------------------


def _allocated_by(build: Callable[[], Any]) -> tuple[int, Any]:
    """(bytes allocated by ``build()`` as seen by tracemalloc, what it returned)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        root = build()
        allocated = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return allocated, root


def _micrograd_node_count(root: Any) -> int:
    seen: set[int] = set()
    stack = [root]
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen.add(id(v))
            stack.extend(v._prev)
    return len(seen)


def _frees_by_refcount(
    build: Callable[[], Any], interior: Callable[[Any], Any] = lambda root: root.parents[0]
) -> tuple[bool, int]:
    """(graph freed by reference counting alone, objects left for the cyclic collector)."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        root = build()
        probe = weakref.ref(interior(root))  # a node held only by the graph
        del root
        freed = probe() is None
        leftover = gc.collect()  # unreachable objects found: 0 unless the graph had cycles
    finally:
        if was_enabled:
            gc.enable()
    return freed, leftover


def bench_memory(config: BenchConfig) -> dict[str, Any]:
    """Bytes per node of the chain and of the moons graph; frees-by-refcount and cycle checks."""
    X, ys, model = _moons_setup(config)
    params = model.parameters()

    def moons_loss() -> Value:
        return nn.hinge_loss(model.forward_batch(X), ys) + nn.l2_penalty(params, L2_WEIGHT)

    chain_bytes, chain = _allocated_by(lambda: build_chain(config.memory_chain_ops)[1])
    chain_nodes = len(topological_order(chain))
    moons_bytes, moons = _allocated_by(moons_loss)
    moons_order = topological_order(moons)
    freed, leftover = _frees_by_refcount(moons_loss)
    results: dict[str, Any] = {
        "chain_bytes_per_node": chain_bytes / chain_nodes,
        "chain_nodes": chain_nodes,
        "moons_bytes_per_node": moons_bytes / len(moons_order),
        "moons_nodes": len(moons_order),
        "moons_edges": sum(len(v.parents) for v in moons_order),
        "moons_bytes": moons_bytes,
        "freed_by_refcount": freed,
        "cycle_objects": leftover,
        "micrograd": None,
    }
    found = _micrograd_model(model)
    if found is not None:

        def mg_loss() -> Any:
            return _micrograd_loss(*found, X, ys)

        mg_bytes, mg_root = _allocated_by(mg_loss)
        mg_nodes = _micrograd_node_count(mg_root)
        del mg_root
        _, mg_cycles = _frees_by_refcount(mg_loss, interior=lambda root: next(iter(root._prev)))
        results["micrograd"] = {
            "moons_bytes_per_node": mg_bytes / mg_nodes,
            "moons_nodes": mg_nodes,
            "moons_bytes": mg_bytes,
            "cycle_objects": mg_cycles,
        }
    return results


# ----------------------------------------------------------------------------------------------
# The command
# ----------------------------------------------------------------------------------------------


@dataclass
class Report:
    """Everything one run measured (``asdict`` gives the ``--json`` output)."""

    config: dict[str, Any]
    moons: dict[str, Any] = field(default_factory=dict)
    chain: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    compiled: dict[str, Any] = field(default_factory=dict)
    digits: dict[str, Any] = field(default_factory=dict)


WORKLOADS = ("moons", "chain", "memory", "compiled", "digits")


def run(config: BenchConfig = FULL, workloads: Sequence[str] = WORKLOADS) -> dict[str, Any]:
    """Run the chosen workloads; returns the numbers as plain dicts (JSON-serialisable)."""
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        raise ValueError(f"bench: unknown workload {unknown[0]!r}; choose from {WORKLOADS}")
    report = Report(config=asdict(config))
    if "moons" in workloads:
        report.moons = bench_moons(config)
    if "chain" in workloads:
        report.chain = bench_chain(config)
    if "memory" in workloads:
        report.memory = bench_memory(config)
    if "compiled" in workloads:
        from .bench_compiled import bench_compiled

        report.compiled = bench_compiled(config)
    if "digits" in workloads:
        from .bench_compiled import bench_digits

        report.digits = bench_digits(config)
    return asdict(report)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.1f} ms"


def format_report(report: dict[str, Any]) -> str:
    """The human-readable table printed by ``python -m tinygrad_edu bench``."""
    lines: list[str] = []
    if report["config"] != asdict(FULL):
        lines += ["(not the full-size run: the targets below are set for the full run)", ""]
    moons = report.get("moons") or {}
    if moons:
        lines += [
            f"moons step ({moons['points']} points, MLP {moons['layers']}, hinge + L2, "
            "SGD; gc on; median)",
            f"  {'implementation':<16}{'time/step':>12}{'vs tinygrad_edu':>18}{'first loss':>14}",
        ]
        ours = moons["tinygrad_edu_s"]
        rows = (("tinygrad_edu", "tinygrad_edu"), ("micrograd 0.1.0", "micrograd"))
        for name, key in (*rows, ("pure floats", "floor")):
            seconds, loss = moons[f"{key}_s"], moons["first_loss"].get(key)
            ratio = "-" if seconds is None else f"{seconds / ours:.2f}x"
            shown = "not installed" if seconds is None else _ms(seconds)
            loss_text = "-" if loss is None else f"{loss:.6f}"
            lines.append(f"  {name:<16}{shown:>12}{ratio:>18}{loss_text:>14}")
        if moons["speedup_micrograd"] is not None:
            lines.append(
                f"  micrograd / tinygrad_edu = {moons['speedup_micrograd']:.1f}x (target >= 30x)"
            )
        else:
            lines.append("  micrograd not installed: pip install 'tinygrad_edu[bench]' to compare")
        lines.append(f"  tinygrad_edu / floor = {moons['ratio_floor']:.2f}x (target <= 3.5x)")
    chain = report.get("chain") or {}
    if chain:
        lines += [
            "",
            f"chain ({chain['ops']:,} ops y <- tanh(1.0001 y), {chain['values']:,} Values; median)",
            f"  forward  {chain['forward_s']:.2f} s",
            f"  backward {chain['backward_s']:.2f} s",
            f"  backward / forward = {chain['backward_over_forward']:.2f} (target <= 1)",
        ]
    memory = report.get("memory") or {}
    if memory:
        lines += [
            "",
            "memory (tracemalloc, while the graph is built)",
            f"  chain: {memory['chain_bytes_per_node']:.0f} bytes/node "
            f"({memory['chain_nodes']:,} nodes) (target <= 200)",
            f"  moons graph: {memory['moons_bytes_per_node']:.0f} bytes/node, "
            f"{memory['moons_nodes']:,} nodes, {memory['moons_edges']:,} edges, "
            f"{memory['moons_bytes'] / 1e6:.2f} MB",
        ]
        mg = memory.get("micrograd")
        if mg:
            lines.append(
                f"  micrograd moons graph: {mg['moons_bytes_per_node']:.0f} bytes/node, "
                f"{mg['moons_nodes']:,} nodes, {mg['moons_bytes'] / 1e6:.2f} MB "
                f"({mg['moons_bytes'] / memory['moons_bytes']:.1f}x ours); "
                f"objects in cycles: {mg['cycle_objects']:,}"
            )
        lines.append(
            f"  dropping the loss frees its graph by reference counting: "
            f"{'yes' if memory['freed_by_refcount'] else 'NO'}; "
            f"objects in reference cycles: {memory['cycle_objects']}"
        )
    from .bench_compiled import format_compiled, format_digits

    if report.get("compiled"):
        lines += format_compiled(report["compiled"])
    if report.get("digits"):
        lines += format_digits(report["digits"])
    return "\n".join(lines)
