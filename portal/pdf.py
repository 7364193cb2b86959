"""Chinese PDF documents (调解协议书, 调解笔录, dossier covers) with reportlab.

:func:`cjk_font` registers a font that renders and extracts Chinese: an embedded TrueType CJK font
when the machine has one (WenQuanYi Zen Hei from Debian's fonts-wqy-zenhei), else reportlab's
built-in Adobe CID font STSong-Light, which needs no font file and whose text extracts correctly
(pypdf and pdftotext both read it), though viewers substitute their own Song typeface.
"""
from __future__ import annotations

import os
import threading

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

_TTF_CANDIDATES = (
    os.environ.get("PORTAL_CJK_FONT", ""),
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
_lock = threading.Lock()
_font_name: str | None = None


def cjk_font() -> str:
    """The registered name of a Chinese font for ``canvas.setFont`` / paragraph styles."""
    global _font_name
    with _lock:
        if _font_name:
            return _font_name
        for path in _TTF_CANDIDATES:
            if path and os.path.exists(path):
                try:
                    pdfmetrics.registerFont(TTFont("PortalCJK", path, subfontIndex=0))
                    _font_name = "PortalCJK"
                    return _font_name
                except Exception:  # a font file reportlab cannot embed (CFF outlines): fall back
                    continue
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        _font_name = "STSong-Light"
        return _font_name
