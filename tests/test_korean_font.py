"""plots.use_korean_font(): a Korean title and legend render with no missing-glyph warning."""

from __future__ import annotations

import io
import warnings

import matplotlib
import pytest
from matplotlib.figure import Figure

from tinygrad_edu import plots
from tinygrad_edu.plots import korean


def _draw(fmt: str) -> list[str]:
    """Render a figure with a Korean title, legend and negative ticks; return the warnings."""
    fig = Figure()
    ax = fig.subplots()
    ax.plot([-2, -1, 0, 1], [3, -1, 2, -4], label="손실 함수 (loss)")
    ax.plot([-2, 1], [0, -2], label="미니배치 (mini-batch)")
    ax.set_title("학습 곡선: 에폭마다 손실")
    ax.set_xlabel("에폭 (epoch)")
    ax.legend()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format=fmt)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def _font_available() -> bool:
    return korean._system_family() is not None or korean._bundled_nanum() is not None


def test_without_a_korean_font_the_glyphs_are_missing():
    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        assert any("HANGUL" in w for w in _draw("png"))


@pytest.mark.skipif(
    not _font_available(), reason='no Korean font: pip install "tinygrad_edu[korean]"'
)
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_korean_title_and_legend_render_without_missing_glyphs(fmt):
    with matplotlib.rc_context():
        family = plots.use_korean_font()
        assert family in korean.KOREAN_FONTS
        assert matplotlib.rcParams["font.family"][0] == family
        assert _draw(fmt) == []  # the minus signs of the ticks too, from DejaVu Sans
    assert matplotlib.rcParams["font.family"] != [family, "DejaVu Sans"]  # rc_context restored


def test_no_font_gives_a_clear_message(monkeypatch):
    monkeypatch.setattr(korean, "_system_family", lambda: None)
    monkeypatch.setattr(korean, "_bundled_nanum", lambda: None)
    with matplotlib.rc_context():
        before = matplotlib.rcParams["font.family"]
        with pytest.raises(plots.KoreanFontNotFoundError, match=r"tinygrad_edu\[korean\]"):
            plots.use_korean_font()
        assert matplotlib.rcParams["font.family"] == before
