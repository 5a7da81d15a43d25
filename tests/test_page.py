"""page: the self-contained step page (frames, data blob, script), without a browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tinygrad_edu.page import Frame, page_document, page_fragment, write_page

SVG = '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- made by hand -->\n<svg width="10pt"><g/></svg>'


def frames(n: int = 3) -> list[Frame]:
    return [
        Frame(SVG, f"step {k}: a < b & c", f"n{k}" if k else None, {"grads": {"n0": k / 2}})
        for k in range(n)
    ]


def data_blob(page: str) -> dict:
    (blob,) = re.findall(r'<script type="application/json" class="tge-data">(.*?)</script>', page)
    return json.loads(blob)


def test_fragment_holds_every_frame_caption_above_drawing() -> None:
    page = page_fragment(frames(3), title="t")
    figures = re.findall(r'<figure class="tge-frame" data-step="(\d+)"(.*?)</figure>', page)
    assert [int(k) for k, _ in figures] == [0, 1, 2]
    for k, body in figures:
        # caption first, then the drawing (its prolog, DOCTYPE and comment dropped)
        caption = body.index('class="tge-caption"')
        assert caption < body.index('<div class="tge-drawing"><svg width="10pt">')
        assert f"step {k}: a &lt; b &amp; c" in body
        assert "<?xml" not in body and "DOCTYPE" not in body
    assert 'data-node="n2"' in page and page.count("data-node=") == 2


def test_data_blob_is_the_steps_as_json() -> None:
    blob = data_blob(page_fragment(frames(3), title="t"))
    assert blob["title"] == "t"
    assert [s["node"] for s in blob["steps"]] == [None, "n1", "n2"]
    assert [s["grads"]["n0"] for s in blob["steps"]] == [0.0, 0.5, 1.0]
    assert blob["steps"][1]["caption"] == "step 1: a < b & c"


def test_text_that_would_end_the_script_is_escaped() -> None:
    nasty = [Frame(SVG, "</script><script>alert(1)</script>", None, {"x": float("nan")})]
    page = page_fragment(nasty)
    blob_text = re.search(r'class="tge-data">(.*?)</script>', page, flags=re.S).group(1)
    assert "</script" not in blob_text
    blob = data_blob(page)
    assert blob["steps"][0]["caption"] == "</script><script>alert(1)</script>"
    assert blob["steps"][0]["x"] == "nan"  # JSON has no nan: written as a string
    assert "<script>alert" not in page.replace("&lt;script&gt;alert", "")


def test_same_frames_same_html_and_distinct_ids() -> None:
    assert page_fragment(frames(3)) == page_fragment(frames(3))
    one = re.search(r'id="(tge-[0-9a-f]+)"', page_fragment(frames(3))).group(1)
    two = re.search(r'id="(tge-[0-9a-f]+)"', page_fragment(frames(2))).group(1)
    assert one != two  # two steppers in one notebook do not share an id
    assert f'tgeStepper(document.getElementById("{one}"), false)' in page_fragment(frames(3))


def test_document_takes_keys_everywhere_and_loads_nothing(tmp_path) -> None:
    doc = page_document(frames(2), title="a & b")
    assert doc.startswith("<!DOCTYPE html>") and "<title>a &amp; b</title>" in doc
    assert re.search(r'tgeStepper\(document\.getElementById\("tge-[0-9a-f]+"\), true\)', doc)
    assert not re.search(r'(src|href)="(https?:)?//', doc) and "<link" not in doc
    path = write_page(frames(2), tmp_path / "sub" / "p.html", title="a & b")
    assert path.read_text(encoding="utf-8") == doc


def test_bad_frames() -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        page_fragment([])
    # a drawing that could not be rendered: its message stays in the frame
    assert '<div class="tge-drawing"><pre>no dot</pre></div>' in page_fragment(
        [Frame("<pre>no dot</pre>", "x")]
    )


def test_notebook_02_saves_steppers_that_need_no_kernel() -> None:
    path = (
        Path(__file__).resolve().parent.parent / "notebooks" / "02_stepping_through_backprop.ipynb"
    )
    notebook = json.loads(path.read_text(encoding="utf-8"))
    # saved widget state would make nbconvert and nbviewer draw the widget (dead without a
    # kernel) instead of the step page
    assert "widgets" not in notebook["metadata"], (
        "re-execute notebook 02 with --ExecutePreprocessor.store_widget_state=False"
    )
    steppers = [
        output
        for cell in notebook["cells"]
        if cell["cell_type"] == "code" and "step_through(" in "".join(cell["source"])
        for output in cell["outputs"]
        if output["output_type"] == "execute_result"
    ]
    assert len(steppers) == 4
    for output in steppers:
        page = "".join(output["data"]["text/html"])
        assert page.startswith('<div class="tge-stepper"') and "tgeStepper(" in page
        assert output["data"]["image/png"]  # the strip, for pages that show no HTML
        assert "application/vnd.jupyter.widget-view+json" in output["data"]  # live: the widget
