"""The authorization matrix, generated from the app's URL map (issue 9).

For every endpoint and every role of tests/security/authz.py: roles outside the policy are
refused (401/403/404, or sent to the login page) on every method the endpoint accepts; roles
inside it get no refusal and no error on GET. POSTs by allowed roles are left to the feature
tests, because a real POST changes state, except for the roles a policy lists in ``refuse_post``:
they see the object but the action is not theirs, so their POST must be refused (403/404/409). A new endpoint without a policy entry fails the test.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.routing import BuildError

from portal.extensions import db
from tests.security.authz import ROLE_ACCOUNTS, ROLES
from tests.security.conftest import login
from tests.security.policies import EXTRA_RULES, POLICIES


def _endpoints(app):
    rules = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        rules.setdefault(rule.endpoint, []).append(rule)
    return rules


@pytest.fixture(scope="module")
def matrix_app(demo_app):
    """The demo site plus the accounts the roles need that the demo data does not have."""
    from portal.accounts.models import ReviewTier, Role, User
    from portal.accounts.operations import create_user
    from portal.identity import make_id_number
    from portal.places.operations import region_by_code

    with demo_app.app_context():
        if not db.session.execute(select(User).where(User.mobile == "13800000101")).scalar_one_or_none():
            import datetime as dt

            create_user("13800000101", "Demo2026", "路人甲", make_id_number("220102", dt.date(1990, 1, 1), "101"))
            create_user("13800000102", "Demo2026", "滇审核", make_id_number("530102", dt.date(1980, 1, 1), "102"),
                        [(Role.reviewer, None, region_by_code("530102000000"), ReviewTier.county)])
            db.session.commit()
        _private_consultations()
        db.session.remove()
    return demo_app


def _private_consultations():
    """The demo data has no private question of citizen_a: ask two (in 南关区, served by the legal
    worker), the first claimed by the legal worker, the second left open."""
    from portal.accounts.models import User
    from portal.consultation.models import Consultation
    from portal.consultation.operations import ask_question, claim_consultation
    from portal.places.operations import region_by_code

    asker = db.session.execute(select(User).where(User.mobile == ROLE_ACCOUNTS["citizen_a"])).scalar_one()
    if db.session.execute(select(Consultation).where(Consultation.asker_id == asker.id,
                                                     Consultation.is_public.is_(False))).first():
        return
    worker = db.session.execute(select(User).where(User.mobile == ROLE_ACCOUNTS["legal_worker"])).scalar_one()
    region = region_by_code("220102000000")
    claimed = ask_question(asker, category="婚姻家庭", region=region, title="离婚后孩子的抚养费怎么算",
                           question="我和前妻离婚两年了，孩子跟她生活，抚养费应该按什么标准给付？", is_public=False)
    ask_question(asker, category="借贷合同", region=region, title="借条没写还款日期还能要回钱吗",
                 question="亲戚三年前借了我五万元，借条上没有写还款日期，现在还能起诉吗？", is_public=False)
    db.session.flush()
    claim_consultation(worker, claimed)
    db.session.commit()


def test_every_endpoint_has_a_policy(matrix_app):
    missing = sorted(set(_endpoints(matrix_app)) - set(POLICIES))
    assert missing == [], f"endpoints without an authorization policy: {missing}"
    stale = sorted(set(POLICIES) - set(_endpoints(matrix_app)))
    assert stale == [], f"policies for endpoints that no longer exist: {stale}"


def _refused(resp) -> bool:
    if resp.status_code in (401, 403, 404):
        return True
    return resp.status_code in (302, 303) and "/login" in resp.headers.get("Location", "")


CLIENTS: dict = {}


def _client(app, role):
    key = (id(app), role)
    if key not in CLIENTS:
        client = app.test_client()
        if role != "anonymous":
            login(client, ROLE_ACCOUNTS[role].lstrip("+"))
        CLIENTS[key] = client
    return CLIENTS[key]


#: What a policy's ``params`` or ``url_for`` raise when the policy no longer fits the demo data or its rule.
BAD_PARAMS = (BuildError, SQLAlchemyError, LookupError, TypeError, ValueError)


def _plan(app):
    """(endpoint, url, methods, policy) for every endpoint, URLs built from the demo objects."""
    plan, problems = [], []
    with app.test_request_context():
        from flask import url_for

        for endpoint, rules in sorted(_endpoints(app).items()):
            policy = POLICIES.get(endpoint)
            if policy is None:
                continue
            try:
                params = policy.params() if policy.params else {}
                url = url_for(endpoint, **params)
            except BAD_PARAMS as exc:  # a policy whose parameters do not fit its rule
                problems.append(f"{endpoint}: cannot build URL ({exc})")
                continue
            main = [r for r in rules if r.arguments == set(params)] or rules[:1]
            methods = sorted({m for r in main for m in r.methods} - {"HEAD", "OPTIONS"})
            plan.append((endpoint, url, methods, policy))
            # An endpoint with several rules (/cases/new and /cases/<id>/edit): each further rule
            # has its own entry in EXTRA_RULES, keyed by its URL arguments.
            for rule in rules:
                if any(rule is r for r in main):
                    continue
                extra = EXTRA_RULES.get((endpoint, frozenset(rule.arguments)))
                if extra is None:
                    problems.append(f"{endpoint}: rule {rule.rule} has no policy in EXTRA_RULES")
                    continue
                try:
                    extra_url = url_for(endpoint, **(extra.params() if extra.params else {}))
                except BAD_PARAMS as exc:
                    problems.append(f"{endpoint} ({rule.rule}): cannot build URL ({exc})")
                    continue
                plan.append((endpoint, extra_url, sorted(rule.methods - {"HEAD", "OPTIONS"}), extra))
        db.session.remove()
    return plan, problems


@pytest.mark.parametrize("role", ROLES)
def test_policy_holds_for_role(matrix_app, role):
    plan, failures = _plan(matrix_app)
    client = _client(matrix_app, role)
    for endpoint, url, methods, policy in plan:
        allowed = role in policy.allow
        for method in methods:
            refused_by_rule = method == "POST" and role in policy.refuse_post
            if method != "GET" and allowed and not refused_by_rule:
                continue
            resp = client.open(url, method=method, data={})
            if resp.status_code >= 500:
                failures.append(f"{method} {url} ({endpoint}) as {role}: {resp.status_code}")
            elif refused_by_rule:
                if resp.status_code not in (403, 404, 409):
                    failures.append(f"{method} {url} ({endpoint}) as {role}: NOT refused by the action's "
                                    f"rule ({resp.status_code})")
            elif allowed and _refused(resp):
                failures.append(f"{method} {url} ({endpoint}) as {role}: refused ({resp.status_code}) "
                                "but the policy allows it")
            elif not allowed and not _refused(resp):
                failures.append(f"{method} {url} ({endpoint}) as {role}: NOT refused ({resp.status_code})")
            elif allowed and method == "GET":
                failures += [f"GET {url} ({endpoint}) as {role} shows {m!r}" for m in _leaks(matrix_app, role, resp)]
    assert failures == [], "\n".join(failures)


# ---- private text in pages a role may open ------------------------------------------------------

def _markers(app) -> dict[str, set[str]]:
    """Texts of private demo records → the roles that may see them. Each is checked to exist in the
    database (and to be unique there), so the leak checks cannot pass for want of a marker."""
    if "AUTHZ_MARKERS" in app.config:
        return app.config["AUTHZ_MARKERS"]
    from case_library.models import ExemplaryCase
    from portal.consultation.models import Consultation
    from portal.mediation.models import MediationCase

    markers = {
        # citizen_a's private questions (made by the fixture): the asker, the worker of the area, admins
        "离婚后孩子的抚养费怎么算": (Consultation.title, {"citizen_a", "legal_worker", "admin"}),
        "借条没写还款日期还能要回钱吗": (Consultation.title, {"citizen_a", "legal_worker", "admin"}),
        # the facts of citizen_a's case in mediation: its parties and mediator
        "离婚后双方就孩子探望时间反复争执": (MediationCase.facts, {"citizen_a", "assigned_mediator"}),
        # an exemplary case under review (province tier) in 南岭: author, reviewers of 南关区 and up, admins
        "小区业主拒交物业费纠纷调解案": (ExemplaryCase.title, {"assigned_mediator", "reviewer", "admin"}),
        # a draft: its author and admins
        "韩某等业主与物业公司服务纠纷调解案": (ExemplaryCase.title, {"assigned_mediator", "admin"}),
    }
    with app.app_context():
        for text, (column, _roles) in markers.items():
            found = db.session.execute(select(db.func.count()).where(column.contains(text))).scalar_one()
            assert found == 1, f"leak marker {text!r} found {found} times in {column}"
        db.session.remove()
    app.config["AUTHZ_MARKERS"] = {text: roles for text, (_c, roles) in markers.items()}
    return app.config["AUTHZ_MARKERS"]


def _leaks(app, role: str, resp) -> list[str]:
    if resp.is_json:
        body = json.dumps(resp.get_json(), ensure_ascii=False)
    elif resp.mimetype in ("text/html", "text/plain"):
        body = resp.get_data(as_text=True)
    else:
        return []
    return [text for text, roles in _markers(app).items() if role not in roles and text in body]


@pytest.mark.parametrize("role", ROLES)
def test_searches_and_lists_show_no_private_record(matrix_app, role):
    """Every search box and list, asked for the private records' own words, shows them to no one
    who may not see them (the pages of the matrix are checked the same way above)."""
    client = _client(matrix_app, role)
    with matrix_app.test_request_context():
        from flask import url_for

        urls = [url_for(e) for e in ("main.index", "main.dashboard", "main.inbox", "mediation.index",
                                     "consultation.index", "consultation.mine", "consultation.queue",
                                     "case_library.index", "case_library.my_cases", "case_library.review_queue")]
        for text in _markers(matrix_app):
            # the first words only: the search box echoes the query, a hit would show the whole text
            urls += [url_for(e, q=text[:len(text) * 2 // 3]) for e in ("consultation.index", "consultation.suggest",
                                                  "case_library.index", "statutes.search")]
    failures = []
    for url in urls:
        resp = client.get(url)
        if resp.status_code >= 500:
            failures.append(f"GET {url} as {role}: {resp.status_code}")
        failures += [f"GET {url} as {role} shows {m!r}" for m in _leaks(matrix_app, role, resp)]
    assert failures == [], "\n".join(failures)
