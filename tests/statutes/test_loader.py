"""Loading the 27 files of data/laws/: counts, structure, dates, idempotence, and malformed files."""
import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.audit import AuditRecord
from portal.extensions import db
from portal.statutes.models import Article, Division, Law
from portal.statutes.operations import DEFAULT_LAWS_FOLDER, load_laws
from portal.statutes.parsing import discover, parse_file


def _count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def test_all_27_files_are_found_and_parse_cleanly():
    files = discover(DEFAULT_LAWS_FOLDER)
    assert len(files) == 27
    for path in files:
        parsed = parse_file(path, DEFAULT_LAWS_FOLDER)
        assert parsed.ok, parsed.errors


def test_article_counts(laws):
    assert laws["人民调解法"].article_count == 35
    assert _count(Article, Article.law_id == laws["人民调解法"].id) == 35
    assert laws["民法典"].article_count == 1260
    assert len(laws) == 20  # 民法典's 8 book files form one law
    numbers = db.session.execute(
        select(Article.number).where(Article.law_id == laws["民法典"].id).order_by(Article.position)
    ).scalars().all()
    assert numbers == list(range(1, 1261))


def test_names_category_and_dates(laws):
    law = laws["人民调解法"]
    assert law.full_name == "中华人民共和国人民调解法"
    assert law.category == "诉讼与非诉讼程序法"
    assert law.version_date == dt.date(2010, 8, 28)
    assert law.effective_date == dt.date(2011, 1, 1)  # 第三十五条 本法自2011年1月1日起施行
    code = laws["民法典"]
    assert code.category == "民法典" and code.version_date == dt.date(2020, 5, 28)
    assert code.effective_date == dt.date(2021, 1, 1)  # the 施行 line of the header
    regulation = laws["医疗纠纷预防和处理条例"]
    assert regulation.full_name == regulation.short_name == "医疗纠纷预防和处理条例"
    assert regulation.category == "行政法规" and regulation.effective_date == dt.date(2018, 10, 1)
    assert "通过" in law.info


def test_paragraphs_and_items_are_kept(laws):
    art3 = db.session.execute(select(Article).where(Article.law_id == laws["人民调解法"].id,
                                                    Article.number == 3)).scalar_one()
    kinds = [p.kind for p in art3.paragraphs]
    assert kinds == ["para", "item", "item", "item"]
    assert art3.paragraphs[0].text.startswith("人民调解委员会调解民间纠纷，应当遵循下列原则")
    assert art3.paragraphs[1].text.startswith("（一）在当事人自愿、平等的基础上进行调解")
    assert art3.label == "第三条"
    art8 = db.session.execute(select(Article).where(Article.law_id == laws["人民调解法"].id,
                                                    Article.number == 8)).scalar_one()
    assert len(art8.paragraphs) == 3 and all(p.kind == "para" for p in art8.paragraphs)


def test_chapter_and_section_structure(laws):
    law = laws["人民调解法"]
    chapters = db.session.execute(select(Division).where(Division.law_id == law.id)
                                  .order_by(Division.position)).scalars().all()
    assert [c.heading for c in chapters] == [
        "第一章 总则", "第二章 人民调解委员会", "第三章 人民调解员", "第四章 调解程序", "第五章 调解协议", "第六章 附则"]
    art33 = db.session.execute(select(Article).where(Article.law_id == law.id, Article.number == 33)).scalar_one()
    assert art33.division.heading == "第五章 调解协议"

    code = laws["民法典"]
    art1042 = db.session.execute(select(Article).where(Article.law_id == code.id, Article.number == 1042)).scalar_one()
    chain = []
    node = art1042.division
    while node:
        chain.append(node.heading)
        node = node.parent
    assert list(reversed(chain)) == ["婚姻家庭编", "第一章 一般规定"]
    # 物权编 → 第一分编 通则 → 第二章 … → 第一节 不动产登记 (four levels)
    art209 = db.session.execute(select(Article).where(Article.law_id == code.id, Article.number == 209)).scalar_one()
    chain = []
    node = art209.division
    while node:
        chain.append((node.depth, node.heading))
        node = node.parent
    assert list(reversed(chain)) == [(0, "物权编"), (1, "第一分编 通则"), (2, "第二章 物权的设立、变更、转让和消灭"),
                                     (3, "第一节 不动产登记")]
    # headings with spaces inside (第四章  肖 像 权) are normalised
    assert _count(Division, Division.law_id == code.id, Division.title == "肖像权") == 1
    # 附则's empty "##" opens no division: its two articles hang under the book
    art1260 = db.session.execute(select(Article).where(Article.law_id == code.id, Article.number == 1260)).scalar_one()
    assert art1260.division.title == "附则" and art1260.division.depth == 0


def test_reload_is_idempotent(app, laws):
    before = (_count(Law), _count(Article), _count(Division), _count(AuditRecord))
    ids = db.session.execute(select(Article.id).order_by(Article.id)).scalars().all()
    report = load_laws(None)
    db.session.commit()
    assert report.added == [] and report.updated == [] and len(report.unchanged) == 20
    assert (_count(Law), _count(Article), _count(Division), _count(AuditRecord)) == before
    assert db.session.execute(select(Article.id).order_by(Article.id)).scalars().all() == ids


