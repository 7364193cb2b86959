"""Pages render for each capacity without inline script or style, and the demo seeder fills every state."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.accounts.models import Role
from portal.extensions import db
from portal.mediation.demo import load_demo
from portal.mediation.models import CaseState, MediationCase


def assert_csp_clean(html: str):
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\sstyle=", html), "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline handler"


def test_pages_render_for_each_capacity(world, make_case, client, auth):
    case = make_case(CaseState.agreement_pending)
    assert client.get("/mediation/").status_code == 200
    for user in (world.applicant, world.respondent, world.mediator, world.head):
        auth.login(user)
        for url in ("/mediation/", "/mediation/apply", f"/mediation/cases/{case.id}", "/me"):
            resp = client.get(url)
            if url == "/mediation/apply" and not user.has_role(Role.citizen):
                assert resp.status_code == 403
                continue
            assert resp.status_code == 200, (url, user.real_name)
            assert_csp_clean(resp.get_data(as_text=True))
        auth.logout()


def test_case_page_offers_only_allowed_actions(world, make_case, client, auth):
    case = make_case(CaseState.agreement_pending)
    auth.login(world.applicant)
    html = client.get(f"/mediation/cases/{case.id}").get_data(as_text=True)
    assert f"/mediation/cases/{case.id}/sign" in html and f"/mediation/cases/{case.id}/withdraw" in html
    assert f"/mediation/cases/{case.id}/fail" not in html and f"/mediation/cases/{case.id}/accept" not in html
    auth.logout()
    auth.login(world.mediator)
    html = client.get(f"/mediation/cases/{case.id}").get_data(as_text=True)
    assert f"/mediation/cases/{case.id}/fail" in html
    assert f"/mediation/cases/{case.id}/sign" not in html  # the parties sign first


def test_demo_seeder_fills_every_state(app, factory):
    from tests.mediation.conftest import VILLAGE

    village = factory.region(VILLAGE, "民康社区")
    org = factory.organisation("南关区南岭街道人民调解委员会", "township", "220102001000",
                               ["邻里纠纷", "借贷纠纷", "婚姻家庭", "物业纠纷", "消费纠纷", "房屋宅基地", "合同纠纷",
                                "损害赔偿", "其他"])
    from portal.demo import DEMO_PASSWORD

    def user(*roles, **kw):
        u = factory.user(*roles, org=org, **kw)
        u.set_password(DEMO_PASSWORD)
        return u

    ctx = {"regions": {VILLAGE: village}, "orgs": {"nanling": org},
           "users": {"citizen": user(name="张建国"), "citizen_b": user(name="李秀兰"),
                     "mediator": user(Role.mediator, name="赵调解"),
                     "head": user(Role.mediator, Role.committee_head, name="孙主任")}}
    load_demo(ctx)
    db.session.commit()
    states = {c.state for c in db.session.execute(select(MediationCase)).scalars()}
    assert states == {s.value for s in CaseState}
