"""Search across server processes (issue 8): the embedded Whoosh index in one shared INDEX_FOLDER.

Two gunicorn processes share PostgreSQL and the index folder. A case published through process A
is found by the public search page of process B (whose searchers were opened before the
publication and must notice the new segment), an unpublication through B disappears from A's
search, and writers in both processes at once wait for Whoosh's lock instead of failing.
"""
from __future__ import annotations

import re
import threading

import pytest
import requests
import sqlalchemy as sa

from portal import create_app
from portal.extensions import db
from tests.conftest import PASSWORD, PG_BASE, Factory, _drop_pg_schema, _new_pg_schema
from tests.scale.servers import ServerProcess, http_login

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

FIELD_KEY = "uNn3bFgq2o2Wb4f7xHk2Y0o5m9y8rW3jv1cF6tQ0s2E="
WORD = "葡萄园"
TITLE = "葡萄园承包合同纠纷调解案"


def _pg_up() -> bool:
    try:
        sa.create_engine(PG_BASE).connect().close()
        return True
    except Exception:  # noqa: BLE001
        return False


def _token(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10).text
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _version(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10).text
    return re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)


def _found(base_url: str, case_id: int, query: str = WORD) -> bool:
    """Whether the public search page lists the case (titles are highlighted, so look for its link)."""
    page = requests.get(base_url + "/cases/", params={"q": query}, timeout=20)
    assert page.status_code == 200
    return f'href="/cases/{case_id}"' in page.text


@pytest.fixture
def two_servers(tmp_path):
    if not _pg_up():
        pytest.fail("PostgreSQL (127.0.0.1:5432) must run: bash scripts/services.sh")
    schema, url = _new_pg_schema()
    index_folder = str(tmp_path / "index")  # ONE folder for both processes
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "cluster-secret", "FIELD_ENCRYPTION_KEY": FIELD_KEY,
              "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
              "UPLOAD_FOLDER": str(tmp_path / "uploads"), "INDEX_FOLDER": index_folder}
    app = create_app(config)
    with app.app_context():
        db.create_all()
        from case_library import operations
        from portal.accounts.models import ReviewTier, Role

        f = Factory(app)
        province = f.region("220000000000", "吉林省")
        city = f.region("220100000000", "长春市", province)
        county = f.region("220102000000", "南关区", city)
        township = f.region("220102001000", "南岭街道", county)
        org = f.organisation(region_code="220102001000")
        mediator = f.user(Role.mediator, org=org, name="赵调解")
        reviewers = {
            "township": f.user(Role.reviewer, region=township, tier=ReviewTier.township, name="周所长"),
            "county": f.user(Role.reviewer, region=county, tier=ReviewTier.county, name="吴科长"),
            "city": f.user(Role.reviewer, region=city, tier=ReviewTier.city, name="郑处长"),
            "province": f.user(Role.reviewer, region=province, tier=ReviewTier.province, name="冯厅长"),
            "province2": f.user(Role.reviewer, region=province, tier=ReviewTier.province, name="冯副厅长"),
        }
        db.session.commit()
        sections = {"basic_facts": "村民甲承包村集体葡萄园五年，村委会换届后要求提前收回，双方发生争执。",
                    "process": "调解员查阅承包合同，向双方讲解农村土地承包法的规定。",
                    "result": "双方同意合同继续履行，村委会补偿甲方修建滴灌设施的费用。",
                    "commentary": "承包合同受法律保护，换届不影响合同效力。",
                    "legal_basis": "《中华人民共和国农村土地承包法》第二十七条。"}
        case = operations.save_draft(mediator, None, region=township,
                                     fields={"title": TITLE, "dispute_type": "合同纠纷", "keywords": "承包",
                                             **sections})
        operations.submit(mediator, case)
        for tier in ("township", "county", "city"):
            operations.approve(reviewers[tier], case, case.version)
        db.session.commit()
        assert case.tier_enum == ReviewTier.province
        info = {"case_id": case.id, "province": reviewers["province"].mobile,
                "province2": reviewers["province2"].mobile}
        db.session.remove()
        db.engine.dispose()
    env = {"DATABASE_URL": url, "SECRET_KEY": "cluster-secret", "FIELD_ENCRYPTION_KEY": FIELD_KEY,
           "INSTANCE_PATH": str(tmp_path / "instance"), "UPLOAD_FOLDER": str(tmp_path / "uploads"),
           "INDEX_FOLDER": index_folder, "SEARCH_BACKEND": "whoosh"}
    servers = [ServerProcess(env, tmp_path / f"server{i}.log").start() for i in (1, 2)]
    yield servers, info, config
    for s in servers:
        s.stop()
    _drop_pg_schema(schema)


