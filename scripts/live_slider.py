"""Time a move of step_through's slider in a live JupyterLab, two checkouts side by side.

usage: python scripts/live_slider.py NAME=CHECKOUT [NAME=CHECKOUT ...] [--moves 16]
       [--port 8899] [--no-static] [--shots DIR]

e.g. ``git worktree add /tmp/old <commit>`` (with its own ``.venv``) and
``python scripts/live_slider.py old=/tmp/old new=.``. Each CHECKOUT has a ``.venv`` with
ipykernel and gets a kernel of its own (a kernelspec in a temporary JUPYTER_PATH) and one notebook
that builds three losses (about 45, 127 and 477 drawn nodes) and shows ``step_through`` on each.
JupyterLab runs from this Python; headless Chromium (Playwright, the system's ``chromium`` or
CHROMIUM=path) presses the arrow key on each slider, the checkouts taking turns so load drift
hits them alike, and times in the page from the keydown until the drawn ``<svg>`` is replaced
(MutationObserver) and until the frame after it is painted (two requestAnimationFrames). Also
printed: the kernel's time in the slider's callback, and the browser's cost of the picture
update alone (the widget's HTML set again, style and layout forced). Medians over --moves moves.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

SETUP = """
import os, sys, time
from tinygrad_edu import viz
from tinygrad_edu.engine import Value
from tinygrad_edu.nn import MLP
print(viz.__file__)

def hinge(shape):
    m = MLP(shape[0], shape[1], seed=0)
    x = [Value(0.5 * (i + 1), label=f"x{i}") for i in range(shape[0])]
    s = m(x)
    t = Value(-1.0, label="t")
    L = (1 - t * s).relu()
    L.label = "L"
    return L

def svg_nodes(L):
    svg = viz.render_bytes(viz.draw_graph(L, step=0, max_nodes=2000), "svg").decode()
    return svg.count('class="node"')

import json as _json
def stepper(L, tag):
    kw = dict(max_nodes=2000)
    try:
        w = viz.step_through(L, static=STATIC, **kw)
    except TypeError:  # old code: no static
        w = viz.step_through(L, **kw)
    slider = w.children[0]
    callbacks = slider._trait_notifiers["value"]["change"]
    show, times = callbacks[0], []
    def timed(change):
        t = time.perf_counter(); show(change); times.append(1000 * (time.perf_counter() - t))
        open(os.path.join(os.environ["LIVE_TIMES"], f"{tag}.json"), "w").write(_json.dumps(times))
    callbacks[0] = timed
    return w
