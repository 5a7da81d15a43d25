"""Neural networks on scalar Values: ``Module``, ``Neuron``, ``Layer``, ``MLP``; the losses are
in ``tinygrad_edu.losses`` and re-exported here (``nn.mse_loss``).

A neuron computes ``act(w . x + b)``. Its pre-activation is ONE ``dot`` node of fan-in 2n + 1
(``engine.dot``), followed by one activation node (none for a linear neuron), so a drawing shows a
neuron as exactly two boxes. A layer is a list of neurons reading the same inputs; an MLP is a
chain of layers whose hidden layers use the activation and whose output layer is linear (identity):
``MLP(1, [16, 1])`` is the course's 2-layer ReLU regressor

    h_j = relu(w_j x + b_j),  j = 1..16          (hidden layer)
    y^  = sum_j v_j h_j + c                      (linear output layer)

trained with the MSE loss J = (1/n) sum_i (y^_i - t_i)^2.

Parameters are named ``"L{i}.N{j}.w{k}"`` / ``"L{i}.N{j}.b"`` (layer i, neuron j, weight k); the
names label the ``Parameter``s (so drawings show them), key ``state_dict()``, and name the rows
of ``named_parameters()``, as in PyTorch.

Initialisation (reproducible from ``seed``: one ``random.Random(seed)`` stream for the whole MLP,
drawn layer by layer, neuron by neuron, weights then bias):

    w ~ U(-bound, bound),  bound = gain * sqrt(3 / fan_in)      (torch's kaiming_uniform_)
    gain = sqrt(2) for relu (He / Kaiming: bound = sqrt(6 / fan_in)),
           sqrt(2 / (1 + 0.01^2)) for leaky_relu, 5/3 for tanh, 1 for sigmoid and linear
    b ~ U(-1 / sqrt(fan_in), 1 / sqrt(fan_in))                   (torch's nn.Linear bias)

The gain keeps Var(pre-activation) about the same from layer to layer: a ReLU zeroes half of its
inputs, so its weights need twice the variance (Var w = 2 / fan_in). The bias is not zero on
purpose: with b = 0 every hidden unit of a 1-D ReLU regressor would put its kink at x = 0 and the
units with w > 0 would all be the same function up to scale; small random biases spread the kinks.
"""

from __future__ import annotations

import json
import math
import numbers
import operator
import os
import random
import reprlib
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from typing import Any, cast

from tinygrad_edu import collector
from tinygrad_edu.engine import Parameter, Value, _dot_data
from tinygrad_edu.losses import (
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    huber_loss,
    l2_penalty,
    mae_loss,
    mse_loss,
    softmax,
)

__all__ = [
    "ACTIVATIONS",
    "Layer",
    "MLP",
    "Module",
    "Neuron",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge_loss",
    "huber_loss",
    "l2_penalty",
    "mae_loss",
    "mse_loss",
    "softmax",
]

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "linear")

# torch.nn.init.calculate_gain for each activation (leaky_relu with its default slope 0.01).
_GAIN = {
    "relu": math.sqrt(2.0),
    "leaky_relu": math.sqrt(2.0 / (1.0 + 0.01**2)),
    "tanh": 5.0 / 3.0,
    "sigmoid": 1.0,
    "linear": 1.0,
}

STATE_FORMAT = "tinygrad_edu.state_dict"
STATE_VERSION = 1

Number = float | int
Sample = Sequence["Value | Number"] | Value | Number


# ----------------------------------------------------------------------------------------------
# Module
# ----------------------------------------------------------------------------------------------


