"""Registration, login with lock-out, password change, roles: operations and views."""
import datetime as dt

import pytest
from sqlalchemy import select

from portal.accounts.models import ReviewTier, Role, User
from portal.accounts.operations import (
    AccountError, authenticate, change_password, grant_role, password_problem, register_citizen,
)
from portal.audit import AuditRecord
from portal.extensions import db
from portal.identity import make_id_number
from tests.conftest import text_of

GOOD_ID = make_id_number("220102", dt.date(1990, 3, 7), "123")


def register_data(**over):
    data = {"mobile": "13912345678", "real_name": "张三", "id_number": GOOD_ID, "password": "Secret2026x",
            "confirm": "Secret2026x", "agree": "y"}
    data.update(over)
    return data


def test_register_stores_encrypted_id_and_masks_it(client, app):
    resp = client.post("/register", data=register_data())
    assert resp.status_code == 302
    user = db.session.execute(select(User)).scalar_one()
    assert user.id_number == GOOD_ID
    assert GOOD_ID not in (user.id_number_enc or "")  # encrypted at rest
    assert user.has_role(Role.citizen)
    page = client.get("/account")
    assert user.masked_id_number in text_of(page)
    assert GOOD_ID not in page.get_data(as_text=True)
    assert "139****5678" in text_of(page)


