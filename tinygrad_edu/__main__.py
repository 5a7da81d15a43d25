"""The command line: ``python -m tinygrad_edu demo`` (also installed as ``tinygrad-edu``).

``bench`` measures speed and memory (see ``tinygrad_edu.bench``).

``demo`` runs the course's example end to end in a few seconds: a 2-layer ReLU regressor
(``MLP(1, [16, 1])``, 49 parameters) fitted with MSE to noisy samples of y = sin(2x) + 0.3x, with a
train/validation/test split, mini-batches and a chosen optimizer. It prints the final mean squared
error on each split and writes four pictures:

- ``loss_curves.png``: training loss per step and train/validation loss per epoch;
- ``fit.png``: the learnt curve over the three splits and the true curve;
- ``trajectories.png``: SGD, momentum, RMSprop, Adam, L-BFGS and Newton on the Rosenbrock function;
- ``graph.svg``: the computation graph of one sample's loss, each neuron collapsed into one box
  (``graph.dot``, the Graphviz source, when the Graphviz ``dot`` program is not installed).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "build_parser", "OPTIMIZERS"]

# name -> (display name, default learning rate, keyword arguments). The learning rates are the ones
# that fit the demo's regressor well in the default 100 epochs of batch size 16 (tuned by hand;
# adaptive methods take larger steps early, plain SGD needs a smaller rate to stay stable).
OPTIMIZERS: dict[str, tuple[str, float, dict[str, Any]]] = {
    "adam": ("Adam", 0.02, {}),
    "sgd": ("SGD", 0.05, {}),
    "momentum": ("SGD", 0.02, {"momentum": 0.9}),
    "rmsprop": ("RMSprop", 0.005, {}),
    "adagrad": ("Adagrad", 0.1, {}),
}


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {n}")
    return n


MIN_SAMPLES = 10
"""The smallest --samples whose 60/20/20 split leaves two points each for validation and test."""


def _sample_count(text: str) -> int:
    n = _positive_int(text)
    if n < MIN_SAMPLES:
        raise argparse.ArgumentTypeError(
            f"expected at least {MIN_SAMPLES} samples (60/20/20 train/validation/test), got {n}"
        )
    return n


def _batch_size(text: str) -> int | None:
    if text.lower() == "full":
        return None
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or 'full' (whole training set), got {text!r}"
        ) from None


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (x > 0 and math.isfinite(x)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return x


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m tinygrad_edu`` (every command has ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="tinygrad-edu",
        description="tinygrad_edu: a scalar autograd engine for learning backpropagation.",
        epilog="Run 'tinygrad-edu demo --help' for the demo's options.",
    )
    commands = parser.add_subparsers(dest="command", metavar="command")
    demo = commands.add_parser(
        "demo",
        help="train the course's 2-layer ReLU regressor and write its figures",
        description=(
            "Train MLP(1, [16, 1]) (ReLU hidden layer, linear output) with MSE on noisy samples of "
            "y = sin(2x) + 0.3x, split 60/20/20 into train/validation/test, in mini-batches. "
            "Prints the final MSE of each split and writes the loss curves, the fit, optimizer "
            "trajectories on the Rosenbrock function and the computation graph of one sample's "
            "loss into --out."
        ),
    )
    demo.add_argument(
        "--optimizer",
        choices=sorted(OPTIMIZERS),
        default="adam",
        help="update rule; 'momentum' is SGD with momentum 0.9 (default: adam)",
    )
    demo.add_argument(
        "--batch-size",
        type=_batch_size,
        default=16,
        help="samples per step: 1 is stochastic, 'full' is batch gradient descent (default: 16)",
    )
    demo.add_argument(
        "--epochs", type=_positive_int, default=100, help="passes over the data (default: 100)"
    )
    demo.add_argument(
        "--lr",
        type=_positive_float,
        default=None,
        help="learning rate (default: a rate that works for the chosen optimizer: "
        + ", ".join(f"{k} {v[1]:g}" for k, v in sorted(OPTIMIZERS.items()))
        + ")",
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the data, split, batches and weights (default: 0)",
    )
    demo.add_argument(
        "--samples",
        type=_sample_count,
        default=200,
        help=f"size of the dataset before the split, at least {MIN_SAMPLES} (default: 200)",
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("tinygrad_edu_demo"),
        help="folder for the figures, created if missing (default: ./tinygrad_edu_demo)",
    )
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    bench = commands.add_parser(
        "bench",
        help="time and measure the engine against micrograd and a pure-float floor",
        description=(
            "Speed and memory benchmarks, each in this one process: micrograd's moons training "
            "step with tinygrad_edu, with micrograd 0.1.0 (if installed: pip install "
            "'tinygrad_edu[bench]') and with plain floats and a hand-written backward (the floor); "
            "a 1,000,000-op chain, forward vs backward; bytes per graph node and a check that "
            "dropping a loss frees its graph; the moons step and a digits-shaped step compiled "
            "(tinygrad_edu.compile) with each backend. Prints medians and ratios."
        ),
    )
    bench.add_argument(
        "--quick", action="store_true", help="small sizes and few repeats: runs in a few seconds"
    )
    bench.add_argument("--json", action="store_true", help="print the numbers as JSON instead")
    bench.add_argument(
        "--only",
        choices=("moons", "chain", "memory", "compiled", "digits"),
        action="append",
        help="run only this workload (repeat the flag for several; default: all)",
    )
    return parser


def _make_optimizer(name: str, params: list[Any], lr: float | None) -> tuple[Any, str]:
    from tinygrad_edu import optim

    cls_name, default_lr, kwargs = OPTIMIZERS[name]
    lr = default_lr if lr is None else lr
    extra = "".join(f", {k}={v}" for k, v in kwargs.items())
    return getattr(optim, cls_name)(params, lr=lr, **kwargs), f"{cls_name}(lr={lr:g}{extra})"


def _trajectory_figure(path: Path) -> None:
    """First vs 1.5th vs second order on Rosenbrock's curved valley, from the same start."""
    from tinygrad_edu import optim, plots

    factories: dict[str, Callable[[list[Any]], Any]] = {
        "SGD lr=0.002": lambda p: optim.SGD(p, lr=2e-3),
        "momentum 0.9 lr=0.001": lambda p: optim.SGD(p, lr=1e-3, momentum=0.9),
        "RMSprop lr=0.01": lambda p: optim.RMSprop(p, lr=1e-2),
        "Adam lr=0.1": lambda p: optim.Adam(p, lr=0.1),
        # one L-BFGS iteration per step (max_eval leaves room for its line search)
        "L-BFGS (1.5th order)": lambda p: optim.LBFGS(
            p, max_iter=1, max_eval=25, line_search_fn="strong_wolfe"
        ),
        "Newton (2nd order)": lambda p: optim.Newton(p),
    }
    plots.plot_trajectories(
        "rosenbrock",
        factories,
        steps=500,
        stop_below=1e-8,
        path=path,
        title="Rosenbrock from (-1.2, 1): steps until f < 1e-8 (at most 500)",
    )


