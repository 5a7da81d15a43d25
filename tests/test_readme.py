"""The README stays true: its Python examples run, and CI runs its test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_python_examples_in_readme_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write figures into the working directory
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert len(blocks) == 5
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    x, w = namespace["x"], namespace["w"]
    # the tour's claims: two backward() calls double the leaf gradients; d2 = 6 t
    assert namespace["d2"] == 3.0 and namespace["v"].parents == ()
    assert x.grad != 0.0 and w.grad != 0.0
    exec(compile(blocks[1], "README.md", "exec"), namespace)
    namespace["test_my_engine"]()  # the README's property test runs and passes
    exec(compile(blocks[2], "README.md", "exec"), namespace)
    assert namespace["abs_cubed"](namespace["Value"](-2.0)).local_grads == (-12.0,)
    assert namespace["gradgradcheck"](namespace["abs_cubed"], [-0.7])  # the rule's second order
    exec(compile(blocks[3], "README.md", "exec"), namespace)
    assert (tmp_path / "loss.png").exists() and (tmp_path / "fit.png").exists()
    assert namespace["graph"].source.startswith("digraph")
    assert namespace["history"].train_loss_epoch[-1] < namespace["history"].train_loss_epoch[0]
    exec(compile(blocks[4], "README.md", "exec"), namespace)  # compile: the source is printed
    assert namespace["loss"] == 0.31483389261668865 and "d_e = 2.0 * e" in namespace["step"].source


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