@pytest.mark.parametrize(
    "over, field_message",
    [
        ({"id_number": GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")}, "校验位不正确"),
        ({"id_number": "220102199002300013"}, "出生日期不存在"),
        ({"password": "abcdefgh", "confirm": "abcdefgh"}, "须同时包含字母和数字"),
        ({"password": "a1", "confirm": "a1"}, "至少8位"),
        ({"confirm": "Different2026"}, "两次输入的密码不一致"),
        ({"mobile": "1234"}, "11位中国大陆手机号码"),
        ({"real_name": "张" * 30}, "2至20个字"),
        ({"real_name": "<script>"}, "只能包含汉字"),
        ({"agree": ""}, "请阅读并同意"),
        ({"id_number": "1" * 500}, "18位"),
    ],
)
def test_bad_registration_shows_message_and_saves_nothing(client, over, field_message):
    resp = client.post("/register", data=register_data(**over))
    assert resp.status_code == 422
    assert field_message in text_of(resp)
    assert db.session.execute(select(User)).first() is None


def test_duplicate_mobile_and_id_are_refused(client):
    client.post("/register", data=register_data())
    client.post("/logout")
    resp = client.post("/register", data=register_data(id_number=make_id_number("220102", dt.date(1991, 1, 1), "001")))
    assert resp.status_code == 422 and "该手机号码已注册" in text_of(resp)
    resp = client.post("/register", data=register_data(mobile="13900000000"))
    assert resp.status_code == 422 and "身份证号码已被其他账号" in text_of(resp)
    assert db.session.scalar(select(db.func.count(User.id))) == 1


def test_missing_csrf_token_is_refused_with_chinese_message(csrf_app):
    client = csrf_app.test_client()
    resp = client.post("/register", data=register_data(), follow_redirects=True)
    assert "缺少安全令牌" in text_of(resp)
    assert db.session.execute(select(User)).first() is None


def test_login_logout_and_session_renewal(client, factory, auth):
    user = factory.user(name="李四")
    with client.session_transaction() as sess:
        sess["planted"] = "by-attacker"
    resp = auth.login(user)
    assert resp.status_code == 302
    with client.session_transaction() as sess:
        assert "planted" not in sess  # the session was renewed at login
    assert "李*" in text_of(client.get("/me"))
    auth.logout()
    assert client.get("/me").status_code == 302


def test_wrong_password_locks_after_five_failures(app, factory):
    user = factory.user()
    now = dt.datetime(2026, 1, 1, 8, 0)
    for attempt in range(4):
        with pytest.raises(AccountError, match="再错"):
            authenticate(user.mobile, "wrong-pass1", now=now)
    with pytest.raises(AccountError, match="锁定"):
        authenticate(user.mobile, "wrong-pass1", now=now)
    with pytest.raises(AccountError, match="锁定"):
        authenticate(user.mobile, "Passw0rd2026", now=now + dt.timedelta(minutes=5))
    assert authenticate(user.mobile, "Passw0rd2026", now=now + dt.timedelta(minutes=16)) == user
    actions = [a for (a,) in db.session.execute(select(AuditRecord.action))]
    assert "account.locked" in actions and "account.login" in actions


def test_unknown_mobile_gives_the_same_message(app):
    with pytest.raises(AccountError, match="手机号码或密码不正确"):
        authenticate("13700000000", "whatever1")


def test_password_change_ends_other_sessions(app, factory):
    user = factory.user()
    other = app.test_client()
    other.post("/login", data={"mobile": user.mobile, "password": "Passw0rd2026"})
    assert other.get("/me").status_code == 200
    mine = app.test_client()
    mine.post("/login", data={"mobile": user.mobile, "password": "Passw0rd2026"})
    resp = mine.post("/account", data={"current": "Passw0rd2026", "password": "NewPass2027", "confirm": "NewPass2027"})
    assert resp.status_code == 302
    assert mine.get("/me").status_code == 200
    assert other.get("/me").status_code == 302  # logged out


def test_change_password_rules(app, factory):
    user = factory.user()
    with pytest.raises(AccountError, match="当前密码不正确"):
        change_password(user, "bad", "NewPass2027")
    with pytest.raises(AccountError, match="不能与当前密码相同"):
        change_password(user, "Passw0rd2026", "Passw0rd2026")


@pytest.mark.parametrize("pw, ok", [("Abcdefg1", True), ("12345678a", False), ("short1", False),
                                    ("onlyletters", False), ("139123456781a", True)])
def test_password_strength(pw, ok):
    assert (password_problem(pw) is None) is ok


def test_password_containing_mobile_is_weak():
    assert password_problem("a13912345678", "13912345678")


def test_role_grants_need_their_scope(app, factory):
    admin = factory.user(Role.admin)
    user = factory.user()
    with pytest.raises(AccountError, match="必须指定所属调解组织"):
        grant_role(admin, user, Role.mediator)
    county = factory.region("220102000000", "南关区")
    township = factory.region("220102001000", "南岭街道")
    with pytest.raises(AccountError, match="辖区应为乡镇级"):
        grant_role(admin, user, Role.reviewer, region=county, tier=ReviewTier.township)
    grant_role(admin, user, Role.reviewer, region=township, tier=ReviewTier.township)
    org = factory.organisation()
    grant_role(admin, user, Role.mediator, organisation=org)
    db.session.commit()
    assert user.has_role(Role.reviewer) and user.has_role(Role.mediator) and user.has_role(Role.citizen)
    assert user.organisation_ids(Role.mediator) == {org.id}
    with pytest.raises(AccountError, match="已有此角色"):
        grant_role(admin, user, Role.mediator, organisation=org)


def test_registration_operation_repeats_checks(app):
    with pytest.raises(Exception):
        register_citizen("13911112222", "weak", "王五", GOOD_ID)
    assert db.session.execute(select(User)).first() is None


def test_login_attempts_from_one_address_are_rate_limited(app, client, factory):
    from portal.accounts.routes import login_limiter

    app.config["RATELIMIT_ENABLED"] = True
    login_limiter.reset()
    try:
        for _ in range(login_limiter.limit):
            client.post("/login", data={"mobile": "13700000000", "password": "wrong-pass1"})
        resp = client.post("/login", data={"mobile": "13700000000", "password": "wrong-pass1"})
        assert resp.status_code == 422 and "登录尝试过于频繁" in text_of(resp)
    finally:
        login_limiter.reset()
