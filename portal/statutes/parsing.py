"""Reading the Markdown law texts of data/laws/ (format in data/laws/README.md), without the database.

A file is ``# 全称`` (and for 民法典 ``# 编名``), header lines (通过, 修正, 施行), the marker
``<!-- INFO END -->``, then ``##``/``###``/``####`` headings and one paragraph per article starting with
``第N条``; items （一）（二）… and further paragraphs belong to the article above them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from portal.statutes.numerals import NUMERAL_CHARS, cn_to_int

INFO_END = "<!-- INFO END -->"
NATIONAL_PREFIX = "中华人民共和国"
ARTICLE_RE = re.compile(rf"^第([{NUMERAL_CHARS}]+)条(?:之([{NUMERAL_CHARS}]+))?[\s\u3000]+(.*)$")
HEADING_RE = re.compile(r"^(#{1,6})\s*(.*)$")
HEADING_LABEL_RE = re.compile(rf"^(第[{NUMERAL_CHARS}]+[编章节]|第[{NUMERAL_CHARS}]+分编)[\s\u3000]*(.*)$")
DATE_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
EFFECTIVE_LINE_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日\s*(?:起)?施行")
EFFECTIVE_ARTICLE_RE = re.compile(r"^本(?:法|条例|规定)自(\d{4})年(\d{1,2})月(\d{1,2})日起施行")
FILE_DATE_RE = re.compile(r"\((\d{4})-(\d{2})-(\d{2})\)")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"), None)
_CJK_SPACE_RE = re.compile(r"(?<=[\u4e00-\u9fff])[\s\u3000]+(?=[\u4e00-\u9fff])")


@dataclass
class LoadError:
    """A problem in a source file, with the file and the 1-based line number."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class ParsedHeading:
    depth: int
    label: str
    title: str
    line: int
    parent: int | None  # index into ParsedFile.headings


@dataclass
class ParsedArticle:
    number: int
    suffix: int
    label: str
    paragraphs: list[str]
    line: int
    heading: int | None  # index into ParsedFile.headings (the deepest heading above it)

    @property
    def key(self) -> tuple[int, int]:
        return (self.number, self.suffix)


