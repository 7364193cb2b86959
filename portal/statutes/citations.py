"""Finding statute citations in Chinese text and turning them into links (the ``link_citations`` filter).

Recognised forms: 《中华人民共和国人民调解法》第二十九条, 《民法典》第一千零四十二条, 人民调解法第17条
(a known name without brackets), 本法第三条 / 该法第三条 after a named law, lists 第五条、第六条 and ranges
第二十八条至第三十条, numbers sharing one 条 (第五、六条, 第二十八至三十条), with optional 第…款 / 第…项
and 之一. A law that is not in the library, or an article
beyond its last one, stays plain text. HTML input (Markup) is linked only in text nodes, never inside
tags or existing ``<a>`` elements.
"""
from __future__ import annotations

import html
import re
import threading
import time
from dataclasses import dataclass

from markupsafe import Markup, escape

from portal.statutes.numerals import NUMERAL_CHARS, cn_to_int
from portal.statutes.parsing import NATIONAL_PREFIX

CACHE_SECONDS = 60.0
MAX_LINK_CHARS = 200_000  # longer texts are shown escaped, unlinked

_NUM = rf"[{NUMERAL_CHARS}0-9０-９]+"
ARTICLE_PATTERN = (
    rf"第\s*(?P<num>{_NUM})\s*条(?:之(?P<suf>[一二三四五六七八九十]+))?"
    rf"(?:\s*第\s*{_NUM}\s*款)?(?:\s*第\s*[（(]?{_NUM}[)）]?\s*项)?"
)
_GROUP_SEP = r"(?:、|，|,|和|及|至|到|—|－|-|～|~)"
#: Several numbers sharing one 第…条: 第五、六条, 第1042、1043条, 第二十八至三十条.
GROUP_PATTERN = rf"第\s*{_NUM}(?:\s*{_GROUP_SEP}\s*第?\s*{_NUM})+\s*条"
_GROUP_NUM_RE = re.compile(rf"({_GROUP_SEP})?\s*第?\s*({_NUM})")
BOOK_PATTERN = r"(?:[\u4e00-\u9fff]{1,6}编)?"
#: Between a law's name and its first article: nothing, a space, or a book name (合同编).
_AFTER_NAME_RE = re.compile(rf"^\s*(?:的)?\s*{BOOK_PATTERN}\s*$")
#: Between two articles of a list or range.
_LIST_SEP_RE = re.compile(r"^\s*(?:、|，|,|和|及|以及|或者|或|与|至|到|—|－|-|～|~)\s*$")
_RANGE_SEP_RE = re.compile(r"^\s*(?:至|到|—|－|-|～|~)\s*$")
_BRACKET_NAME = r"《(?P<bname>[^《》\n]{1,60})》"
_THIS_LAW = r"(?P<this>本法|该法|本条例|该条例|同法)"
_TAG_RE = re.compile(r"(<!--.*?-->|<[^>]*>)", re.DOTALL)
_TAG_NAME_RE = re.compile(r"^<\s*(/?)\s*([a-zA-Z0-9]+)")
_BLOCK_TAGS = {"p", "br", "li", "ul", "ol", "tr", "td", "th", "table", "blockquote", "h1", "h2", "h3",
               "h4", "h5", "h6", "div", "section", "article"}


@dataclass(frozen=True)
class LawRef:
    """What the linker knows of a law: its id, name and which article numbers exist."""

    law_id: int
    name: str
    articles: frozenset  # of (number, suffix)

    @property
    def last_number(self) -> int:
        return max((n for n, _ in self.articles), default=0)


UNKNOWN = LawRef(0, "", frozenset())


def normalise_name(name: str) -> str:
    name = re.sub(r"\s+", "", name or "")
    if name.startswith(NATIONAL_PREFIX) and len(name) > len(NATIONAL_PREFIX):
        name = name[len(NATIONAL_PREFIX):]
    return name


