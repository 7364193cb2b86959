"""The tiered review chain: jurisdiction and tier, return and resubmit, conflicts, publication."""
import pytest
from sqlalchemy import select, text

from case_library import operations
from case_library.models import CaseState
from case_library.operations import CaseError, ReviewConflict
from case_library.search import cases_index
from portal.audit import AuditRecord, trail_for
from portal.extensions import db
from tests.case_library.conftest import approve_through


def test_submission_anonymises_keeps_a_revision_and_queues_at_the_first_tier(people, make_case):
    case = make_case(submit=True)
    assert case.state == CaseState.in_review and case.current_tier == "township"
    assert case.chain_csv == "township,county,city,province"
    rev = case.latest_revision
    assert rev.number == 1 and "张某" in rev.basic_facts and "张建国" not in rev.basic_facts
    assert "13800000001" not in rev.basic_facts
    kinds = {r["kind"] for r in rev.replacements}
    assert {"name", "mobile"} <= kinds
    assert operations.review_queue(people.township_reviewer) == [case]
    assert operations.review_queue(people.county_reviewer) == []


@pytest.mark.parametrize("who", ["other_township_reviewer", "other_county_reviewer"])
def test_a_reviewer_outside_the_jurisdiction_is_refused(people, make_case, who):
    case = make_case(submit=True)
    with pytest.raises(CaseError, match="辖区"):
        operations.approve(getattr(people, who), case, case.version)
    assert operations.review_queue(getattr(people, who)) == []


@pytest.mark.parametrize("who", ["county_reviewer", "city_reviewer", "province_reviewer"])
def test_a_reviewer_of_another_tier_is_refused(people, make_case, who):
    case = make_case(submit=True)
    with pytest.raises(CaseError, match="审核层级"):
        operations.approve(getattr(people, who), case, case.version)


def test_non_reviewers_cannot_review(people, make_case):
    case = make_case(submit=True)
    for user in (people.mediator, people.citizen):
        with pytest.raises(CaseError):
            operations.approve(user, case, case.version)


def test_approval_passes_the_case_up_and_the_last_tier_publishes_at_its_level(people, make_case):
    case = make_case(submit=True)
    for tier, nxt in (("township", "county"), ("county", "city"), ("city", "province")):
        operations.approve(getattr(people, f"{tier}_reviewer"), case, case.version)
        db.session.commit()
        assert case.state == CaseState.in_review and case.current_tier == nxt
        assert case in operations.review_queue(getattr(people, f"{nxt}_reviewer"))
    operations.approve(people.province_reviewer, case, case.version)
    db.session.commit()
    assert case.state == CaseState.published and case.level == "province"
    assert case.level_label == "省级典型案例"
    actions = [r.action for r in case.reviews]
    assert actions == ["submit", "approve", "approve", "approve", "publish"]
    assert [a.action for a in trail_for("exemplary_case", case.id)][-1] == "case_library.publish"
    assert cases_index.search("宅基地").hits[0].id == str(case.id)


def test_a_configured_shorter_chain_publishes_at_county_level(people, make_case):
    operations.set_review_chain(None, people.city, ["township", "county"])
    case = make_case(submit=True)
    assert case.chain_csv == "township,county"
    approve_through(people, case, ("township", "county"))
    assert case.state == CaseState.published and case.level == "county"
    assert case.level_label == "县级典型案例"


def test_a_county_level_case_starts_at_the_county(people, make_case):
    case = make_case(region=people.county, submit=True)
    assert case.current_tier == "county" and case.chain_csv == "county,city,province"


def test_a_chain_must_end_at_a_publishing_tier(people):
    with pytest.raises(CaseError, match="县级及以上"):
        operations.set_review_chain(None, people.city, ["township"])
    with pytest.raises(CaseError, match="从低到高"):
        operations.set_review_chain(None, people.city, ["city", "county"])