@dataclass
class ParsedFile:
    path: str
    category: str
    full_name: str = ""
    book: str | None = None
    info: list[str] = field(default_factory=list)
    version_date: dt.date | None = None
    effective_date: dt.date | None = None
    headings: list[ParsedHeading] = field(default_factory=list)
    articles: list[ParsedArticle] = field(default_factory=list)
    digest: str = ""
    errors: list[LoadError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def short_name(self) -> str:
        return short_name_of(self.full_name)


def short_name_of(full_name: str) -> str:
    name = full_name.strip()
    if name.startswith(NATIONAL_PREFIX) and len(name) > len(NATIONAL_PREFIX):
        return name[len(NATIONAL_PREFIX):]
    return name


def _clean(line: str) -> str:
    return _CJK_SPACE_RE.sub("", line.translate(_INVISIBLE).strip().strip("\u3000").strip())


def _date(m: re.Match) -> dt.date | None:
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def parse_file(path: Path, root: Path) -> ParsedFile:
    """Parse one law file; problems are collected in ``errors`` (an erroneous file is not loaded)."""
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    category = path.parent.name if path.parent != root else ""
    pf = ParsedFile(path=rel, category=category)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        pf.errors.append(LoadError(rel, 1, f"无法读取文件（需为 UTF-8 文本）：{exc}"))
        return pf
    pf.digest = hashlib.sha256(raw).hexdigest()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")

    end = next((i for i, line in enumerate(lines) if line.strip() == INFO_END), None)
    if end is None:
        body = next((i + 1 for i, line in enumerate(lines)
                     if ARTICLE_RE.match(line.strip()) or line.startswith("##")), len(lines))
        pf.errors.append(LoadError(rel, body, f"缺少 {INFO_END} 标记（应在正文开始的这一行之前）"))
        return pf

    # ---- header: titles and dates --------------------------------------------------------------
    titles = []
    for i in range(end):
        line = lines[i].translate(_INVISIBLE).strip()
        m = HEADING_RE.match(line)
        if m and len(m.group(1)) == 1:
            titles.append((i + 1, _clean(m.group(2))))
        elif line:
            pf.info.append(_clean(line) if not DATE_RE.search(line) else line.strip().strip("\u3000"))
    if not titles or not titles[0][1]:
        pf.errors.append(LoadError(rel, 1, "缺少法律名称标题（# 中华人民共和国…）"))
        return pf
    pf.full_name = titles[0][1]
    if len(titles) > 1:
        pf.book = titles[1][1]

    fm = FILE_DATE_RE.search(path.name)
    if fm:
        pf.version_date = _date(fm)
    if pf.version_date is None:
        dates = [d for line in pf.info if "施行" not in line
                 for d in (_date(m) for m in DATE_RE.finditer(line)) if d]
        pf.version_date = dates[-1] if dates else None
    if pf.version_date is None:
        pf.errors.append(LoadError(rel, end + 1, "无法确定版本日期（文件名中没有日期，文件头也没有通过/修正日期）"))
        return pf
    for line in pf.info:
        m = EFFECTIVE_LINE_RE.search(line)
        if m:
            pf.effective_date = _date(m)

    # ---- body: headings and articles -----------------------------------------------------------
    base = 1 if pf.book else 0
    stack: list[int] = []  # indexes of open headings, outermost first
    if pf.book:
        pf.headings.append(ParsedHeading(0, "", pf.book, titles[1][0], None))
        stack = [0]
    current: ParsedArticle | None = None
    for i in range(end + 1, len(lines)):
        lineno = i + 1
        raw_line = lines[i].translate(_INVISIBLE).strip()
        if not raw_line:
            continue
        hm = HEADING_RE.match(raw_line)
        if hm:
            heading = _clean(hm.group(2))
            if not heading:
                continue  # an empty "##" (民法典 附则) opens nothing
            depth = len(hm.group(1)) - 2 + base
            if depth < base:
                pf.errors.append(LoadError(rel, lineno, f"正文中出现一级标题：{heading}"))
                continue
            while stack and pf.headings[stack[-1]].depth >= depth:
                stack.pop()
            lm = HEADING_LABEL_RE.match(heading)
            label, title = (lm.group(1), lm.group(2)) if lm else ("", heading)
            pf.headings.append(ParsedHeading(depth, label, _clean(title), lineno, stack[-1] if stack else None))
            stack.append(len(pf.headings) - 1)
            current = None
            continue
        am = ARTICLE_RE.match(raw_line)
        if am:
            try:
                number = cn_to_int(am.group(1))
                suffix = cn_to_int(am.group(2)) if am.group(2) else 0
            except ValueError:
                pf.errors.append(LoadError(rel, lineno, f"无法识别的条文序号：{raw_line[:20]}"))
                continue
            label = raw_line[: am.start(3)].strip().rstrip("\u3000")
            if pf.articles and (number, suffix) <= pf.articles[-1].key:
                prev = pf.articles[-1]
                pf.errors.append(LoadError(
                    rel, lineno, f"条文序号顺序错误：{label} 出现在 {prev.label}（第 {prev.line} 行）之后"))
            body = _clean_paragraph(am.group(3))
            current = ParsedArticle(number, suffix, label, [body] if body else [], lineno,
                                    stack[-1] if stack else None)
            pf.articles.append(current)
            continue
        if current is None:
            pf.errors.append(LoadError(rel, lineno, f"条文之外的文字：{raw_line[:30]}"))
            continue
        current.paragraphs.append(_clean_paragraph(raw_line))

    if not pf.articles and not pf.errors:
        pf.errors.append(LoadError(rel, len(lines), "正文中没有任何条文（第…条）"))
    for art in pf.articles:
        if not art.paragraphs:
            pf.errors.append(LoadError(rel, art.line, f"{art.label} 没有内容"))
    if pf.effective_date is None and not any("修正" in x or "修订" in x for x in pf.info):
        for art in pf.articles[-3:]:
            m = EFFECTIVE_ARTICLE_RE.match(art.paragraphs[0] if art.paragraphs else "")
            if m:
                pf.effective_date = _date(m)
    return pf


def _clean_paragraph(text: str) -> str:
    return text.translate(_INVISIBLE).strip().strip("\u3000").strip()


def discover(root: Path) -> list[Path]:
    """All law files under ``root`` (README.md excepted), in a stable order."""
    return sorted(p for p in root.rglob("*.md") if p.name.lower() != "readme.md")
