"""nn.MLP.to_torch() / MLP.from_torch(): the same weights, outputs and gradients as PyTorch's."""

from __future__ import annotations

import builtins
import random

import pytest

from tinygrad_edu import Value, nn

torch = pytest.importorskip(
    "torch", reason="PyTorch is optional: pip install 'tinygrad_edu[torch]'"
)

TOL = 1e-12


def _batch(nin: int, n: int, seed: int = 0) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(-2.0, 2.0) for _ in range(nin)] for _ in range(n)]


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid", "linear"])
def test_outputs_and_gradients_agree(activation):
    model = nn.MLP(3, [5, 4, 2], activation=activation, seed=1)
    module = model.to_torch()
    X = _batch(3, 7)
    T = _batch(2, 7, seed=1)

    # ours: one graph per sample, the MSE over every output of the batch
    model.zero_grad()
    outputs = model.forward_batch(X)
    squares = [(y - t) ** 2 for ys, ts in zip(outputs, T) for y, t in zip(ys, ts)]
    ours = Value.sum(squares) / len(squares)
    ours.backward()

    # torch: the whole batch at once
    y = module(torch.tensor(X, dtype=torch.float64))
    theirs = ((y - torch.tensor(T, dtype=torch.float64)) ** 2).mean()
    theirs.backward()

    assert y.dtype == torch.float64
    for row, ys in zip(y.tolist(), outputs):
        for a, b in zip(row, ys):
            assert abs(a - b.data) <= TOL
    assert abs(theirs.item() - ours.data) <= TOL
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    for i, (layer, linear) in enumerate(zip(model.layers, linears)):
        for j, neuron in enumerate(layer.neurons):
            for k, w in enumerate(neuron.w):
                assert abs(linear.weight.grad[j, k].item() - w.grad) <= TOL, (i, j, k)
            assert abs(linear.bias.grad[j].item() - neuron.b.grad) <= TOL, (i, j)


def test_layer_structure():
    module = nn.MLP(2, [16, 16, 1], activation="tanh").to_torch()
    kinds = [type(m).__name__ for m in module]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert [(m.in_features, m.out_features) for m in module if hasattr(m, "in_features")] == [
        (2, 16),
        (16, 16),
        (16, 1),
    ]
    assert all(p.dtype == torch.float64 for p in module.parameters())
    leaky = nn.MLP(1, [3, 1], activation="leaky_relu").to_torch()
    assert leaky[1].negative_slope == 0.01


def test_round_trip_is_exact():
    model = nn.MLP(2, [4, 3, 1], activation="sigmoid", seed=5)
    back = nn.MLP.from_torch(model.to_torch())
    assert isinstance(back, nn.MLP)
    assert repr(back) == repr(model)
    assert back.state_dict() == model.state_dict()  # exact: float64 holds every Python float


def test_to_torch_copies_the_weights():
    model = nn.MLP(1, [2, 1], seed=0)
    before = model.state_dict()
    module = model.to_torch()
    with torch.no_grad():
        module[0].weight.add_(1.0)
    assert model.state_dict() == before


def test_from_torch_reads_a_module_trained_in_torch():
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1)
    ).double()
    model = nn.MLP.from_torch(module)
    x = [0.3, -1.2]
    expected = module(torch.tensor([x], dtype=torch.float64)).item()
    assert abs(model(x).data - expected) <= TOL


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: torch.nn.ReLU(), "expected a torch.nn.Sequential"),
        (lambda: torch.nn.Sequential(), "no Linear layer"),
        (lambda: torch.nn.Sequential(torch.nn.ReLU()), "module 0 \\(ReLU\\) should be a Linear"),
        (
            lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1)),
            "module 1 \\(Linear\\) should be an activation",
        ),
        (
            lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU()),
            "follows the last Linear",
        ),
        (
            lambda: torch.nn.Sequential(
                torch.nn.Linear(2, 3), torch.nn.GELU(), torch.nn.Linear(3, 1)
            ),
            "module 1 \\(GELU\\) should be an activation",
        ),
        (
            lambda: torch.nn.Sequential(
                torch.nn.Linear(2, 3),
                torch.nn.ReLU(),
                torch.nn.Linear(3, 3),
                torch.nn.Tanh(),
                torch.nn.Linear(3, 1),
            ),
            "different activations",
        ),
        (
            lambda: torch.nn.Sequential(
                torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(4, 1)
            ),
            "Linear 0 has 3 outputs but Linear 1 expects 4",
        ),
        (
            lambda: torch.nn.Sequential(
                torch.nn.Linear(2, 3), torch.nn.LeakyReLU(0.2), torch.nn.Linear(3, 1)
            ),
            "negative_slope=0.2",
        ),
        (lambda: torch.nn.Sequential(torch.nn.Linear(2, 1, bias=False)), "no bias"),
    ],
)
def test_from_torch_names_what_does_not_fit(build, message):
    with pytest.raises((ValueError, TypeError), match=message):
        nn.MLP.from_torch(build())


def test_without_torch_the_error_says_how_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(ImportError, match=r"tinygrad_edu\[torch\]"):
        nn.MLP(1, [2, 1]).to_torch()
