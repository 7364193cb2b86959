"""The search index follows the database: written right after a successful commit, never before,
never after a rollback; a failed index write keeps the request successful and is repaired by a
rebuild. Republication, and the administrators' page of review chains."""
import logging

from sqlalchemy.exc import IntegrityError, OperationalError

from case_library import operations
from case_library.models import CaseReview, CaseState, ExemplaryCase, ReviewChain
from case_library.search import cases_index, reindex_all
from portal.accounts.models import Role
from portal.audit import trail_for
from portal.extensions import db
from tests.case_library.conftest import approve_through
from tests.conftest import text_of


def found(case, query="宅基地"):
    return str(case.id) in {h.id for h in cases_index.search(query, pagelen=100).hits}


def publish_uncommitted(people, case):
    """Approve through every tier; the last approval (the publication) is left uncommitted."""
    approve_through(people, case, ("township", "county", "city"))
    operations.approve(people.province_reviewer, case, case.version)
    assert case.state == CaseState.published


def test_publication_reaches_the_index_only_when_the_commit_succeeds(people, make_case):
    case = make_case(submit=True)
    publish_uncommitted(people, case)
    db.session.flush()
    assert not found(case)  # flushed, not committed: not yet searchable
    db.session.commit()
    assert found(case)


def test_a_rolled_back_publication_never_reaches_the_index(people, make_case):
    case = make_case(submit=True)
    publish_uncommitted(people, case)
    db.session.rollback()
    assert not found(case)
    db.session.commit()  # a later, unrelated commit does not index it either
    assert not found(case)


def test_a_failed_commit_leaves_the_index_as_it_was(people, make_case):
    case = make_case(submit=True)
    publish_uncommitted(people, case)
    # A row the database refuses makes the commit itself fail.
    db.session.add(ExemplaryCase(author_id=people.mediator.id, region_id=people.township.id, state="bogus",
                                 title="x", dispute_type="其他"))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
    else:  # pragma: no cover
        raise AssertionError("the commit should have failed")
    assert not found(case)
    db.session.expire_all()
    assert db.session.get(ExemplaryCase, case.id).state == CaseState.in_review


def test_unpublish_leaves_the_index_after_the_commit(people, make_case):
    case = make_case(submit=True)
    approve_through(people, case)
    assert found(case)
    operations.unpublish(people.province_reviewer, case, "内容需要核实")
    assert found(case)  # not yet committed: the public still finds the published version
    db.session.commit()
    assert not found(case)


def test_an_index_write_failure_never_leaves_index_and_database_apart(
        client, auth, people, make_case, monkeypatch, caplog):
    """Whoosh: the index is written after the commit; if that fails the request stands (the database is
    the truth), the repair command is logged, and a rebuild repairs. PostgreSQL backend: the index is
    written inside the commit, so its failure is the database's: a 503, and nothing changed at all."""
    case = make_case(submit=True)
    approve_through(people, case)
    assert found(case)
    in_database = cases_index._pg_backend() is not None

    def broken(*_a, **_k):
        if in_database:
            raise OperationalError("DELETE FROM search_document …", {}, Exception("server closed the connection"))
        raise OSError("disk full")

    monkeypatch.setattr(cases_index, "delete", broken)
    auth.login(people.province_reviewer)
    with caplog.at_level(logging.ERROR, logger="portal.search"):
        resp = client.post(f"/cases/{case.id}/unpublish", data={"reason": "当事人提出异议", "version": case.version})
    db.session.rollback()
    db.session.expire_all()
    if in_database:
        assert resp.status_code == 503 and "系统繁忙" in text_of(resp)
        assert db.session.get(ExemplaryCase, case.id).state == CaseState.published  # all or nothing
        monkeypatch.undo()
        assert found(case)
        return
    assert resp.status_code == 302
    assert db.session.get(ExemplaryCase, case.id).state == CaseState.unpublished  # the database is the truth
    assert "flask cases reindex" in caplog.text and str(case.id) in caplog.text
    assert found(case)  # the index is behind...
    monkeypatch.undo()
    assert reindex_all() == 0
    assert not found(case)  # ...until the rebuild


