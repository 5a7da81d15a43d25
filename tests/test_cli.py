"""Tests of ``python -m tinygrad_edu``: the demo end to end (few epochs), help, and bad flags."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tinygrad_edu import viz
from tinygrad_edu.__main__ import OPTIMIZERS, _make_optimizer, main
from tinygrad_edu.engine import Parameter

FIGURES = ("loss_curves.png", "fit.png", "trajectories.png")


def _mse_line(out: str) -> dict[str, float]:
    match = re.search(r"final MSE: train ([\d.]+), val ([\d.]+), test ([\d.]+)", out)
    assert match, out
    return dict(zip(("train", "val", "test"), map(float, match.groups())))


def test_demo_writes_its_figures_and_prints_mse(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    assert main(["demo", "--epochs", "2", "--out", str(out_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    mse = _mse_line(out)
    assert all(v > 0 for v in mse.values())
    for name in FIGURES:
        path = out_dir / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(path) in out
    graph = out_dir / "graph.svg"
    assert "<svg" in graph.read_text()
    assert ">y</text>" in graph.read_text()  # the sample's target is drawn under its name
    assert str(graph) in out
    assert "Adam(lr=0.02)" in out and "batch size 16" in out and "2 epochs" in out


def test_demo_is_seeded(tmp_path, capsys):
    args = ["demo", "--epochs", "1", "--samples", "40", "--no-progress", "--optimizer", "sgd"]
    main([*args, "--out", str(tmp_path / "a")])
    first = _mse_line(capsys.readouterr().out)
    main([*args, "--out", str(tmp_path / "b")])
    assert _mse_line(capsys.readouterr().out) == first


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_choice_builds_its_optimizer(name):
    params = [Parameter(1.0)]
    opt, text = _make_optimizer(name, params, None)
    assert type(opt).__name__ == OPTIMIZERS[name][0]
    assert opt.param_groups[0]["lr"] == OPTIMIZERS[name][1]
    assert _make_optimizer(name, params, 0.125)[0].param_groups[0]["lr"] == 0.125
    assert text.startswith(OPTIMIZERS[name][0] + "(lr=")


def test_full_batch_momentum_run(tmp_path, capsys):
    argv = ["demo", "--epochs", "2", "--samples", "30", "--batch-size", "full", "--seed", "3"]
    assert main([*argv, "--optimizer", "momentum", "--lr", "0.001", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "SGD(lr=0.001, momentum=0.9)" in out and "full batch" in out and "seed 3" in out


def test_demo_without_graphviz_writes_dot_source(tmp_path, capsys, monkeypatch):
    def missing(*args, **kwargs):
        raise viz.GraphvizNotFoundError("dot not found")

    monkeypatch.setattr(viz, "render", missing)
    argv = ["demo", "--epochs", "1", "--samples", "30", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
    assert not (tmp_path / "graph.svg").exists()
    assert "Graphviz 'dot' was not found" in out and "graph.dot" in out


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"]])
def test_help_exits_zero(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    assert "usage: tinygrad-edu" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--optimizer", "lion"], "argument --optimizer: invalid choice: 'lion'"),
        (["demo", "--epochs", "0"], "argument --epochs: expected a positive integer, got 0"),
        (["demo", "--batch-size", "x"], "expected a positive integer or 'full'"),
        (["demo", "--lr", "-1"], "argument --lr: expected a positive number"),
        (["demo", "--bogus"], "unrecognized arguments: --bogus"),
        (["demo", "--samples", "2"], "argument --samples: expected at least 10 samples"),
        (["train"], "invalid choice: 'train'"),
    ],
)
def test_bad_flags_exit_2_with_argparse_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and message in err


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "usage: tinygrad-edu" in out and "demo" in out


def test_python_dash_m_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_edu"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "demo" in result.stdout