class Module:
    """The base of every model: parameters, gradients, state and (de)serialisation.

    Subclasses implement ``forward(x)``. The default ``named_parameters()`` walks the instance's
    attributes in the order they were set, finding ``Parameter``s, sub-``Module``s and lists or
    tuples of them (named ``attr``, ``attr.0``, ``attr.0.w`` ...), as PyTorch's registration does;
    ``Neuron``, ``Layer`` and ``MLP`` override it with the shorter ``L0.N3.w1`` names.
    """

    def forward(self, x: Any) -> Any:
        """The model applied to one sample; subclasses define it (``model(x)`` calls it)."""
        raise NotImplementedError(f"{type(self).__name__}.forward is not implemented")

    def __call__(self, x: Any) -> Any:
        paused = collector.pause()  # the graph has no cycles for the collector to look for
        try:
            return self.forward(x)
        finally:
            collector.resume(paused)

    def forward_batch(self, X: Sequence[Any]) -> list[Any]:
        """Apply the model to each sample of a batch: ``[self(x) for x in X]``."""
        if isinstance(X, (Value, numbers.Real)):
            raise TypeError(
                f"{type(self).__name__}.forward_batch: expected a list of samples, got a single "
                f"{type(X).__name__}; call the model directly for one sample"
            )
        # The outputs are matched to targets by position: a set or a dict has no order to keep.
        if not isinstance(X, Iterable) or isinstance(
            X, (str, bytes, bytearray, memoryview, Set, Mapping)
        ):
            raise TypeError(
                f"{type(self).__name__}.forward_batch: expected a list of samples, "
                f"got {type(X).__name__} {reprlib.repr(X)}"
            )
        paused = collector.pause()
        try:
            return self._forward_samples(X)
        finally:
            collector.resume(paused)

    def _forward_samples(self, X: Iterable[Any]) -> list[Any]:
        """``[self(x) for x in X]``, for a batch already checked; MLP reads its weights once."""
        return [self(x) for x in X]

    # -- parameters ----------------------------------------------------------------------------

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """(name, parameter) pairs in a fixed order (the order the attributes were set).

        A parameter reachable twice (a shared weight) is listed once, under its first name.
        """
        found: list[tuple[str, Parameter]] = []
        seen: set[int] = set()
        for name, value in vars(self).items():
            for full_name, p in _walk(name, value):
                if id(p) not in seen:
                    seen.add(id(p))
                    found.append((full_name, p))
        return found

    def parameters(self) -> list[Parameter]:
        """The learnable Parameters, in the order of ``named_parameters()``."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 (leaf gradients accumulate across backward())."""
        for p in self.parameters():
            p.grad = 0.0

    def num_parameters(self) -> int:
        """How many scalars the model learns."""
        return len(self.named_parameters())

    # -- state ---------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, float]:
        """{name: value} of every parameter, a new plain dict of floats (JSON-ready)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Set every parameter from ``state`` ({name: number}).

        Everything is checked first: ``state`` is a dict, its keys are exactly the model's
        parameter names (same names = same shapes, since each scalar has its own name), and every
        value is a finite real number. Only then are the parameters changed, so on any error
        (``ValueError`` / ``TypeError`` naming the key) the model is left exactly as it was.
        Gradients are not touched.
        """
        named = self.named_parameters()
        values = _validated_state(state, [name for name, _ in named], repr(self))
        for (_, p), v in zip(named, values):
            p.data = v

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the parameters to a JSON file (never pickle: a model file cannot run code).

        Format: ``{"format": "tinygrad_edu.state_dict", "version": 1, "model": repr(model),
        "params": {name: float}}``. The file is written to a temporary name and then renamed, so
        a crash never leaves half a file; a failed save leaves no temporary file either.
        """
        state = self.state_dict()
        bad = [name for name, v in state.items() if not math.isfinite(v)]
        if bad:
            raise ValueError(
                f"save: parameter {bad[0]!r} is {state[bad[0]]!r}; JSON needs finite numbers"
            )
        document = {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "model": repr(self),
            "params": state,
        }
        tmp = f"{os.fspath(path)}.tmp"
        f = open(tmp, "w", encoding="utf-8")  # if this fails, there is nothing to clean up
        try:
            with f:
                json.dump(document, f, indent=1, allow_nan=False)
                f.write("\n")
            os.replace(tmp, path)
        except BaseException:  # a failed write or rename (path is a directory): no stray file
            os.remove(tmp)
            raise

    def load(self, path: str | os.PathLike[str]) -> Module:
        """Read parameters written by ``save`` into this model; returns the model.

        Raises ``ValueError`` (naming the file and what is wrong) if the file is not valid JSON,
        is not a tinygrad_edu state file of a known version, was saved from a different
        architecture (``"model"`` differs from ``repr(self)``), or its parameters do not match
        (see ``load_state_dict``). On any error the model is unchanged.
        """
        where = os.fspath(path)
        with open(where, "rb") as f:
            raw = f.read()
        try:
            document = json.loads(
                raw.decode("utf-8"),
                parse_constant=_reject_constant,
                object_pairs_hook=_unique_keys,
            )
        except UnicodeDecodeError as e:
            raise ValueError(f"load: {where} is not UTF-8 text, so not a JSON file ({e})") from None
        except (json.JSONDecodeError, ValueError) as e:
            raise ValueError(f"load: {where} is not valid JSON ({e})") from None
        except RecursionError:  # json parses nested arrays by recursion
            raise ValueError(
                f"load: {where} is not a state file: its JSON is nested too deeply to parse"
            ) from None
        if not isinstance(document, dict) or document.get("format") != STATE_FORMAT:
            raise ValueError(
                f"load: {where} is not a tinygrad_edu state file (expected a JSON object with "
                f'"format": "{STATE_FORMAT}")'
            )
        version = document.get("version")
        if isinstance(version, bool) or version != STATE_VERSION:
            raise ValueError(
                f"load: {where} has version {version!r}; "
                f"this tinygrad_edu reads version {STATE_VERSION}"
            )
        saved_model = document.get("model")
        if saved_model is not None and saved_model != repr(self):
            raise ValueError(
                f"load: {where} was saved from {saved_model!r}, but this model is {self!r}"
            )
        if "params" not in document:
            raise ValueError(f'load: {where} has no "params"')
        try:
            self.load_state_dict(document["params"])
        except (ValueError, TypeError) as e:
            raise type(e)(f"load: {where}: {e}") from None
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_parameters()} parameters)"


def _walk(name: str, value: object) -> Iterator[tuple[str, Parameter]]:
    """The parameters reachable from one attribute, with dotted names."""
    if isinstance(value, Parameter):
        yield name, value
    elif isinstance(value, Module):
        for sub, p in value.named_parameters():
            yield f"{name}.{sub}", p
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk(f"{name}.{i}", item)


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not a finite number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a key given twice (``json`` would keep the last)."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"key {key!r} appears twice")
        document[key] = value
    return document


def _validated_state(state: object, names: list[str], model: str) -> list[float]:
    """Check a state dict against the parameter names; return the values in ``names`` order."""
    if not isinstance(state, dict):
        raise TypeError(
            f"load_state_dict: expected a dict {{name: float}}, got {type(state).__name__}"
        )
    missing = [n for n in names if n not in state]
    expected = set(names)
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} key(s) {_preview(missing)}")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} key(s) {_preview(unexpected)}")
        raise ValueError(
            f"load_state_dict: keys do not match the model {model} "
            f"({len(names)} parameters, state has {len(state)}): " + "; ".join(parts)
        )
    values = []
    for n in names:
        v = state[n]
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(
                f"load_state_dict: {n!r} must be a number, got {type(v).__name__} {v!r}"
            )
        try:
            v = float(v)
        except OverflowError:  # an int too large for a float
            v = math.inf
        if not math.isfinite(v):
            raise ValueError(f"load_state_dict: {n!r} must be finite, got {v!r}")
        values.append(v)
    return values


def _preview(keys: list[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(k) for k in keys[:limit])
    return f"[{shown}{', ...' if len(keys) > limit else ''}]"


# ----------------------------------------------------------------------------------------------
# Neuron, Layer, MLP
# ----------------------------------------------------------------------------------------------


def _rng(seed: int | random.Random) -> random.Random:
    """A seed gives a fresh stream; a ``random.Random`` is used as is (shared by an MLP)."""
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int or a random.Random, got {seed!r}")
    return random.Random(int(seed))


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {ACTIVATIONS}")
    return activation


def _check_width(op: str, name: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{op}: {name} must be a positive int, got {n!r}")
    return int(n)


def _inputs(op: str, x: Sample, nin: int) -> list[Value]:
    """One sample as a list of nin Values (a bare number/Value is accepted when nin == 1).

    Plain numbers become leaves here, once, rather than once per neuron in ``dot``: labelled
    ``x0, x1, ...`` (so drawings show them as the model's inputs), with ``requires_grad=False``
    (data, not something to learn).
    """
    if isinstance(x, (Value, numbers.Real)):
        xs: Sequence[Any] = (x,)
    elif isinstance(x, Sequence) and not isinstance(x, (str, bytes, bytearray, memoryview)):
        xs = x  # bytes would be read as character codes; a set, unordered, is no Sequence
    elif getattr(x, "ndim", None) == 1:  # a 1-D NumPy array
        xs = cast("Sequence[Any]", x)
    else:
        what = "a number, a Value or a list of one" if nin == 1 else f"a list of {nin} numbers"
        raise TypeError(f"{op}: a sample must be {what}, got {type(x).__name__} {reprlib.repr(x)}")
    if len(xs) != nin:
        raise ValueError(f"{op}: expected {nin} input(s), got {len(xs)}")
    try:
        return [
            v if isinstance(v, Value) else Value(v, label=f"x{i}", requires_grad=False)
            for i, v in enumerate(xs)
        ]
    except TypeError:  # not a real number: name the input
        bad = [(i, v) for i, v in enumerate(xs) if not isinstance(v, (Value, numbers.Real))]
        if not bad:
            raise
        i, v = bad[0]
        raise TypeError(
            f"{op}: input x{i} must be a number or a Value, got {type(v).__name__} {v!r}"
        ) from None


# The activation applied to a neuron's pre-activation node (None: linear, no node).
_ACTIVATE = {
    "relu": Value.relu,
    "leaky_relu": Value.leaky_relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": None,
}


# A layer's neurons as one forward pass reads them: (weights, their data, bias, its data,
# activation) each. Reading the data here, once per call (once per batch in MLP.forward_batch),
# rather than in every dot, is what makes a layer cheaper than its neurons called one by one.
_data = operator.attrgetter("data")
_Prepared = list[tuple[list[Parameter], list[float], Parameter, float, Any]]


def _prepare(neurons: Sequence[Neuron]) -> _Prepared:
    # A loop and map(), not comprehensions: a compiler's trace allows these reads by the name of
    # the function that makes them (compiler.tracing._NN_READERS).
    prepared: _Prepared = []
    for n in neurons:
        prepared.append((n.w, list(map(_data, n.w)), n.b, n.b.data, _ACTIVATE[n.activation]))
    return prepared


def _run_layer(prepared: _Prepared, x: list[Value]) -> list[Value]:
    """act_j(w_j . x + b_j) for each prepared neuron j; x's data is read once for all of them."""
    x_data = list(map(_data, x))
    out = []
    for ws, w_data, b, b_data, activate in prepared:
        if len(ws) != len(x):  # a mismatch would silently pair the wrong gradients
            raise ValueError(f"dot: length mismatch, {len(ws)} weights and {len(x)} inputs")
        pre = _dot_data(ws, w_data, x, x_data, b, b_data)
        out.append(pre if activate is None else activate(pre))
    return out


class Neuron(Module):
    """act(w . x + b): one ``dot`` node (fan-in 2 nin + 1) and one activation node.

    Args:
        nin: number of inputs.
        activation: one of ``ACTIVATIONS``; "linear" adds no node.
        seed: an int, or a ``random.Random`` to draw from (an MLP shares one).
        name: prefix of the parameter labels (``"L0.N3"`` gives ``"L0.N3.w0"`` ...).
    """

    def __init__(
        self,
        nin: int,
        activation: str = "relu",
        seed: int | random.Random = 0,
        name: str = "",
    ) -> None:
        self.nin = _check_width("Neuron", "nin", nin)
        self.activation = _check_activation(activation)
        rng = _rng(seed)
        prefix = f"{name}." if name else ""
        w_bound = _GAIN[activation] * math.sqrt(3.0 / nin)
        b_bound = 1.0 / math.sqrt(nin)
        self.w = [
            Parameter(rng.uniform(-w_bound, w_bound), label=f"{prefix}w{k}") for k in range(nin)
        ]
        self.b = Parameter(rng.uniform(-b_bound, b_bound), label=f"{prefix}b")

    def forward(self, x: Sample) -> Value:
        """act(sum_k w_k x_k + b) for one sample x of length nin."""
        return self._apply(_inputs("Neuron", x, self.nin))

    def _apply(self, x: list[Value]) -> Value:
        """The forward pass on inputs already checked by the caller."""
        return _run_layer(_prepare([self]), x)[0]

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        return [(f"w{k}", w) for k, w in enumerate(self.w)] + [("b", self.b)]

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, {self.activation})"