@pytest.mark.no_laws
def test_first_load_writes_audit_records_and_a_changed_file_updates_the_law(app, tmp_path):
    root = tmp_path / "laws"
    shutil.copytree(DEFAULT_LAWS_FOLDER / "诉讼与非诉讼程序法", root / "诉讼与非诉讼程序法")
    report = load_laws(None, root=root)
    db.session.commit()
    assert len(report.added) == 6 and not report.errors
    assert _count(AuditRecord, AuditRecord.action == "statutes.load") == 6
    law = db.session.execute(select(Law).where(Law.short_name == "人民调解法")).scalar_one()
    path = root / "诉讼与非诉讼程序法" / "人民调解法(2010-08-28).md"
    path.write_text(path.read_text(encoding="utf-8").replace("不收取任何费用", "不收取任何费用（改）"), encoding="utf-8")
    report = load_laws(None, root=root)
    db.session.commit()
    assert report.updated == ["人民调解法"] and len(report.unchanged) == 5
    assert db.session.get(Law, law.id).article_count == 35
    art4 = db.session.execute(select(Article).where(Article.law_id == law.id, Article.number == 4)).scalar_one()
    assert "不收取任何费用（改）" in art4.text
    assert _count(Article, Article.law_id == law.id) == 35


GOOD = """# 中华人民共和国测试法

2020年1月1日 第十三届全国人民代表大会常务委员会第一次会议通过

<!-- INFO END -->

## 第一章 总则

第一条 为了测试，制定本法。

第二条 本法第一条所称测试，包括下列情形：

（一）单元测试；

（二）集成测试。

第二条之一 插入的条文。

## 第二章 附则

第三条 本法自2020年3月1日起施行。
"""


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.no_laws
def test_malformed_files_are_reported_with_file_and_line_and_the_others_load(app, tmp_path):
    root = tmp_path / "laws"
    _write(root, "测试类/测试法(2020-01-01).md", GOOD)
    no_marker = GOOD.replace("# 中华人民共和国测试法", "# 无标记法").replace("<!-- INFO END -->", "")
    _write(root, "测试类/无标记法(2020-01-01).md", no_marker)
    body_line = no_marker.split("\n").index("## 第一章 总则") + 1
    out_of_order = GOOD.replace("# 中华人民共和国测试法", "# 乱序法").replace("第三条 本法自", "第二条 本法自")
    _write(root, "测试类/乱序法(2020-01-01).md", out_of_order)
    report = load_laws(None, root=root)
    db.session.commit()
    messages = [str(e) for e in report.errors]
    assert any(m.startswith(f"测试类/无标记法(2020-01-01).md:{body_line}:") and "INFO END" in m
               for m in messages), messages
    bad_line = out_of_order.split("\n").index("第二条 本法自2020年3月1日起施行。") + 1
    assert any(m.startswith(f"测试类/乱序法(2020-01-01).md:{bad_line}:") and "顺序" in m for m in messages), messages
    assert report.added == ["测试法"]
    names = db.session.execute(select(Law.short_name)).scalars().all()
    assert names == ["测试法"]  # nothing of the bad files is half-saved
    law = db.session.execute(select(Law)).scalar_one()
    assert law.effective_date == dt.date(2020, 3, 1)
    labels = db.session.execute(select(Article.label).where(Article.law_id == law.id)
                                .order_by(Article.position)).scalars().all()
    assert labels == ["第一条", "第二条", "第二条之一", "第三条"]
    inserted = db.session.execute(select(Article).where(Article.label == "第二条之一")).scalar_one()
    assert (inserted.number, inserted.suffix, inserted.anchor) == (2, 1, "art-2-1")


@pytest.mark.no_laws
def test_files_of_one_law_are_combined_in_article_order_and_overlaps_refused(app, tmp_path):
    root = tmp_path / "laws"
    head = "# 测试条例\n\n# {book}\n\n2021年1月1日 国务院公布\n\n<!-- INFO END -->\n\n"
    _write(root, "条例/乙编.md", head.format(book="乙编") + "第三条 丙。\n\n第四条 丁。\n")
    _write(root, "条例/甲编.md", head.format(book="甲编") + "## 第一章 一般规定\n\n第一条 甲。\n\n第二条 乙。\n")
    _write(root, "条例/重复编.md", head.format(book="重复编") + "第四条 重复。\n")
    report = load_laws(None, root=root)
    db.session.commit()
    assert [str(e).split(":")[0] for e in report.errors] == ["条例/重复编.md"]
    law = db.session.execute(select(Law)).scalar_one()
    assert law.article_count == 4 and law.version_date == dt.date(2021, 1, 1)
    texts = db.session.execute(select(Article.text).order_by(Article.position)).scalars().all()
    assert texts == ["甲。", "乙。", "丙。", "丁。"]