def _graph_figure(model: Any, x: list[float], target: float, out: Path) -> tuple[Path, str]:
    """Draw one sample's loss (model(x) - target)^2 after backward, neurons collapsed."""
    from tinygrad_edu import nn, viz
    from tinygrad_edu.engine import Value

    model.zero_grad()
    # the target as a labelled leaf, so the drawing shows "y" rather than an anonymous constant
    loss = nn.mse_loss(model(x), Value(target, label="y", requires_grad=False))
    loss.backward()
    graph = viz.draw_graph(
        loss,
        collapse="neuron",
        legend=True,
        title=f"loss of one sample (x = {x[0]:.3f}, y = {target:.3f}) after backward()",
    )
    model.zero_grad()
    try:
        return viz.render(graph, out / "graph.svg"), ""
    except viz.GraphvizNotFoundError:
        path = out / "graph.dot"
        path.write_text(graph.source)
        return path, (
            "Graphviz 'dot' was not found, so the graph is written as DOT source; install Graphviz "
            f"(e.g. apt install graphviz) and run: dot -Tsvg {path} -o {out / 'graph.svg'}"
        )


def run_demo(args: argparse.Namespace) -> int:
    """The ``demo`` command (see the module docstring)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window, work without a display

    from tinygrad_edu import data, nn, plots, train

    start = time.perf_counter()
    X, y = data.make_regression_1d(n=args.samples, noise=0.1, seed=args.seed)
    train_set, val_set, test_set = data.train_val_test_split(
        X, y, val=0.2, test=0.2, seed=args.seed
    )
    model = nn.MLP(1, [16, 1], activation="relu", seed=args.seed)
    optimizer, opt_text = _make_optimizer(args.optimizer, model.parameters(), args.lr)
    batch = "full batch" if args.batch_size is None else f"batch size {args.batch_size}"
    print(f"tinygrad_edu demo: {model!r}, {model.num_parameters()} parameters, MSE loss")
    print(
        f"data: y = sin(2x) + 0.3x + N(0, 0.1^2), {len(train_set[0])} train / {len(val_set[0])} "
        f"validation / {len(test_set[0])} test samples"
    )
    print(f"training: {opt_text}, {batch}, {args.epochs} epochs, seed {args.seed}")
    sys.stdout.flush()

    history = train.fit(
        model,
        nn.mse_loss,
        optimizer,
        train_set,
        val=val_set,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        progress=not args.no_progress,
    )
    mse = {
        name: train.evaluate(model, nn.mse_loss, *split)
        for name, split in (("train", train_set), ("val", val_set), ("test", test_set))
    }
    print(
        f"final MSE: train {mse['train']:.4f}, val {mse['val']:.4f}, test {mse['test']:.4f} "
        f"(the noise alone gives 0.0100)"
    )

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    curves, fit_png, paths_png = out / "loss_curves.png", out / "fit.png", out / "trajectories.png"
    plots.plot_history(history, log=True, path=curves, title=f"{opt_text}, {batch}")
    plots.plot_fit(
        model,
        splits=(train_set, val_set, test_set),
        true_curve=True,
        path=fit_png,
        title=f"2-layer ReLU regressor after {history.epochs} epochs (test MSE {mse['test']:.4f})",
    )
    _trajectory_figure(paths_png)
    written = [curves, fit_png, paths_png]
    graph_path, note = _graph_figure(model, test_set[0][0], test_set[1][0], out)
    written.append(graph_path)
    print("wrote:")
    for path in written:
        print(f"  {path}")
    if note:
        print(note)
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m tinygrad_edu`` and of the ``tinygrad-edu`` script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "bench":
        return run_bench(args)
    return run_demo(args)


def run_bench(args: argparse.Namespace) -> int:
    """``bench``: run the benchmarks and print the table (or JSON)."""
    import json

    from . import bench

    config = bench.QUICK if args.quick else bench.FULL
    report = bench.run(config, args.only or bench.WORKLOADS)
    print(json.dumps(report, indent=2) if args.json else bench.format_report(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
