"""The step page in a real browser: headless Chromium, driven by Playwright.

Two pages: one written by ``viz.export_html`` (keys, buttons, slider; every step's drawn gradients
and text against ``gradients_after``), and the nbconvert HTML of notebook 02 (its saved
``step_through`` outputs must step with no kernel). Every request to the network is refused, so
the pages are checked to work offline.

Needs Playwright (``pip install playwright``) and a Chromium; Playwright's own browser download is
not used: the system's ``chromium`` (Debian: ``apt-get install chromium``) is found on PATH or
given by ``CHROMIUM=/path``. Without them the tests skip with the reason; with ``REQUIRE_BROWSER=1``
(CI) a missing browser fails them instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tinygrad_edu import viz
from tinygrad_edu.engine import Value, topological_order
from tinygrad_edu.nn import MLP, mse_loss

NOTEBOOK = (
    Path(__file__).resolve().parent.parent / "notebooks" / "02_stepping_through_backprop.ipynb"
)


def _missing(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _chromium() -> str | None:
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install playwright)")
    executable = _chromium()
    if executable is None:
        _missing("no Chromium found (apt-get install chromium, or set CHROMIUM=/path)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    external: list[str] = []

    def refuse(route: Any) -> None:  # offline: nothing from the network
        external.append(route.request.url)
        route.abort()

    page.route(re.compile(r"^https?://"), refuse)
    page.external_requests = external
    yield page
    context.close()
    assert errors == [], f"script errors on the page: {errors}"


def _screenshot(page: Any, name: str, element: Any = None) -> None:
    """Keep a picture of the page (or of one element of it) where SCREENSHOTS=dir says, to look
    at; without SCREENSHOTS, nowhere."""
    directory = os.environ.get("SCREENSHOTS")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        path = str(Path(directory) / f"{name}.png")
        if element is not None:
            element.screenshot(path=path)
        else:
            page.screenshot(path=path, full_page=True)


# Run in the page: the stepper's step number, the visible caption, the visible drawing's
# "grad ..." text per node id, and whether the drawing box fits the page.
_STATE = """
(root) => {
  const figure = [...root.querySelectorAll("figure.tge-frame")].find(f => !f.hidden);
  const grads = {};
  for (const g of figure.querySelectorAll("g.node")) {
    const id = g.querySelector("title").textContent;
    for (const t of g.querySelectorAll("text")) {
      if (t.textContent.startsWith("grad")) grads[id] = t.textContent.slice(4).trim();
    }
  }
  const box = figure.querySelector(".tge-drawing").getBoundingClientRect();
  const caption = figure.querySelector(".tge-caption").getBoundingClientRect();
  return {
    step: Number(root.dataset.step),
    visible: root.querySelectorAll("figure.tge-frame:not([hidden])").length,
    caption: figure.querySelector(".tge-caption").textContent,
    captionAbove: caption.bottom <= box.top,
    fits: box.right <= document.documentElement.clientWidth,
    grads: grads,
    position: root.querySelector(".tge-position").textContent,
  };
}
"""


def _expected(root: Value, k: int, collapse: str | None) -> dict[str, str]:
    """What drawn step k must show: format_number of gradients_after, by drawing id."""
    order = topological_order(root)
    drawn = viz.drawn_steps(root, collapse=collapse)
    reached = viz.gradients_after(root, drawn[k - 1].done if k else 0)
    return {f"n{order.index(v)}": viz.format_number(g) for v, g in reached.items()}


def _check_step(page: Any, root: Value, k: int, collapse: str | None) -> None:
    state = page.locator(".tge-stepper").evaluate(_STATE)
    n = len(viz.drawn_steps(root, collapse=collapse))
    assert state["step"] == k and state["visible"] == 1
    assert state["position"] == f"step {k} of {n}"
    assert state["caption"] == viz.step_caption(root, k, collapse=collapse)
    assert state["captionAbove"] and state["fits"]
    expected = _expected(root, k, collapse)
    for node_id, text in state["grads"].items():
        if node_id in expected:
            # "(so far)" may follow while contributions are missing
            assert text.split(" ")[0] == expected[node_id], (k, node_id, text, expected[node_id])
        else:
            assert text == "", (k, node_id, text)
    assert any(expected.get(i) for i in state["grads"])  # something is reached at every step


def _karpathy() -> Value:
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0)
    f.label = "f"
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return L


def _mlp() -> Value:
    model = MLP(2, [4, 3, 1], activation="tanh", seed=3)
    loss = mse_loss(model([Value(0.5, label="x0"), Value(-1.2, label="x1")]), 0.3)
    loss.label = "loss"
    return loss


@pytest.mark.parametrize(
    "make, collapse",
    [(_karpathy, None), (_mlp, None), (_mlp, "neuron")],
    ids=["small", "mlp", "mlp-collapsed"],
)
def test_exported_page_steps_with_keys_and_buttons(
    page: Any, tmp_path: Path, make, collapse
) -> None:
    root = make()
    path = viz.export_html(root, tmp_path / "steps.html", collapse=collapse)
    n = len(viz.drawn_steps(root, collapse=collapse))
    page.goto(path.as_uri())
    _check_step(page, root, 0, collapse)
    for k in range(1, n + 1):  # the right arrow, one step at a time
        page.keyboard.press("ArrowRight")
        _check_step(page, root, k, collapse)
        if k in (1, n // 2):
            _screenshot(page, f"export-{make.__name__.strip('_')}-{collapse}-step{k}")
    page.keyboard.press("ArrowRight")  # past the end: stays
    _check_step(page, root, n, collapse)
    for k in range(n - 1, -1, -1):  # back with the left arrow
        page.keyboard.press("ArrowLeft")
        _check_step(page, root, k, collapse)
    page.keyboard.press("End")
    _check_step(page, root, n, collapse)
    page.keyboard.press("Home")
    _check_step(page, root, 0, collapse)
    page.click(".tge-next")
    page.click(".tge-next")
    _check_step(page, root, min(2, n), collapse)
    page.click(".tge-prev")
    _check_step(page, root, min(1, n), collapse)
    page.locator("input[type=range]").fill(str(n))  # the slider itself
    _check_step(page, root, n, collapse)
    assert page.external_requests == []  # nothing asked of the network


def test_current_node_is_scrolled_into_view(page: Any, tmp_path: Path) -> None:
    model = MLP(1, [16, 1], seed=0)
    loss = mse_loss(model([Value(0.5, label="x0")]), 0.3)
    path = viz.export_html(loss, tmp_path / "wide.html")
    page.set_viewport_size({"width": 700, "height": 500})
    page.goto(path.as_uri())
    order = topological_order(loss)
    drawn = viz.drawn_steps(loss)
    for k in (1, len(drawn) // 2, len(drawn)):
        page.keyboard.press("Home")
        for _ in range(k):
            page.keyboard.press("ArrowRight")
        node = f"n{order.index(drawn[k - 1].node)}"
        inside = page.evaluate(
            """(node) => {
              const figures = [...document.querySelectorAll("figure.tge-frame")];
              const figure = figures.find(f => !f.hidden);
              const box = figure.querySelector(".tge-drawing").getBoundingClientRect();
              const title = [...figure.querySelectorAll("g.node > title")]
                .find(t => t.textContent === node);
              const r = title.parentNode.getBoundingClientRect();
              const d = figure.querySelector(".tge-drawing");
              return {inside: r.left >= box.left && r.right <= box.right && r.top >= box.top
                      && r.bottom <= box.bottom, scrolls: d.scrollWidth > d.clientWidth};
            }""",
            node,
        )
        assert inside["scrolls"]  # the drawing is wider than the page: its box scrolls
        assert inside["inside"], f"step {k}: node {node} is outside the visible drawing"
    _screenshot(page, "export-wide-scrolled")


def _nbconvert_html(tmp_path: Path) -> Path:
    try:
        import nbconvert  # noqa: F401
    except ImportError:
        _missing("nbconvert is not installed (pip install nbconvert)")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "html",
            str(NOTEBOOK),
            "--output-dir",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
    )
    return tmp_path / (NOTEBOOK.stem + ".html")


def test_nbconvert_html_of_notebook_02_steps_with_no_kernel(page: Any, tmp_path: Path) -> None:
    saved = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert "widgets" not in saved["metadata"], (
        "notebook 02 carries saved widget state, so nbconvert draws the widget (which needs a "
        "kernel) instead of the step page: re-execute it with "
        "--ExecutePreprocessor.store_widget_state=False"
    )
    path = _nbconvert_html(tmp_path)
    page.goto(path.as_uri())
    steppers = page.locator(".tge-stepper")
    assert steppers.count() == 5  # the small graph, its quiz, the neuron (twice), the network
    first = steppers.nth(0)
    assert first.locator(".tge-controls").is_visible()  # the script ran
    before = first.evaluate(_STATE)
    assert before["step"] == 0 and before["visible"] == 1
    slider = first.locator("input[type=range]")
    slider.fill("3")
    after = first.evaluate(_STATE)
    assert after["step"] == 3 and after["grads"] != before["grads"]
    assert after["caption"].startswith("step 3: e = a * b")
    assert after["grads"]["n0"] == "6"  # a's gradient, as in the notebook's text
    _screenshot(page, "nbconvert-02-small-step3", first)
    # keys, once the stepper has the focus
    first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Home")
    assert first.evaluate(_STATE)["step"] == 0
    page.keyboard.press("ArrowRight")
    assert first.evaluate(_STATE)["step"] == 1
    # the quiz, answered with no kernel: the first question is dL/dd = -2
    quiz = steppers.nth(1)
    box = quiz.locator('input.tge-answer[data-node="d"]')
    box.fill("-2")
    box.press("Enter")
    assert "correct" in (box.get_attribute("class") or "")
    assert quiz.get_attribute("data-step") == "1"
    # the network, stepped over its collapsed drawing
    net = steppers.nth(4)
    net.locator("input[type=range]").fill("3")
    state = net.evaluate(_STATE)
    assert state["caption"].startswith("drawn step 3 of") and "L1.N0" in state["caption"]
    _screenshot(page, "nbconvert-02-network-step3", net)


def _karpathy() -> Value:
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), None
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = Value(-2.0, label="f")
    L = d * f
    L.label = "L"
    return L


def test_quiz_page_checks_answers_gives_hints_and_fills_in(page: Any, tmp_path: Path) -> None:
    root = _karpathy()
    questions = viz.quiz_questions(root)
    path = viz.export_html(root, tmp_path / "quiz.html", quiz=True)
    page.goto(path.as_uri())
    stepper = page.locator(".tge-stepper")
    for j, q in enumerate(questions):
        box = page.locator(f'input.tge-answer[data-node="{q.name}"]')
        assert box.is_visible() and stepper.get_attribute("data-step") == str(j)
        # the asked node's gradient is not drawn yet ("grad ?"); the ones answered before are
        state = stepper.evaluate(_STATE)
        assert "?" in state["grads"].values() or state["grads"] == {}
        page.locator(".tge-next").click()  # locked: a question unanswered opens no frame
        assert stepper.get_attribute("data-step") == str(j)
        box.fill(str(q.answer + 1.0))  # wrong: a hint, the local derivative and upstream
        box.press("Enter")
        assert "wrong" in (box.get_attribute("class") or "")
        feedback = box.locator("xpath=../..").locator(".tge-feedback")
        assert "upstream" in feedback.text_content() and "correct" not in box.get_attribute("class")
        if j == 0:
            _screenshot(page, "quiz_hint")
        box.fill(f"{q.answer:.4g}".replace(".", ","))  # a comma works too
        box.press("Enter")
        assert "correct" in (box.get_attribute("class") or "")
    assert stepper.get_attribute("data-step") == str(len(questions))
    state = stepper.evaluate(_STATE)
    assert "all 6 gradients found" in state["caption"]
    order = topological_order(root)
    want = {f"n{order.index(q.node)}": viz.format_number(q.answer) for q in questions}
    assert {k: v for k, v in state["grads"].items() if k in want} == want
    _screenshot(page, "quiz_done")
    assert page.external_requests == []


def test_nudge_page_moves_over_h(page: Any, tmp_path: Path) -> None:
    x = Value(1.2, label="x")
    s = (x**2).sin()
    s.label = "s"
    path = viz.export_html(s, tmp_path / "nudge.html", nudge=x)
    page.goto(path.as_uri())
    stepper = page.locator(".tge-stepper")
    for k, h in enumerate(viz.DEFAULT_NUDGES):
        stepper.locator("input[type=range]").fill(str(k))
        state = stepper.evaluate(_STATE)
        n = viz.nudge(s, x, h)
        assert state["caption"].startswith(f"x + h with h = {viz.format_number(h)}:")
        assert viz.format_number(n.actual) in state["caption"]
    _screenshot(page, "nudge")
    assert page.external_requests == []
