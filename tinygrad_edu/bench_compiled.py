"""The bench workloads of ``tinygrad_edu.compile``: the moons step and a digits-shaped step.

``compiled`` times micrograd's moons step four ways in turns: eager, the python and the numpy
backend, and the float floor (``bench.FloatMLP``); where PyTorch is installed (it is optional), a
fifth: the same step vectorized in PyTorch (:class:`TorchMLP`), which the numpy backend is measured
against. ``digits`` times one step of a digits-shaped
classifier (64 inputs, ``MLP(64, [32, 10])``, softmax cross-entropy, batches of 64; the data are
generated in code): eager, the numpy backend and :class:`FloatSoftmaxMLP`, its float floor. Its
graph (about 300,000 edges) is past the python backend's limit, which the report shows.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from . import compiler, nn
from .bench import (
    L2_WEIGHT,
    LEARNING_RATE,
    BenchConfig,
    FloatMLP,
    _engine_step,
    _moons_setup,
    _ms,
    time_interleaved,
)
from .engine import Value
from .torch_bridge import require_torch

__all__ = ["FloatSoftmaxMLP", "TorchMLP", "bench_compiled", "bench_digits", "digits_problem"]

#: PyTorch runs on one thread in the bench: everything it is compared with runs on one core
TORCH_THREADS = 1


# ----------------------------------------------------------------------------------------------
# The moons step compiled (tinygrad_edu.compile), against eager and the floor
# ----------------------------------------------------------------------------------------------


def _torch() -> Any | None:
    """The ``torch`` module, or None when it is not installed (or fails to import)."""
    try:
        return require_torch()
    except ImportError:
        return None


@contextlib.contextmanager
def _threads(torch: Any | None, n: int) -> Iterator[None]:
    """PyTorch on ``n`` threads inside the block (nothing without PyTorch); its setting after."""
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class TorchMLP:
    """The moons step written vectorized in PyTorch: float64 tensors, matmuls, autograd.

    The same network and loss as ``bench.FloatMLP`` (``a_l = relu(a_{l-1} W_l^T + b_l)``, identity
    at the output; ``J = mean_i relu(1 - y_i s_i) + alpha sum_w w^2``), the batch as one matrix,
    ``J.backward()``, then SGD under ``torch.no_grad()``. The data become tensors once, as a
    PyTorch loop keeps its dataset (the compiled step reads Python lists at every call).
    """

    def __init__(
        self, torch: Any, floor: FloatMLP, X: Sequence[Sequence[float]], ys: Sequence[int]
    ):
        self.torch = torch
        self.layers = [
            (
                torch.tensor(rows, dtype=torch.float64, requires_grad=True),
                torch.tensor(bs, dtype=torch.float64, requires_grad=True),
            )
            for rows, bs in zip(floor.weights, floor.biases)
        ]
        self.params = [t for layer in self.layers for t in layer]
        self.X = torch.tensor(X, dtype=torch.float64)  # (n, 2)
        self.y = torch.tensor(ys, dtype=torch.float64)  # (n,), -1 or +1

    def loss(self) -> Any:
        """The loss J as a 0-d tensor, with its graph."""
        torch = self.torch
        a = self.X
        last = len(self.layers) - 1
        for layer, (W, b) in enumerate(self.layers):
            z = torch.addmm(b, a, W.T)  # b + a W^T, one row per sample
            a = z if layer == last else torch.relu(z)
        hinge = torch.relu(1.0 - self.y * a[:, 0]).mean()
        return hinge + L2_WEIGHT * sum((p * p).sum() for p in self.params)

    def step(self) -> float:
        """One SGD step; returns the loss before it."""
        loss = self.loss()
        loss.backward()
        with self.torch.no_grad():
            for p in self.params:
                p -= LEARNING_RATE * p.grad
                p.grad = None
        return float(loss.item())


def bench_compiled(config: BenchConfig) -> dict[str, Any]:
    """Seconds per moons step: eager, the python and numpy backends, the floor, and PyTorch
    where it is installed, in turns.

    Also each backend's compile time (trace and compile, once per input shape), how many steps of
    eager training it takes to pay that back, and whether the gradients agree with eager's at the
    starting point (python: bit for bit; numpy: the largest difference). PyTorch runs on
    ``TORCH_THREADS`` threads during the timing (its setting is restored after).
    """
    X, ys, model = _moons_setup(config)
    params = model.parameters()
    floor = FloatMLP.from_model(model)
    torch = _torch()
    torch_model = None if torch is None else TorchMLP(torch, floor, X, ys)

    def loss_fn(X: list[list[float]], ys: list[int]) -> Value:
        return nn.hinge_loss(model.forward_batch(X), ys) + nn.l2_penalty(params, L2_WEIGHT)

    model.zero_grad()
    eager = loss_fn(X, ys)
    eager.backward()
    eager_grads = [p.grad for p in params]
    results: dict[str, Any] = {"points": len(X), "first_loss": {"eager": eager.data}}
    results["first_loss"]["floor"] = floor.loss_and_grads(X, ys)[0]
    if torch_model is not None:
        results["first_loss"]["torch"] = float(torch_model.loss().item())
    steps = {}
    for backend in compiler.BACKENDS:
        step = steps[backend] = compiler.compile(loss_fn, params, backend=backend)
        model.zero_grad()
        results["first_loss"][backend] = step(X, ys)
        grads = [p.grad for p in params]
        results[f"{backend}_compile_s"] = step.compile_seconds
        results[f"{backend}_max_grad_diff"] = max(abs(a - b) for a, b in zip(grads, eager_grads))
        results["edges"] = step.edges
    results["python_grads_equal"] = results["python_max_grad_diff"] == 0.0

    def compiled(backend: str) -> Callable[[], float]:
        step = steps[backend]

        def one_step() -> float:
            for p in params:  # model.zero_grad() walks the model and names every parameter
                p.grad = 0.0
            loss = step(X, ys)
            for p in params:
                p.data -= LEARNING_RATE * p.grad
            return loss

        return one_step

    fns: dict[str, tuple[Callable[[], object], int]] = {
        "eager": (lambda: _engine_step(model, params, X, ys), config.per_round),
        "python": (compiled("python"), config.per_round),
        "numpy": (compiled("numpy"), config.per_round),
        "floor": (lambda: floor.step(X, ys), config.per_round),
    }
    results["torch_version"] = None if torch is None else str(torch.__version__)
    results["torch_threads"] = None if torch is None else TORCH_THREADS
    results["torch_s"] = results["torch_ratio_floor"] = results["numpy_over_torch"] = None
    if torch_model is not None:
        fns["torch"] = (torch_model.step, config.per_round)
    with _threads(torch, TORCH_THREADS):
        medians = time_interleaved(fns, config.rounds)
    for name, seconds in medians.items():
        results[f"{name}_s"] = seconds
        results[f"{name}_ratio_floor"] = seconds / medians["floor"]
    if torch_model is not None:
        results["numpy_over_torch"] = medians["numpy"] / medians["torch"]
    for backend in compiler.BACKENDS:
        saved = medians["eager"] - medians[backend]
        compile_s = results[f"{backend}_compile_s"]
        results[f"{backend}_payback_steps"] = compile_s / saved if saved > 0 else None
    return results


def format_compiled(compiled: dict[str, Any]) -> list[str]:
    losses = compiled["first_loss"]
    lines = [
        "",
        f"moons step compiled ({compiled['points']} points, {compiled['edges']:,} edges; "
        "in turns, median)",
        f"  {'implementation':<16}{'time/step':>12}{'vs floor':>10}{'compile':>10}"
        f"{'pays back after':>18}{'first loss':>14}",
    ]
    for name, key in (("eager", "eager"), ("python", "python"), ("numpy", "numpy")):
        compile_text, payback_text = "", ""
        if key != "eager":
            compile_text = f"{compiled[f'{key}_compile_s']:.2f} s"
            payback = compiled[f"{key}_payback_steps"]
            payback_text = "never" if payback is None else f"{payback:.0f} steps"
        lines.append(
            f"  {name:<16}{_ms(compiled[f'{key}_s']):>12}"
            f"{compiled[f'{key}_ratio_floor']:>9.2f}x{compile_text:>10}{payback_text:>18}"
            f"{losses[key]:>14.6f}"
        )
    if compiled["torch_s"] is not None:
        lines.append(
            f"  {'pytorch':<16}{_ms(compiled['torch_s']):>12}"
            f"{compiled['torch_ratio_floor']:>9.2f}x{'':>28}{losses['torch']:>14.6f}"
        )
    lines += [
        f"  {'pure floats':<16}{_ms(compiled['floor_s']):>12}{1.0:>9.2f}x{'':>28}"
        f"{losses['floor']:>14.6f}",
        f"  python / floor = {compiled['python_ratio_floor']:.2f}x (target <= 0.8x), gradients "
        f"equal to eager's: {'yes' if compiled['python_grads_equal'] else 'NO'}",
        f"  numpy / floor = {compiled['numpy_ratio_floor']:.2f}x (target <= 0.15x), largest "
        f"gradient difference {compiled['numpy_max_grad_diff']:.1e}",
    ]
    if compiled["torch_s"] is None:
        lines.append("  pytorch not installed: pip install 'tinygrad_edu[torch]' to compare")
    else:
        lines += [
            f"  numpy / pytorch = {compiled['numpy_over_torch']:.2f}x (target <= 2x); pytorch's "
            f"first loss off the floor's by {abs(losses['torch'] - losses['floor']):.1e}",
            f"  (PyTorch {compiled['torch_version']}: the step vectorized, float64 matmuls and "
            f"autograd, on {compiled['torch_threads']} thread as the others)",
        ]
    return lines


# ----------------------------------------------------------------------------------------------
# A digits-shaped step: 64 inputs, 10 classes, softmax cross-entropy
# ----------------------------------------------------------------------------------------------

DIGITS_SAMPLES = 1797  # as sklearn's digits: 8 x 8 images, 10 classes
DIGITS_LAYERS = (32, 10)


def digits_problem(n: int = DIGITS_SAMPLES, seed: int = 0) -> tuple[list[list[float]], list[int]]:
    """Digits-shaped data made in code: 10 random 8 x 8 prototypes in [0, 1], each sample one of
    them with noise (clipped to [0, 1]); labels 0..9 in turn."""
    rng = random.Random(seed)
    prototypes = [[rng.random() for _ in range(64)] for _ in range(10)]
    X = [
        [min(1.0, max(0.0, p + rng.gauss(0.0, 0.2))) for p in prototypes[i % 10]] for i in range(n)
    ]
    return X, [i % 10 for i in range(n)]


class FloatSoftmaxMLP(FloatMLP):
    """The digits model in plain floats with a hand-written backward pass: the floor.

    For logits z and label t, ``J = (1/n) sum_i (logsumexp(z_i) - z_i,t)``, so
    ``dJ/dz_i,k = (softmax(z_i)_k - [k == t]) / n``; from there back as in ``FloatMLP``.
    """

    def _output(self, a: list[float], t: int, n: int) -> tuple[float, list[float]]:
        m = max(a)
        exps = [math.exp(zk - m) for zk in a]
        total = sum(exps)
        return (m + math.log(total) - a[t]) / n, [
            (e / total - (k == t)) / n for k, e in enumerate(exps)
        ]

    def loss_and_grads(
        self, X: Sequence[Sequence[float]], ys: Sequence[int]
    ) -> tuple[float, list[list[list[float]]], list[list[float]]]:
        return self._backprop(X, ys)  # no L2 term


def bench_digits(config: BenchConfig) -> dict[str, Any]:
    """Seconds per step (one batch) of the digits-shaped workload: eager, numpy, the floor."""
    X, ys = digits_problem(seed=config.seed)
    Xb, yb = X[: config.digits_batch], ys[: config.digits_batch]
    model = nn.MLP(64, list(DIGITS_LAYERS), seed=config.seed)
    params = model.parameters()
    floor = FloatSoftmaxMLP.from_model(model)

    def loss_fn(Xb: list[list[float]], yb: list[int]) -> Value:
        return nn.cross_entropy(model.forward_batch(Xb), yb)

    def eager_step() -> float:
        loss = loss_fn(Xb, yb)
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= LEARNING_RATE * p.grad
        return loss.data

    numpy_step = compiler.compile(loss_fn, params, backend="numpy")
    results: dict[str, Any] = {
        "batch": len(Xb),
        "steps_per_epoch": math.ceil(len(X) / config.digits_batch),
        "first_loss": {"floor": floor.loss_and_grads(Xb, yb)[0], "numpy": numpy_step(Xb, yb)},
        "numpy_compile_s": numpy_step.compile_seconds,
        "edges": numpy_step.edges,
        "python_refuses": numpy_step.edges > compiler.MAX_PYTHON_EDGES,
    }
    results["first_loss"]["eager"] = eager_step()

    def compiled_step() -> float:
        for p in params:
            p.grad = 0.0
        loss = numpy_step(Xb, yb)
        for p in params:
            p.data -= LEARNING_RATE * p.grad
        return loss

    fns: dict[str, tuple[Callable[[], object], int]] = {
        "eager": (eager_step, 1),
        "numpy": (compiled_step, config.per_round),
        "floor": (lambda: floor.step(Xb, yb), 1),
    }
    medians = time_interleaved(fns, config.rounds)
    for name, seconds in medians.items():
        results[f"{name}_s"] = seconds
        results[f"{name}_ratio_floor"] = seconds / medians["floor"]
    return results


def format_digits(digits: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"digits-shaped step (batch of {digits['batch']}, MLP [64, 32, 10], softmax "
        f"cross-entropy, {digits['edges']:,} edges; {digits['steps_per_epoch']} steps an epoch)",
        f"  {'implementation':<16}{'time/step':>12}{'vs floor':>10}{'first loss':>14}",
    ]
    for name, key in (("eager", "eager"), ("numpy", "numpy"), ("pure floats", "floor")):
        lines.append(
            f"  {name:<16}{_ms(digits[f'{key}_s']):>12}{digits[f'{key}_ratio_floor']:>9.2f}x"
            f"{digits['first_loss'][key]:>14.6f}"
        )
    lines.append(f"  eager / floor = {digits['eager_ratio_floor']:.2f}x (target <= 6x)")
    lines.append(
        f"  numpy / floor = {digits['numpy_ratio_floor']:.2f}x (target <= 0.2x); compile "
        f"{digits['numpy_compile_s']:.2f} s; python backend: "
        + ("refused (past its edge limit)" if digits["python_refuses"] else "within its limit")
    )
    return lines