@pytest.mark.timeout(240)
def test_publish_in_a_found_in_b_unpublish_in_b_gone_from_a(two_servers):
    (a, b), info, _config = two_servers
    case_id = info["case_id"]
    # Both processes open their searchers before the publication (an empty index).
    for server in (a, b):
        for _ in range(3):  # several of the 60 threads
            assert not _found(server.url, case_id)

    reviewer_a = http_login(a.url, info["province"], PASSWORD)
    review_url = f"{a.url}/cases/{case_id}/review"
    resp = reviewer_a.post(review_url, data={"csrf_token": _token(reviewer_a, review_url), "action": "approve",
                                             "comment": "同意发布", "version": _version(reviewer_a, review_url)},
                           allow_redirects=False, timeout=20)
    assert resp.status_code == 302, resp.text[:500]
    for _ in range(5):  # every thread of B that answers sees it at once (no retry loop, no sleep)
        assert _found(b.url, case_id)
    assert _found(a.url, case_id)

    reviewer_b = http_login(b.url, info["province"], PASSWORD)
    case_url = f"{b.url}/cases/{case_id}"
    resp = reviewer_b.post(case_url + "/unpublish",
                           data={"csrf_token": _token(reviewer_b, case_url), "reason": "需要核实合同期限",
                                 "version": _version(reviewer_b, case_url)}, allow_redirects=False, timeout=20)
    assert resp.status_code == 302
    for _ in range(5):
        assert not _found(a.url, case_id)
    assert not _found(b.url, case_id)
    assert requests.get(f"{a.url}/cases/{case_id}", timeout=10).status_code == 404  # the public: gone


@pytest.mark.timeout(300)
def test_writers_in_both_processes_wait_for_the_lock(two_servers):
    (a, b), info, config = two_servers
    case_id = info["case_id"]
    reviewer_a = http_login(a.url, info["province"], PASSWORD)
    review_url = f"{a.url}/cases/{case_id}/review"
    assert reviewer_a.post(review_url, data={"csrf_token": _token(reviewer_a, review_url), "action": "approve",
                                             "version": _version(reviewer_a, review_url)},
                           allow_redirects=False, timeout=20).status_code == 302
    sessions = {a.url: reviewer_a, b.url: http_login(b.url, info["province2"], PASSWORD)}
    tokens = {url: _token(s, f"{url}/cases/{case_id}") for url, s in sessions.items()}
    statuses: list[int] = []
    errors: list[str] = []

    def toggle(url: str, n: int):
        try:
            for i in range(n):
                r = sessions[url].post(f"{url}/cases/{case_id}/feature",
                                       data={"csrf_token": tokens[url], "featured": str((i + 1) % 2)},
                                       allow_redirects=False, timeout=60)
                statuses.append(r.status_code)
                _found(url, case_id)  # searches in between, in the same process
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    # Two writers per process, both processes at once: Whoosh allows one writer; the others wait.
    threads = [threading.Thread(target=toggle, args=(url, 12)) for url in (a.url, b.url, a.url, b.url)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(240)
    assert errors == []
    assert len(statuses) == 48 and set(statuses) == {302}
    for server in (a, b):
        log = server.log_path.read_text(errors="replace")
        assert "LockError" not in log and "Traceback" not in log, log[-2000:]

    # The last toggle decides; the index agrees with the database in both processes.
    final = sessions[b.url].post(f"{b.url}/cases/{case_id}/feature",
                                 data={"csrf_token": tokens[b.url], "featured": "1"}, allow_redirects=False,
                                 timeout=60)
    assert final.status_code == 302
    for server in (a, b):
        home = requests.get(server.url + "/cases/", timeout=20).text
        featured = home.split("推荐案例", 1)[1] if "推荐案例" in home else ""
        assert f'href="/cases/{case_id}"' in featured.split("</section>", 1)[0], server.url
    # And the index on disk opens and holds exactly the published case.
    app = create_app(config)
    with app.app_context():
        from case_library.search import cases_index

        assert cases_index.count() == 1
        assert [h.id for h in cases_index.search(WORD).hits] == [str(case_id)]
        db.session.remove()
        db.engine.dispose()
