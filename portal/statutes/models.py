"""Statute library (法律法规库, issue 10): a law, its chapters/sections and its articles.

A law is keyed by its full name and version date (修正/修订 versions are separate rows); 民法典,
which the source splits into one file per book, is one law whose articles run 1..1260.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db

ITEM_RE = re.compile(r"^（[一二三四五六七八九十]+）")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class Law(db.Model):
    __tablename__ = "statute_law"
    __table_args__ = (UniqueConstraint("full_name", "version_date", name="uq_statute_law_name_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(100), index=True)
    #: The name without 中华人民共和国 (人民调解法); equal to the full name for 条例.
    short_name: Mapped[str] = mapped_column(String(100), index=True)
    #: The legal category: the folder name of the source (民法典, 社会法, 行政法规…).
    category: Mapped[str] = mapped_column(String(40), index=True)
    #: Date of this version (from the file name, or the last 通过/修正 date of the header).
    version_date: Mapped[dt.date]
    effective_date: Mapped[dt.date | None]
    #: The header lines (通过, 修正, 施行…), one per line.
    info: Mapped[str] = mapped_column(Text, default="")
    #: Source files relative to the laws folder, one per line.
    source: Mapped[str] = mapped_column(Text, default="")
    #: SHA-256 of the source texts: a reload with the same hash changes nothing.
    content_hash: Mapped[str] = mapped_column(String(64))
    article_count: Mapped[int] = mapped_column(default=0)
    loaded_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)

    divisions: Mapped[list[Division]] = relationship(
        back_populates="law", order_by="Division.position", cascade="all, delete-orphan"
    )
    articles: Mapped[list[Article]] = relationship(
        back_populates="law", order_by="Article.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Law {self.id} {self.short_name} {self.version_date}>"

    @property
    def info_lines(self) -> list[str]:
        return [line for line in self.info.split("\n") if line.strip()]


class Division(db.Model):
    """A heading of the law: 编, 分编, 章 or 节 (``depth`` 0 is the outermost level of that law)."""

    __tablename__ = "statute_division"
    __table_args__ = (CheckConstraint("depth >= 0 AND depth <= 5", name="depth_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    law_id: Mapped[int] = mapped_column(ForeignKey("statute_law.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("statute_division.id", ondelete="CASCADE"))
    depth: Mapped[int]
    #: 第一章, 第二节…; empty for headings without a number (民法典's 总则, 物权编).
    label: Mapped[str] = mapped_column(String(20), default="")
    title: Mapped[str] = mapped_column(String(100), default="")
    position: Mapped[int]

    law: Mapped[Law] = relationship(back_populates="divisions")
    parent: Mapped[Division | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Division {self.law_id} {self.heading}>"

    @property
    def heading(self) -> str:
        return " ".join(p for p in (self.label, self.title) if p)

    @property
    def anchor(self) -> str:
        return f"div-{self.id}"


@dataclass(frozen=True)
class Paragraph:
    kind: str  # "para" (款) or "item" (项)
    text: str


class Article(db.Model):
    __tablename__ = "statute_article"
    __table_args__ = (
        UniqueConstraint("law_id", "number", "suffix", name="uq_statute_article_number"),
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint("suffix >= 0", name="suffix_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    law_id: Mapped[int] = mapped_column(ForeignKey("statute_law.id", ondelete="CASCADE"), index=True)
    division_id: Mapped[int | None] = mapped_column(
        ForeignKey("statute_division.id", ondelete="SET NULL"), index=True
    )
    #: The integer of 第一千二百六十条 (1260).
    number: Mapped[int]
    #: 之一 → 1 for inserted articles (第十条之一); 0 otherwise.
    suffix: Mapped[int] = mapped_column(default=0)
    #: 第一千二百六十条, as written in the source.
    label: Mapped[str] = mapped_column(String(30))
    #: Order within the law.
    position: Mapped[int]
    #: Paragraphs (款) and items (项), one per line, without the leading 第…条.
    text: Mapped[str] = mapped_column(Text)
    #: Where it was read: ``folder/file.md:line``.
    source_line: Mapped[str] = mapped_column(String(200), default="")

    law: Mapped[Law] = relationship(back_populates="articles")
    division: Mapped[Division | None] = relationship()

    def __repr__(self) -> str:
        return f"<Article {self.law_id} {self.label}>"

    @property
    def anchor(self) -> str:
        return f"art-{self.number}" + (f"-{self.suffix}" if self.suffix else "")

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [
            Paragraph("item" if ITEM_RE.match(line) else "para", line)
            for line in self.text.split("\n") if line.strip()
        ]

    @property
    def plain(self) -> str:
        """The article as one text (for snippets and the hover popover)."""
        return "\n".join(p.text for p in self.paragraphs)
