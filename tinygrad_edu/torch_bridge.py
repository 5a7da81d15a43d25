"""The same network in PyTorch: ``nn.MLP`` to a ``torch.nn.Module`` and back, weights exact.

``MLP(nin, [h1, ..., hk, nout], activation)`` becomes

    torch.nn.Sequential(Linear(nin, h1), Act(), Linear(h1, h2), Act(), ..., Linear(hk, nout))

in float64 (a Python float is an IEEE double, so no weight is rounded on the way), with

    Linear_i.weight[j, k] = L{i}.N{j}.w{k}        Linear_i.bias[j] = L{i}.N{j}.b

i.e. row j of a layer's weight matrix is neuron j. ``Act`` is ``ReLU``, ``LeakyReLU(0.01)``,
``Tanh``, ``Sigmoid`` or ``Identity`` (for ``activation="linear"``). The output layer is linear.

What differs is the shape of the data, not the numbers: the Module takes a batch, a tensor of
shape (batch, nin), and returns (batch, nout), where ``MLP`` takes one sample and returns one Value
(or a list). ``loss.backward()`` then fills ``.grad`` of each weight *tensor* and keeps no
gradient of any interior result (``retain_grad()`` asks for one).

PyTorch is optional (``pip install "tinygrad_edu[torch]"``); only these functions import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from tinygrad_edu.nn import MLP

__all__ = ["mlp_from_torch", "mlp_to_torch", "require_torch"]

# Our activation names and the torch.nn module of each (constructor arguments after the name).
_TORCH_ACTIVATIONS = {
    "relu": ("ReLU", ()),
    "leaky_relu": ("LeakyReLU", (0.01,)),
    "tanh": ("Tanh", ()),
    "sigmoid": ("Sigmoid", ()),
    "linear": ("Identity", ()),  # kept as a module, so the layers still alternate
}


def require_torch() -> Any:
    """``import torch``, or an ImportError that says how to install the CPU build."""
    try:
        import torch
    except ImportError:
        raise ImportError(
            "PyTorch is not installed; it is optional. Install the version this package is "
            'tested with: pip install "tinygrad_edu[torch]" (or pip install torch==2.13.0)'
        ) from None
    return torch


def mlp_to_torch(model: MLP) -> Any:
    """The same network as a float64 ``torch.nn.Sequential``, sharing no memory with ``model``."""
    torch = require_torch()
    modules: list[Any] = []
    last = len(model.layers) - 1
    for i, layer in enumerate(model.layers):
        linear = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
        weights = [[w.data for w in neuron.w] for neuron in layer.neurons]
        biases = [neuron.b.data for neuron in layer.neurons]
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(weights, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(biases, dtype=torch.float64))
        modules.append(linear)
        if i != last:
            name, args = _TORCH_ACTIVATIONS[model.activation]
            modules.append(getattr(torch.nn, name)(*args))
    return torch.nn.Sequential(*modules)


def mlp_from_torch(module: Any, cls: type[MLP] | None = None) -> MLP:
    """An ``MLP`` with the weights of ``module``: Linear layers with one activation between them.

    Accepts what ``mlp_to_torch`` makes: a ``torch.nn.Sequential`` (or a list of modules) of
    ``Linear`` layers, each but the last followed by the same activation (one of ReLU,
    LeakyReLU(0.01), Tanh, Sigmoid, Identity), the last one linear. Anything else raises a
    ``ValueError`` (a ``TypeError`` for a non-module) naming the first module that does not fit.
    """
    torch = require_torch()
    if cls is None:
        from tinygrad_edu.nn import MLP

        cls = MLP
    if isinstance(module, torch.nn.Linear):
        modules = [module]
    elif isinstance(module, (torch.nn.Sequential, list, tuple)):
        modules = list(module)
    else:
        raise TypeError(
            f"from_torch: expected a torch.nn.Sequential of Linear layers and activations, "
            f"got {type(module).__name__}"
        )
    linears, activation = _split_layers(torch, modules)
    for i, (a, b) in enumerate(zip(linears, linears[1:])):
        if a.out_features != b.in_features:
            raise ValueError(
                f"from_torch: Linear {i} has {a.out_features} outputs but Linear {i + 1} expects "
                f"{b.in_features} inputs"
            )
    model = cls(
        linears[0].in_features,
        [linear.out_features for linear in linears],
        activation=activation,
    )
    state: dict[str, float] = {}
    for i, linear in enumerate(linears):
        if linear.bias is None:
            raise ValueError(
                f"from_torch: Linear {i} has no bias (bias=False); MLP neurons have one"
            )
        weight = linear.weight.detach().to(torch.float64).tolist()
        bias = linear.bias.detach().to(torch.float64).tolist()
        for j, row in enumerate(weight):
            for k, w in enumerate(row):
                state[f"L{i}.N{j}.w{k}"] = w
            state[f"L{i}.N{j}.b"] = bias[j]
    model.load_state_dict(state)
    return model


def _split_layers(torch: Any, modules: list[Any]) -> tuple[list[Any], str]:
    """The Linear layers, and the one activation found between them ("relu" if there is none)."""
    by_class = {
        getattr(torch.nn, name): (ours, args) for ours, (name, args) in _TORCH_ACTIVATIONS.items()
    }
    linears: list[Any] = []
    activations: set[str] = set()
    expect_linear = True
    for position, m in enumerate(modules):
        what = f"module {position} ({type(m).__name__})"
        if expect_linear:
            if not isinstance(m, torch.nn.Linear):
                raise ValueError(f"from_torch: {what} should be a Linear layer")
            linears.append(m)
        else:
            if type(m) not in by_class:
                names = ", ".join(name for name, _ in _TORCH_ACTIVATIONS.values())
                raise ValueError(
                    f"from_torch: {what} should be an activation ({names}) between Linear layers"
                )
            ours, args = by_class[type(m)]
            if ours == "leaky_relu" and m.negative_slope != args[0]:
                raise ValueError(
                    f"from_torch: {what} has negative_slope={m.negative_slope}; MLP's leaky_relu "
                    f"uses {args[0]}"
                )
            activations.add(ours)
        expect_linear = not expect_linear
    if not linears:
        raise ValueError("from_torch: the module has no Linear layer")
    if expect_linear:  # the last module was an activation: MLP's output layer is linear
        raise ValueError(
            f"from_torch: module {len(modules) - 1} ({type(modules[-1]).__name__}) follows the "
            "last Linear layer; an MLP's output layer is linear"
        )
    if len(activations) > 1:
        raise ValueError(
            f"from_torch: the hidden layers use different activations {sorted(activations)}; "
            "an MLP uses one"
        )
    return linears, activations.pop() if activations else "relu"
