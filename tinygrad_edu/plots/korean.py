"""Hangul in matplotlib figures: ``use_korean_font()`` finds a Korean font and makes it the default.

Matplotlib's default font, DejaVu Sans, has no Hangul: a title such as ``"손실 함수"`` comes out as
empty boxes, with a "Glyph ... missing from font(s)" warning. ``use_korean_font()`` looks for, in
order,

1. a font installed on the system: Noto Sans CJK KR (Linux, ``fonts-noto-cjk``), NanumGothic
   (``fonts-nanum``), Malgun Gothic (Windows), AppleGothic / Apple SD Gothic Neo (macOS);
2. NanumGothic from the ``koreanize-matplotlib`` wheel (``pip install "tinygrad_edu[korean]"``,
   part of ``[dev]``; 8 MB; the package is MIT, the font SIL Open Font License 1.1). Only its
   font file is used: importing that package would change settings (and it imports ``distutils``,
   gone from Python 3.12);

and makes ``font.family`` that font with DejaVu Sans behind it (and puts it first in
``font.sans-serif``), so a
glyph the Korean font lacks (the minus sign U+2212 of tick labels in some of them) falls back to
DejaVu Sans. Both PNG and SVG then show the Hangul: PNG draws it with the font, and SVG stores
text as outlines (matplotlib's default ``svg.fonttype = "path"``), so it reads on a machine
without the font too.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib
from matplotlib import font_manager

__all__ = ["KOREAN_FONTS", "KoreanFontNotFoundError", "use_korean_font"]

KOREAN_FONTS = (
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "NanumGothic",
    "Malgun Gothic",
    "AppleGothic",
    "Apple SD Gothic Neo",
)
"""The system fonts looked for, in order of preference."""


class KoreanFontNotFoundError(RuntimeError):
    """No font with Hangul was found; the message says how to install one."""


def _bundled_nanum() -> Path | None:
    """NanumGothic.ttf from the koreanize-matplotlib wheel, found without importing the package."""
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "NanumGothic.ttf"
    return path if path.is_file() else None


def _system_family() -> str | None:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in KOREAN_FONTS if name in installed), None)


def use_korean_font(verbose: bool = False) -> str:
    """Make matplotlib draw Hangul; returns the font family used.

    Changes ``matplotlib.rcParams`` (``font.family`` and ``font.sans-serif``) for the rest of
    the session; wrap the call in ``matplotlib.rc_context()`` to keep the change local.

    Raises:
        KoreanFontNotFoundError: neither a system Korean font nor the bundled one is there.
    """
    family = _system_family()
    where = "system"
    if family is None:
        bundled = _bundled_nanum()
        if bundled is not None:
            font_manager.fontManager.addfont(str(bundled))
            family, where = "NanumGothic", str(bundled)
    if family is None:
        raise KoreanFontNotFoundError(
            "no font with Hangul found: looked for "
            + ", ".join(KOREAN_FONTS)
            + ' and for the koreanize-matplotlib wheel. Install one: pip install "tinygrad_edu'
            '[korean]" (bundles NanumGothic), or a system font (Debian/Ubuntu: apt-get install '
            "fonts-nanum or fonts-noto-cjk; then delete matplotlib's font cache if it is not seen)"
        )
    rest = [name for name in matplotlib.rcParams["font.sans-serif"] if name != family]
    matplotlib.rcParams["font.sans-serif"] = [family, *rest]
    # Named families, not the generic "sans-serif": only a list of families gets matplotlib's
    # glyph-by-glyph fallback (the minus sign from DejaVu Sans, which matplotlib ships).
    matplotlib.rcParams["font.family"] = [family, "DejaVu Sans"]
    if verbose:
        print(f"use_korean_font: {family} ({where})")
    return family
