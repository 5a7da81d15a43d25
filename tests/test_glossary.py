"""The glossary stays true: every section it names exists, every API it names resolves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinygrad_edu import glossary

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _headings(stem: str) -> set[str]:
    path = NOTEBOOKS / f"{stem}.ipynb"
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return {
        line.lstrip("#").strip()
        for cell in cells
        if cell["cell_type"] == "markdown"
        for line in "".join(cell["source"]).splitlines()
        if line.startswith("#")
    }


@pytest.mark.parametrize("entry", glossary.HEADINGS, ids=lambda h: h.korean)
def test_each_course_heading_points_at_a_real_section_and_api(entry):
    assert entry.korean and entry.english and entry.api
    assert entry.section in _headings(entry.notebook), (entry.notebook, entry.section)
    for name in entry.api:
        glossary.resolve(name)


@pytest.mark.parametrize("term", glossary.TERMS, ids=lambda t: t.english)
def test_each_term_points_at_a_notebook_and_api(term):
    assert (NOTEBOOKS / f"{term.notebook}.ipynb").exists()
    for name in term.api:
        glossary.resolve(name)


def test_the_terms_the_issue_found_missing_are_there():
    korean = " ".join(t.korean for t in glossary.TERMS)
    missing_in_the_issue = (
        "최적화 야코비안 활성 배치 미니배치 에폭 지수 곡률 볼록 모멘텀 편향".split()
    )
    for word in missing_in_the_issue:
        assert word in korean


def test_every_summary_section_is_covered():
    parts = {h.part for h in glossary.HEADINGS}
    assert {"lecture", *(str(i) for i in range(1, 8))} <= parts