class Layer(Module):
    """nout neurons reading the same nin inputs; ``__call__`` always returns a list of nout Values.

    (Always a list, also for nout == 1: micrograd's Layer returns a bare Value then, and the next
    layer, which iterates over its input, breaks.)
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "relu",
        seed: int | random.Random = 0,
        name: str = "",
    ) -> None:
        self.nin = _check_width("Layer", "nin", nin)
        self.nout = _check_width("Layer", "nout", nout)
        self.activation = _check_activation(activation)
        rng = _rng(seed)
        prefix = f"{name}." if name else ""
        self.neurons = [Neuron(nin, activation, rng, name=f"{prefix}N{j}") for j in range(nout)]

    def forward(self, x: Sample) -> list[Value]:
        """[act(W x + b)]_j: each neuron on the same sample; always a list, even of length 1."""
        return self._apply(_inputs("Layer", x, self.nin))

    def _apply(self, x: list[Value]) -> list[Value]:
        return _run_layer(_prepare(self.neurons), x)

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        return [
            (f"N{j}.{name}", p)
            for j, neuron in enumerate(self.neurons)
            for name, p in neuron.named_parameters()
        ]

    def __repr__(self) -> str:
        return f"Layer({self.nin} -> {self.nout}, {self.activation})"


class MLP(Module):
    """A multi-layer perceptron: hidden layers with ``activation``, then a linear output layer.

    ``MLP(nin, [h1, ..., hk, nout])`` has layers nin -> h1 -> ... -> hk -> nout. Calling it on one
    sample (a list of nin numbers/Values, or a bare number when nin == 1) returns one Value when
    nout == 1, else a list of nout Values. ``MLP(1, [16, 1])`` is the course's 2-layer ReLU
    regressor; ``MLP(2, [16, 16, 1])`` is micrograd's moons classifier.

    Args:
        nin: number of inputs.
        nouts: the widths of the layers, the last one being the output size.
        activation: the hidden layers' activation (one of ``ACTIVATIONS``).
        seed: the whole network is drawn from one ``random.Random(seed)``.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        seed: int | random.Random = 0,
    ) -> None:
        self.nin = _check_width("MLP", "nin", nin)
        if isinstance(nouts, numbers.Integral) or not nouts:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer widths, got {nouts!r}")
        sizes = [self.nin] + [_check_width("MLP", "layer width", n) for n in nouts]
        self.activation = _check_activation(activation)
        rng = _rng(seed)
        last = len(nouts) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                activation="linear" if i == last else activation,
                seed=rng,
                name=f"L{i}",
            )
            for i in range(len(nouts))
        ]

    @property
    def nout(self) -> int:
        return self.layers[-1].nout

    def forward(self, x: Sample) -> Value | list[Value]:
        """The layers in turn: h_1 = act(W_1 x + b_1), ..., output W_L h + b_L (linear).

        Returns one Value when the output layer has one neuron, else the list of outputs.
        """
        return self._run([_prepare(layer.neurons) for layer in self.layers], x)

    def _forward_samples(self, X: Iterable[Any]) -> list[Any]:
        # Every weight's data is read once for the whole batch instead of once per sample: the
        # weights cannot change between the samples of one call (bench: moons). A subclass with
        # its own forward or __call__ gets it called per sample, as Module does.
        cls = type(self)
        if cls.forward is not MLP.forward or cls.__call__ is not Module.__call__:
            return super()._forward_samples(X)
        layers = [_prepare(layer.neurons) for layer in self.layers]
        return [self._run(layers, x) for x in X]

    def _run(self, layers: list[_Prepared], x: Sample) -> Value | list[Value]:
        out = _inputs("MLP", x, self.nin)
        for prepared in layers:
            out = _run_layer(prepared, out)
        return out[0] if len(out) == 1 else out

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        return [
            (f"L{i}.{name}", p)
            for i, layer in enumerate(self.layers)
            for name, p in layer.named_parameters()
        ]

    def to_torch(self) -> Any:
        """The same network as a float64 ``torch.nn.Sequential`` (Linear layers and activations).

        Needs PyTorch (optional: ``pip install "tinygrad_edu[torch]"``); the layout is in
        ``tinygrad_edu.torch_bridge``. Outputs and gradients agree with this MLP's to ~1e-15.
        """
        from tinygrad_edu.torch_bridge import mlp_to_torch

        return mlp_to_torch(self)

    @classmethod
    def from_torch(cls, module: Any) -> MLP:
        """An MLP with the weights of a torch Module shaped as ``to_torch`` makes them.

        Raises ``ValueError`` naming the first module that does not fit that shape.
        """
        from tinygrad_edu.torch_bridge import mlp_from_torch

        return mlp_from_torch(module, cls)

    def __repr__(self) -> str:
        hidden = ", ".join(f"{layer.nout} {layer.activation}" for layer in self.layers[:-1])
        middle = f" -> [{hidden}]" if hidden else ""
        return f"MLP({self.nin}{middle} -> {self.nout})"