class CitationMap:
    """Law names → :class:`LawRef`, and the regular expression that scans text (compiled once)."""

    def __init__(self, laws: list[LawRef], names: dict[str, LawRef]):
        self.laws = laws
        self.by_id = {ref.law_id: ref for ref in laws}
        self.by_name = {normalise_name(k): v for k, v in names.items()}
        bare = sorted({k for k in names if len(k) >= 3} | {NATIONAL_PREFIX + k for k in self.by_name
                                                            if not k.endswith("条例")},
                      key=len, reverse=True)
        bare_alt = "|".join(re.escape(n) for n in bare) if bare else r"(?!x)x"
        self.regex = re.compile(
            rf"{_BRACKET_NAME}|(?P<name>{bare_alt})|{_THIS_LAW}|(?P<art>{ARTICLE_PATTERN})|(?P<grp>{GROUP_PATTERN})"
        )

    def resolve(self, name: str) -> LawRef:
        return self.by_name.get(normalise_name(name), UNKNOWN)

    @classmethod
    def from_database(cls) -> CitationMap:
        from sqlalchemy import select

        from portal.extensions import db
        from portal.statutes.models import Article, Law

        laws = db.session.execute(select(Law).order_by(Law.version_date)).scalars().all()
        numbers: dict[int, set] = {}
        for law_id, number, suffix in db.session.execute(select(Article.law_id, Article.number, Article.suffix)):
            numbers.setdefault(law_id, set()).add((number, suffix))
        names: dict[str, LawRef] = {}
        refs = []
        for law in laws:  # oldest first: the newest version of a name wins
            ref = LawRef(law.id, law.short_name, frozenset(numbers.get(law.id, ())))
            refs.append(ref)
            names[law.full_name] = ref
            names[law.short_name] = ref
        return cls(refs, names)


@dataclass
class Citation:
    """One linked article reference: ``text[start:end]`` points to ``law`` article ``number``."""

    start: int
    end: int
    law: LawRef
    number: int
    suffix: int = 0
    in_range: bool = False

    @property
    def key(self) -> str:
        return f"{self.number}-{self.suffix}" if self.suffix else str(self.number)


class _Scanner:
    """Scans successive text segments, keeping which law is being cited across them."""

    def __init__(self, cmap: CitationMap, default_law: LawRef | None):
        self.cmap = cmap
        self.default = default_law
        self.current: LawRef | None = None  # the law most recently named
        self.anchor: LawRef | None = None  # the law a following 第N条 continues, if any
        self.anchor_kind: str | None = None  # "name" or "article"
        self.gap = ""  # text since the anchor

    def brk(self) -> None:
        self.anchor_kind = None
        self.gap = ""

    def feed(self, text: str) -> list[Citation]:
        out: list[Citation] = []
        pos = 0
        name_start = None
        for m in self.cmap.regex.finditer(text):
            gap = self.gap + text[pos:m.start()]
            self.gap = ""
            pos = m.end()
            if m.group("bname") is not None or m.group("name") is not None:
                law = self.cmap.resolve(m.group("bname") if m.group("bname") is not None else m.group("name"))
                self.current = law
                self.anchor, self.anchor_kind = law, "name"
                name_start = m.start()
                continue
            if m.group("this") is not None:
                # 本法 in a law's own text is that law; 该法/同法 is the law just named.
                if m.group("this").startswith("本"):
                    law = self.default or self.current
                else:
                    law = self.current or self.default
                self.anchor, self.anchor_kind = law, "name"
                name_start = m.start()
                continue
            # an article reference
            law, start, in_range = None, m.start(), False
            if self.anchor_kind == "name" and _AFTER_NAME_RE.match(gap):
                law = self.anchor
                if name_start is not None:
                    start = name_start
            elif self.anchor_kind == "article" and _LIST_SEP_RE.match(gap):
                law = self.anchor
                in_range = bool(_RANGE_SEP_RE.match(gap))
            elif self.default is not None:
                law = self.default
            name_start = None
            self.anchor, self.anchor_kind = law, ("article" if law is not None else None)
            if law is None or law is UNKNOWN:
                continue
            if m.group("grp") is not None:
                out.extend(self._group(m, start, law, in_range, out))
                continue
            try:
                number = cn_to_int(m.group("num"))
                suffix = cn_to_int(m.group("suf")) if m.group("suf") else 0
            except ValueError:
                continue
            if (number, suffix) not in law.articles:
                continue
            if in_range and out and out[-1].law is law:
                out[-1].in_range = True
            out.append(Citation(start, m.end(), law, number, suffix, in_range))
        self.gap += text[pos:]
        if len(self.gap) > 40:
            self.gap = self.gap[-40:]
        return out


    @staticmethod
    def _group(m: re.Match, start: int, law: LawRef, in_range: bool, out: list[Citation]) -> list[Citation]:
        """第五、六条: one citation per number; the first keeps 第 (and the law name), the last 条."""
        group = m.group("grp")
        base = m.start("grp")
        body_end = group.rstrip().rstrip("条").rstrip()
        found: list[Citation] = []
        numbers = list(_GROUP_NUM_RE.finditer(body_end, 1))
        last_found = False
        for i, nm in enumerate(numbers):
            sep = nm.group(1)
            num_start, num_end = base + nm.start(2), base + nm.end(2)
            if i == 0:
                num_start = start
            elif body_end[nm.start(2) - 1] == "第":
                num_start -= 1
            try:
                number = cn_to_int(nm.group(2))
            except ValueError:
                continue
            ranged = bool(sep and _RANGE_SEP_RE.match(sep))
            if (number, 0) not in law.articles:
                continue
            if ranged and found:
                found[-1].in_range = True
            found.append(Citation(num_start, num_end, law, number, 0, ranged or (i == 0 and in_range)))
            last_found = i == len(numbers) - 1
        if found:
            if last_found:
                found[-1].end = m.end("grp")
            if in_range and out and out[-1].law is law:
                out[-1].in_range = True
        return found


