"""User text: sanitising rich text and cleaning plain text.

Templates autoescape plain text; rich text (answers, agreements) goes through :func:`sanitize_html`
before it is stored, and is rendered with ``|safe`` only after that.
"""
import re
import unicodedata

import nh3

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "ol", "ul", "li", "blockquote", "h3", "h4",
    "a", "span", "sub", "sup", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def sanitize_html(html: str | None) -> str:
    """Keep a small set of formatting tags; drop scripts, handlers, styles and unsafe URLs."""
    if not html:
        return ""
    return nh3.clean(
        clean_text(html, keep_newlines=True),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def clean_text(text: str | None, keep_newlines: bool = True) -> str:
    """Normalise Unicode (NFC), drop control and bidi-override characters, trim the ends."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL_RE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not keep_newlines:
        text = " ".join(text.split())
    return text.strip()


def plain_text(html: str | None) -> str:
    """Text content of sanitised HTML, for search indexing and snippets."""
    if not html:
        return ""
    return " ".join(nh3.clean(html, tags=set()).split())