def test_republish_by_the_publishing_tier_with_a_reason(client, auth, people, make_case):
    case = make_case(submit=True)
    approve_through(people, case, ("township", "county", "city", "province"))
    operations.unpublish(people.province_reviewer, case, "待核实")
    db.session.commit()
    published_at = case.published_at
    assert not found(case)

    auth.login(people.county_reviewer)  # below the publishing (province) tier
    assert client.post(f"/cases/{case.id}/republish", data={"reason": "已核实", "version": case.version}
                       ).status_code == 403
    auth.logout()
    auth.login(people.province_reviewer)
    page = text_of(client.get(f"/cases/{case.id}"))
    assert "重新发布" in page
    resp = client.post(f"/cases/{case.id}/republish", data={"reason": "  ", "version": case.version},
                       follow_redirects=True)
    assert "请填写重新发布的理由" in text_of(resp)
    db.session.expire_all()
    assert case.state == CaseState.unpublished
    resp = client.post(f"/cases/{case.id}/republish", data={"reason": "已核实，内容无误", "version": case.version})
    assert resp.status_code == 302
    db.session.expire_all()
    assert case.state == CaseState.published and case.unpublish_reason is None
    assert case.published_at == published_at and case.level == "province"
    assert found(case)
    step = db.session.execute(db.select(CaseReview).where(CaseReview.case_id == case.id)
                              .order_by(CaseReview.id.desc())).scalars().first()
    assert step.action == "publish" and step.comment == "重新发布：已核实，内容无误"
    assert trail_for("exemplary_case", case.id)[-1].action == "case_library.republish"
    # A stale form (the version before republication) is refused, not applied twice.
    operations.unpublish(people.province_reviewer, case, "再次核实")
    db.session.commit()
    resp = client.post(f"/cases/{case.id}/republish", data={"reason": "旧表单", "version": case.version - 1},
                       follow_redirects=True)
    assert "请刷新页面" in text_of(resp)
    db.session.expire_all()
    assert case.state == CaseState.unpublished


def test_feature_reaches_the_index_after_commit(people, make_case):
    case = make_case(submit=True)
    approve_through(people, case)
    operations.set_featured(people.province_reviewer, case, True)
    assert cases_index.search("", filters={"featured": "1"}).total == 0
    db.session.commit()
    assert [h.id for h in cases_index.search("", filters={"featured": "1"}).hits] == [str(case.id)]


def test_admin_sets_a_review_chain(client, auth, people, factory):
    admin = factory.user(Role.admin, name="管理员")
    db.session.commit()
    auth.login(people.county_reviewer)
    assert client.get("/cases/admin/chains").status_code == 403
    assert client.post("/cases/admin/chains", data={"region_code": people.county.code,
                                                    "tiers": ["county"]}).status_code == 403
    auth.logout()
    auth.login(admin)
    page = text_of(client.get(f"/cases/admin/chains?region={people.county.code}"))
    assert "默认层级" in page and "司法所" in page
    resp = client.post("/cases/admin/chains", data={"region_code": people.county.code, "tiers": ["county", "city"]})
    assert resp.status_code == 302
    chain = db.session.execute(db.select(ReviewChain)).scalar_one()
    assert chain.region_id == people.county.id and chain.tiers_csv == "county,city"
    assert trail_for("region", people.county.id)[-1].action == "case_library.chain"
    assert "南关区" in text_of(client.get("/cases/admin/chains"))
    # Cases of the county's townships now start at the county.
    assert [str(t) for t in operations.chain_for(people.township)] == ["county", "city"]
    # Bad input: a message beside the field, nothing saved.
    for data, message in (({"region_code": "999999999999", "tiers": ["county"]}, "没有该代码的地区"),
                          ({"region_code": people.township.code, "tiers": ["county"]}, "省、市或县"),
                          ({"region_code": people.county.code, "tiers": ["city", "county"]}, "从低到高"),
                          ({"region_code": people.county.code, "tiers": ["township"]}, "最后一级"),
                          ({"region_code": people.county.code}, "从低到高")):
        resp = client.post("/cases/admin/chains", data=data)
        assert resp.status_code == 200 and message in text_of(resp), data
    db.session.expire_all()
    assert db.session.execute(db.select(ReviewChain)).scalar_one().tiers_csv == "county,city"