# ---- the map cache -----------------------------------------------------------------------------

_cache_lock = threading.Lock()
_CACHE_KEY = "statutes_citation_map"


def citation_map() -> CitationMap:
    """The map of the current app, rebuilt at most every :data:`CACHE_SECONDS` (or after a load)."""
    from flask import current_app

    store = current_app.extensions
    entry = store.get(_CACHE_KEY)
    now = time.monotonic()
    if entry is None or now - entry[0] > CACHE_SECONDS:
        with _cache_lock:
            entry = store.get(_CACHE_KEY)
            if entry is None or now - entry[0] > CACHE_SECONDS:
                entry = (now, CitationMap.from_database())
                store[_CACHE_KEY] = entry
    return entry[1]


def invalidate_cache() -> None:
    from flask import current_app, has_app_context

    if has_app_context():
        current_app.extensions.pop(_CACHE_KEY, None)


# ---- public API ----------------------------------------------------------------------------------

def find_citations(text: str, default_law: LawRef | None = None, cmap: CitationMap | None = None) -> list[Citation]:
    """All citations of library articles in plain ``text`` (a bare 第N条 counts only with ``default_law``)."""
    cmap = cmap or citation_map()
    return _Scanner(cmap, default_law).feed(text or "")


def _link_url(base: str, c: Citation) -> tuple[str, str]:
    page = f"{base}{c.law.law_id}/articles/{c.key}"
    return page, page + ".json"


def _render(text: str, cits: list[Citation], base: str, keep_breaks: bool) -> str:
    parts, pos = [], 0

    def plain(s: str) -> str:
        s = str(escape(s))
        return s.replace("\n", "<br>\n") if keep_breaks else s

    for c in cits:
        parts.append(plain(text[pos:c.start]))
        href, data = _link_url(base, c)
        parts.append(
            f'<a class="cite" href="{escape(href)}" data-cite-url="{escape(data)}" '
            f'aria-haspopup="dialog">{plain(text[c.start:c.end])}</a>'
        )
        pos = c.end
    parts.append(plain(text[pos:]))
    return "".join(parts)


def _base_url() -> str:
    from flask import has_request_context, url_for
    from werkzeug.routing import BuildError

    try:
        return url_for("statutes.index") if has_request_context() else "/laws/"
    except BuildError:  # outside this app's URL map (should not happen): fall back to the path
        return "/laws/"


def _request_state() -> tuple[CitationMap, str]:
    """The map and the link prefix, looked up once per request (a law page calls the filter ~3,000 times)."""
    from flask import g, has_request_context

    if not has_request_context():
        return citation_map(), _base_url()
    state = g.get("_statute_links")
    if state is None:
        state = g._statute_links = (citation_map(), _base_url())
    return state


def link_citations(value, law=None) -> Markup:
    """The Jinja filter: plain text is escaped (line breaks kept) and Markup is linked in text nodes.

    ``law`` (a :class:`~portal.statutes.models.Law`, a law id or None) is the law that 本法 and a
    bare 第N条 refer to, as on the statute library's own pages.
    """
    if value is None or value == "":
        return Markup("")
    is_markup = isinstance(value, Markup) or hasattr(value, "__html__")
    text = str(value.__html__()) if is_markup and not isinstance(value, Markup) else str(value)
    if len(text) > MAX_LINK_CHARS:
        return Markup(text) if is_markup else Markup(str(escape(text)).replace("\n", "<br>\n"))
    cmap, base = _request_state()
    default = cmap.by_id.get(getattr(law, "id", law)) if law is not None else None
    scanner = _Scanner(cmap, default)
    if not is_markup:
        return Markup(_render(text, scanner.feed(text), base, keep_breaks=True))
    out, in_link = [], 0
    for piece in _TAG_RE.split(text):
        if not piece:
            continue
        if piece.startswith("<"):
            out.append(piece)
            tm = _TAG_NAME_RE.match(piece)
            if tm:
                closing, tag = tm.group(1) == "/", tm.group(2).lower()
                if tag == "a" and not piece.rstrip(">").endswith("/"):
                    in_link = max(0, in_link + (-1 if closing else 1))
                if tag in _BLOCK_TAGS:
                    scanner.brk()
            continue
        raw = html.unescape(piece)
        cits = scanner.feed(raw)
        if in_link or not cits:
            out.append(piece)
        else:
            out.append(_render(raw, cits, base, keep_breaks=False))
    return Markup("".join(out))