"""

SHAPES = [(2, [4, 1]), (2, [6, 6, 1]), (2, [16, 16, 1])]


def notebook(kernel: str, static: bool) -> dict:
    cells = [SETUP.replace("STATIC", str(static))]
    for i, shape in enumerate(SHAPES):
        cells.append(
            f"L = hinge({shape!r}); print('drawn nodes', svg_nodes(L))\n"
            f"t0 = time.perf_counter(); w = stepper(L, '{kernel}{i}'); "
            "print('built', time.perf_counter() - t0)\nw"
        )
    return {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": c,
                "outputs": [],
                "execution_count": None,
            }
            for c in cells
        ],
        "metadata": {"kernelspec": {"name": kernel, "display_name": kernel, "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


# In the page: time one ArrowRight on the i-th slider of the notebook's outputs.
MOVE = """
async ([i]) => {
  const sliders = [...document.querySelectorAll(".jp-OutputArea .widget-slider")];
  const slider = sliders[i];
  const box = slider.closest(".widget-vbox") || slider.parentElement;
  const handle = slider.querySelector(".noUi-handle") || slider.querySelector("input");
  const before = box.querySelector("svg");
  handle.focus();
  window.__move = new Promise((resolve) => {
    let t0 = null;
    const down = (e) => { t0 = performance.now(); };
    document.addEventListener("keydown", down, {capture: true, once: true});
    const obs = new MutationObserver(() => {
      const now = box.querySelector("svg");
      if (now && now !== before && t0 !== null) {
        const tm = performance.now() - t0;
        obs.disconnect();
        requestAnimationFrame(() => requestAnimationFrame(() => {
          resolve({mutation: tm, painted: performance.now() - t0});
        }));
      }
    });
    obs.observe(box, {childList: true, subtree: true});
    setTimeout(() => resolve({timeout: true}), 30000);
  });
  return true;
}
"""

# In the page: the browser-side cost of one picture update, the kernel left out: put the
# drawing's HTML back into the HTML widget's content (as the widget's update() does), then time
# style + layout (forced) and the next painted frame. Variants of the HTML: as the widget holds
# it, and with the <style> element or the scrolling wrapper taken out.
MICRO = r"""
async ([i, reps]) => {
  const slider = [...document.querySelectorAll(".jp-OutputArea .widget-slider")][i];
  const box = slider.closest(".widget-vbox");
  const content = box.querySelector("svg").closest(".widget-html-content");
  const asIs = content.innerHTML;
  const svg = content.querySelector("svg").outerHTML;
  const noStyle = asIs.replace(/<style>[^]*?<\/style>/, "");
  const variants = {asIs, noStyle, bare: svg};
  const out = {};
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  for (const [name, html] of Object.entries(variants)) {
    const forced = [], painted = [];
    for (let k = 0; k < reps; k++) {
      await frame();
      const t0 = performance.now();
      content.innerHTML = html;
      document.body.offsetHeight;
      box.getBoundingClientRect();
      forced.push(performance.now() - t0);
      await frame();
      painted.push(performance.now() - t0);
    }
    const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
    out[name] = [Math.round(med(forced) * 10) / 10, Math.round(med(painted) * 10) / 10];
  }
  content.innerHTML = asIs;
  return out;
}
"""

GEOMETRY = """
([i]) => {
  const slider = [...document.querySelectorAll(".jp-OutputArea .widget-slider")][i];
  const box = slider.closest(".widget-vbox");
  const out = slider.closest(".jp-OutputArea-output");
  const svg = box.querySelector("svg");
  let scroller = svg.parentElement;
  while (scroller && scroller !== box && getComputedStyle(scroller).overflowX !== "auto")
    scroller = scroller.parentElement;
  const r = (e) => {
    const b = e.getBoundingClientRect();
    return [Math.round(b.left), Math.round(b.right)];
  };
  const pre = box.querySelector("pre");
  return {output: r(out), box: r(box), scroller: scroller && scroller !== box ? r(scroller) : null,
          svgWidth: Math.round(svg.getBoundingClientRect().width),
          captionAbove: pre ? pre.getBoundingClientRect().bottom
                              <= svg.getBoundingClientRect().top : null,
          nodes: svg.querySelectorAll("g.node").length};
}
"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    argv = sys.argv[1:]
    moves, port, static, shots = 15, 8899, True, None
    versions = []
    while argv:
        a = argv.pop(0)
        if a == "--moves":
            moves = int(argv.pop(0))
        elif a == "--port":
            port = int(argv.pop(0))
        elif a == "--no-static":
            static = False
        elif a == "--shots":
            shots = Path(argv.pop(0))
        else:
            name, repo = a.split("=", 1)
            versions.append((name, Path(repo).resolve()))

    work = Path(tempfile.mkdtemp(prefix="live-"))
    jpath = work / "jpath"
    for name, repo in versions:
        spec = jpath / "kernels" / name
        spec.mkdir(parents=True)
        python = str(repo / ".venv" / "bin" / "python")
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": name,
                    "language": "python",
                    "env": {"PYTHONPATH": str(repo), "LIVE_TIMES": str(work)},
                }
            )
        )
        (work / f"{name}.ipynb").write_text(json.dumps(notebook(name, static)))

    env = dict(os.environ, JUPYTER_PATH=str(jpath))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={work}",
            "--LabApp.news_url=",
            "--allow-root",
            "--ServerApp.open_browser=False",
        ],
        env=env,
        stdout=open(work / "server.log", "w"),
        stderr=subprocess.STDOUT,
    )
    results: dict[str, list] = {}
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=os.environ.get("CHROMIUM") or shutil.which("chromium"), args=ARGS
            )
            pages = {}
            for name, _repo in versions:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{port}/lab/workspaces/{name}/tree/{name}.ipynb?reset")
                page.wait_for_selector(
                    ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60000
                )
                time.sleep(1)
                page.click(".jp-Notebook .jp-Cell")
                page.keyboard.press("Escape")
                page.click("text=Run", timeout=5000)
                page.click("text=Run All Cells", timeout=5000)
                page.wait_for_function(
                    "[...document.querySelectorAll('.jp-OutputArea .widget-vbox')]"
                    ".filter(b => b.querySelector('svg')).length >= 3",
                    timeout=900000,
                    polling=500,
                )
                time.sleep(2)
                texts = page.eval_on_selector_all(
                    ".jp-OutputArea-output pre", "els => els.map(e => e.textContent.trim())"
                )
                print(name, [t for t in texts if t.startswith(("drawn", "built", "/"))], flush=True)
                pages[name] = page
            for i in range(len(SHAPES)):
                times = {name: [] for name in pages}
                geoms = {}
                for name, page in pages.items():
                    page.eval_on_selector_all(
                        ".jp-OutputArea .widget-slider",
                        f"els => els[{i}].scrollIntoView({{block: 'start'}})",
                    )
                    geoms[name] = page.evaluate(GEOMETRY, [i])
                key = "ArrowRight"
                for m in range(moves):  # old, new, old, new ...: load drift hits both alike
                    if m and m % 8 == 0:
                        key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
                    for name, page in pages.items():
                        page.evaluate(MOVE, [i])
                        page.keyboard.press(key)
                        r = page.evaluate("window.__move")
                        if not r.get("timeout"):
                            times[name].append(r)
                        time.sleep(0.2)
                for name, page in pages.items():
                    micro = page.evaluate(MICRO, [i, 15])
                    kernel = json.loads((work / f"{name}{i}.json").read_text())
                    t = times[name]
                    row = dict(
                        nodes=geoms[name]["nodes"],
                        replaced=statistics.median(x["mutation"] for x in t),
                        painted=statistics.median(x["painted"] for x in t),
                        kernel=statistics.median(kernel),
                        n=len(t),
                        micro=micro,
                        geom=geoms[name],
                    )
                    results.setdefault(name, []).append(row)
                    print(name, i, row, flush=True)
                    if shots:
                        shots.mkdir(parents=True, exist_ok=True)
                        page.screenshot(path=str(shots / f"{name}-{i}.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(
        "\n| drawn nodes | "
        + " | ".join(
            f"{n}: key to SVG replaced / painted; kernel show(); browser update as-is"
            for n in results
        )
        + " |"
    )
    for i in range(len(SHAPES)):
        cells = []
        for n in results:
            r = results[n][i]
            cells.append(
                f"{r['replaced']:.0f} / {r['painted']:.0f}; {r['kernel']:.0f}; "
                f"{r['micro']['asIs'][0]:.0f}"
            )
        print(f"| {results[next(iter(results))][i]['nodes']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
