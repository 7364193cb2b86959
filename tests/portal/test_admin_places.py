"""Regions, organisations and the admin pages."""
import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.audit import AuditRecord
from portal.extensions import db
from portal.places.models import Organisation, Region
from portal.places.operations import PlaceError, add_village, load_regions, organisations_for, save_organisation
from tests.conftest import text_of


def test_region_loading_is_complete_and_idempotent(app):
    added = load_regions()
    db.session.commit()
    assert added == 2 + 25 + 198 + 2536
    assert load_regions() == 0
    nanling = db.session.execute(select(Region).where(Region.code == "220102001000")).scalar_one()
    assert nanling.name == "南岭街道" and nanling.full_name == "吉林省长春市南关区南岭街道"
    kunming = db.session.execute(select(Region).where(Region.code == "530100000000")).scalar_one()
    assert kunming.name == "昆明市" and kunming.parent.name == "云南省"


def test_region_children_api(client, app):
    load_regions(provinces=("22",))
    db.session.commit()
    data = client.get("/regions/220100000000/children").get_json()
    assert {"code": "220102000000", "name": "南关区", "level": 3} in data
    assert client.get("/regions/abc/children").status_code == 404
    path = client.get("/regions/220102001000").get_json()["path"]
    assert [p["name"] for p in path] == ["吉林省", "长春市", "南关区", "南岭街道"]


def test_villages_get_codes_under_their_township(app, factory):
    township = factory.region("220102001000", "南岭街道")
    v = add_village(None, township, "民康社区")
    assert v.code.startswith("220102001") and v.code[9:] == "200" and v.level == 5
    with pytest.raises(PlaceError, match="前9位"):
        add_village(None, township, "错码村", code="220102002201")
    with pytest.raises(PlaceError, match="只能添加在乡镇"):
        add_village(None, v, "村中村")


def test_routing_prefers_professional_then_township_then_village(app, factory):
    village = factory.region("220102001201", "民康社区")
    township_org = factory.organisation("南岭街道调委会", "township", "220102001000", ["医疗纠纷", "邻里纠纷"])
    village_org = factory.organisation("民康社区调委会", "village", "220102001201", ["邻里纠纷"])
    medical = factory.organisation("南关区医调委", "professional", "220102000000", ["医疗纠纷"])
    factory.organisation("别区医调委", "professional", "220103000000", ["医疗纠纷"])
    assert organisations_for(village, "医疗纠纷") == [medical, township_org]
    assert organisations_for(village, "邻里纠纷") == [township_org, village_org]
    assert organisations_for(village, "劳动争议") == []


def test_organisation_rules(app, factory):
    township = factory.region("220102001000")
    with pytest.raises(PlaceError, match="未知的纠纷类型"):
        save_organisation(None, None, name="甲", kind="township", region=township, dispute_types=["打架"])
    with pytest.raises(PlaceError, match="层级不符"):
        save_organisation(None, None, name="乙", kind="village", region=township, dispute_types=["其他"])
    org = save_organisation(None, None, name="丙", kind="township", region=township, dispute_types=["其他"])
    assert org.takes("其他")


@pytest.mark.parametrize("role", [None, Role.mediator, Role.reviewer])
def test_admin_pages_refuse_non_admins(client, factory, auth, role):
    org = factory.organisation()
    region = factory.region("220102001000")
    user = factory.user(*( [role] if role else []), org=org, region=region, tier="township")
    auth.login(user)
    for path in ["/admin/", "/admin/users", f"/admin/users/{user.id}", "/admin/organisations",
                 "/admin/organisations/new", "/admin/regions"]:
        assert client.get(path).status_code == 403, path
    assert client.post(f"/admin/users/{user.id}/active", data={"active": "0"}).status_code == 403


def test_admin_grants_roles_and_manages_organisations(client, factory, auth):
    admin = factory.user(Role.admin, name="管理员")
    citizen = factory.user(name="王五")
    factory.region("220102001000", "南岭街道")
    auth.login(admin)
    listing = text_of(client.get("/admin/users"))
    assert "王五" in listing and citizen.mobile not in listing  # masked
    resp = client.post("/admin/organisations/new", data={
        "name": "南岭街道人民调解委员会", "kind": "township", "region_code": "220102001000",
        "dispute_types": ["婚姻家庭", "邻里纠纷"], "active": "1"})
    assert resp.status_code == 302
    org = db.session.execute(select(Organisation)).scalar_one()
    resp = client.post(f"/admin/users/{citizen.id}", data={"role": "mediator", "organisation_id": org.id,
                                                             "region_code": "", "tier": ""})
    assert resp.status_code == 302
    assert citizen.organisation_ids(Role.mediator) == {org.id}
    resp = client.post(f"/admin/users/{citizen.id}", data={"role": "reviewer", "organisation_id": 0,
                                                             "region_code": "", "tier": ""})
    assert resp.status_code == 422 and "审核员必须指定辖区" in text_of(resp)
    actions = set(db.session.scalars(select(AuditRecord.action)))
    assert {"organisation.create", "account.grant_role"} <= actions


def test_admin_cannot_deactivate_self(client, factory, auth):
    admin = factory.user(Role.admin)
    auth.login(admin)
    resp = client.post(f"/admin/users/{admin.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "不能停用自己的账号" in text_of(resp)
    assert admin.active


def test_organisation_form_errors_are_shown(client, factory, auth):
    admin = factory.user(Role.admin)
    auth.login(admin)
    resp = client.post("/admin/organisations/new", data={"name": "", "kind": "township", "region_code": "12"})
    assert resp.status_code == 422
    assert "请填写组织名称" in text_of(resp) and "请选择所在地区" in text_of(resp)
    assert db.session.scalar(select(func.count(Organisation.id))) == 0