def test_return_and_resubmit_makes_a_new_revision_with_a_diff(people, make_case):
    case = make_case(submit=True)
    with pytest.raises(CaseError, match="修改意见"):
        operations.return_for_revision(people.township_reviewer, case, case.version, "  ")
    operations.return_for_revision(people.township_reviewer, case, case.version, "请补充调解过程")
    db.session.commit()
    assert case.state == CaseState.returned and case.current_tier is None
    assert operations.review_queue(people.township_reviewer) == []
    case = operations.save_draft(people.mediator, case, region=case.region, fields={
        **case.section_texts(), "dispute_type": case.dispute_type, "keywords": case.keywords,
        "process": case.process + "调解员还邀请了村里的老党员<参与>。"}, party_names="张建国\n李秀兰")
    operations.submit(people.mediator, case)
    db.session.commit()
    assert case.state == CaseState.in_review and case.current_tier == "township"
    assert [r.number for r in case.revisions] == [1, 2]
    diff = operations.revision_diff(case)
    assert [d["label"] for d in diff] == ["调解过程"]
    html = str(diff[0]["html"])
    assert "<ins>调解员还邀请了村里的老党员&lt;参与&gt;。</ins>" in html  # escaped


def test_reject_needs_a_reason_and_ends_the_review(people, make_case):
    case = make_case(submit=True)
    with pytest.raises(CaseError, match="理由"):
        operations.reject(people.township_reviewer, case, case.version, "")
    operations.reject(people.township_reviewer, case, case.version, "与已发布案例雷同")
    db.session.commit()
    assert case.state == CaseState.rejected and case.reject_reason == "与已发布案例雷同"
    with pytest.raises(CaseError):
        operations.submit(people.mediator, case)


def test_approving_a_stale_revision_is_refused(people, make_case):
    case = make_case(submit=True)
    seen = case.version
    operations.approve(people.township_reviewer, case, seen)
    db.session.commit()
    with pytest.raises(ReviewConflict, match="刷新"):
        operations.approve(people.county_reviewer, case, seen)


def test_two_reviewers_at_once_one_wins_the_other_is_told(people, make_case):
    """Both reviewers loaded version v; the first approves; the second's form still says v."""
    case = make_case(submit=True)
    loaded_by_both = case.version
    operations.approve(people.township_reviewer, case, loaded_by_both)
    db.session.commit()
    with pytest.raises(ReviewConflict):
        operations.return_for_revision(people.township_reviewer2, case, loaded_by_both, "请修改")
    db.session.rollback()
    assert case.state == CaseState.in_review and case.current_tier == "county"


def test_a_race_inside_the_check_window_is_caught_by_the_version_column(people, make_case):
    """Another process commits between our read and our write: the UPDATE matches no row."""
    case = make_case(submit=True)
    v = case.version
    with db.engine.connect() as other:  # the other reviewer's transaction
        other.execute(text("UPDATE exemplary_case SET version = version + 1, current_tier = 'county' "
                           "WHERE id = :id"), {"id": case.id})
        other.commit()
    audits_before = db.session.execute(select(db.func.count(AuditRecord.id))).scalar()
    with pytest.raises(ReviewConflict, match="另一位审核员"):
        operations.approve(people.township_reviewer, case, v)
    db.session.rollback()
    assert db.session.execute(select(db.func.count(AuditRecord.id))).scalar() == audits_before


def test_unpublish_needs_a_reason_and_removes_the_case_from_search_at_once(people, make_case):
    case = make_case(submit=True)
    approve_through(people, case)
    assert [h.id for h in cases_index.search("宅基地 边界").hits] == [str(case.id)]
    with pytest.raises(CaseError, match="理由"):
        operations.unpublish(people.province_reviewer, case, "")
    with pytest.raises(CaseError, match="撤销发布"):
        operations.unpublish(people.county_reviewer, case, "有误")  # below the publishing tier
    operations.unpublish(people.province_reviewer, case, "当事人提出异议，核查中")
    db.session.commit()
    assert case.state == CaseState.unpublished
    assert cases_index.search("宅基地 边界").total == 0


def test_empty_sections_are_refused_at_submission(people, make_case):
    case = make_case(commentary="")
    with pytest.raises(CaseError, match="案例评析") as err:
        operations.submit(people.mediator, case)
    assert err.value.field == "commentary"
    assert case.revision_count == 0


def test_submission_is_refused_while_a_phone_pattern_remains(people, make_case):
    case = make_case(process="当事人电话138 0000.0001，已核实。")
    with pytest.raises(CaseError, match="手机号码"):
        operations.submit(people.mediator, case)
    db.session.rollback()
    assert case.state == CaseState.draft and case.revisions == []


def test_only_the_author_submits_and_only_mediators_write(people, make_case):
    case = make_case()
    with pytest.raises(CaseError):
        operations.submit(people.other_mediator, case)
    with pytest.raises(CaseError, match="人民调解员"):
        operations.save_draft(people.citizen, None, region=people.township, fields={"title": "x",
                              "dispute_type": "其他"})
