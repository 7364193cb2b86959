"""Fixtures of the case library: the demo review chain of 南岭街道 and its people."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from case_library import operations
from case_library.models import SECTIONS
from portal.accounts.models import ReviewTier, Role
from portal.extensions import db

SECTION_TEXT = {
    "basic_facts": "张建国与李秀兰系前后院邻居。张建国在翻建院墙时越界约一米，双方发生争执。张建国的电话是13800000001。",
    "process": "调解员会同村委会查阅宅基地使用证，实地测量，向双方讲解相邻关系的法律规定。",
    "result": "双方达成协议：张建国拆除越界院墙，按证载界址重砌。",
    "commentary": "宅基地纠纷以证据说话，兼顾情理。",
    "legal_basis": "《中华人民共和国民法典》第二百八十八条。",
}


@pytest.fixture
def people(app, factory):
    f = factory
    province = f.region("220000000000", "吉林省")
    city = f.region("220100000000", "长春市", province)
    county = f.region("220102000000", "南关区", city)
    township = f.region("220102001000", "南岭街道", county)
    other_county = f.region("220103000000", "宽城区", city)
    other_township = f.region("220103001000", "新发街道", other_county)
    org = f.organisation(region_code="220102001000")
    ns = SimpleNamespace(province=province, city=city, county=county, township=township,
                         other_county=other_county, other_township=other_township, org=org)
    ns.mediator = f.user(Role.mediator, org=org, name="赵调解")
    ns.other_mediator = f.user(Role.mediator, org=org, name="钱调解")
    ns.citizen = f.user(name="孙群众")
    ns.township_reviewer = f.user(Role.reviewer, region=township, tier=ReviewTier.township, name="周所长")
    ns.township_reviewer2 = f.user(Role.reviewer, region=township, tier=ReviewTier.township, name="王副所长")
    ns.county_reviewer = f.user(Role.reviewer, region=county, tier=ReviewTier.county, name="吴科长")
    ns.city_reviewer = f.user(Role.reviewer, region=city, tier=ReviewTier.city, name="郑处长")
    ns.province_reviewer = f.user(Role.reviewer, region=province, tier=ReviewTier.province, name="冯厅长")
    ns.other_township_reviewer = f.user(Role.reviewer, region=other_township, tier=ReviewTier.township,
                                        name="陈所长")
    ns.other_county_reviewer = f.user(Role.reviewer, region=other_county, tier=ReviewTier.county, name="林科长")
    db.session.commit()
    return ns


def case_fields(**overrides) -> dict:
    fields = {"title": "一起因宅基地边界引发的邻里纠纷调解案", "dispute_type": "房屋宅基地",
              "keywords": "宅基地、相邻关系", **SECTION_TEXT}
    fields.update(overrides)
    return fields


@pytest.fixture
def make_case(people):
    def make(region=None, author=None, names="张建国\n李秀兰", submit=False, **overrides):
        case = operations.save_draft(author or people.mediator, None, region=region or people.township,
                                     fields=case_fields(**overrides), party_names=names)
        if submit:
            operations.submit(author or people.mediator, case)
        db.session.commit()
        return case
    return make


def approve_through(people, case, tiers=("township", "county", "city", "province")):
    for tier in tiers:
        operations.approve(getattr(people, f"{tier}_reviewer"), case, case.version)
        db.session.commit()


__all__ = ["SECTIONS", "approve_through", "case_fields"]
