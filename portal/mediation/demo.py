"""Demo cases of online mediation in every state, in the 南岭街道 committee (seeder order 30)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.mediation import operations as ops
from portal.mediation.models import MediationCase

STORIES = [
    ("邻里纠纷", Decimal(3200), "楼上住户卫生间漏水，致我家天花板及墙面受损，多次协商未果。",
     "请求对方修复防水层并赔偿装修损失3200元。"),
    ("借贷纠纷", Decimal(50000), "2024年3月对方向我借款5万元，约定一年归还，到期后至今未还。",
     "请求对方归还借款5万元。"),
    ("婚姻家庭", None, "离婚后双方就孩子探望时间反复争执，影响孩子学习生活。", "请求约定固定的探望时间和方式。"),
    ("物业纠纷", Decimal(2400), "物业公司以欠缴物业费为由停止为我家供水，我认为其服务不到位。",
     "请求恢复供水，并就服务问题协商减免部分物业费。"),
    ("消费纠纷", Decimal(1880), "在对方门店购买的电动车一个月内电池损坏，商家拒绝退换。", "请求更换电池或退货退款。"),
    ("房屋宅基地", None, "与邻居就两家之间通道的宽度和使用发生争执。", "请求按原有宽度保留通道。"),
    ("合同纠纷", Decimal(12000), "对方承揽我家房屋装修，工期拖延两个月且部分工程质量不合格。",
     "请求返工并赔偿延期损失。"),
    ("损害赔偿", Decimal(6500), "对方饲养的犬只咬伤我的孩子，医疗费用6500元。", "请求赔偿医疗费及误工费。"),
    ("邻里纠纷", None, "对方在楼道长期堆放杂物，影响通行和消防安全。", "请求清理楼道杂物。"),
    ("借贷纠纷", Decimal(8000), "朋友借款8000元用于周转，约定半年还款，逾期未还。", "请求归还借款。"),
]


def _apply(applicant, respondent, org, region, story, respondent_name=None, respondent_mobile=None):
    kind, amount, facts, claims = story
    case = ops.apply_for_mediation(
        applicant, respondents=[{"name": respondent_name or respondent.real_name,
                                 "mobile": respondent_mobile or respondent.mobile}],
        dispute_type=kind, region=region, facts=facts, claims=claims, amount=amount, organisation=org)
    return case


def load_demo(ctx: dict) -> None:
    users, orgs = ctx["users"], ctx["orgs"]
    citizen, citizen_b, head, mediator = users["citizen"], users["citizen_b"], users["head"], users["mediator"]
    org = orgs["nanling"]
    region = ctx["regions"]["220102001201"]
    deadline = ops.beijing_today() + dt.timedelta(days=20)
    cases: dict[str, MediationCase] = {}

    def agreement_for(case, terms):
        return ops.propose_agreement(mediator, case, main_facts=case.facts, disputed_matters=case.claims,
                                     responsibilities="双方对纠纷的发生均负有一定责任，经调解员释法说理，双方互谅互让。",
                                     terms=terms, performance_manner="银行转账", performance_place="长春市南关区",
                                     performance_deadline=deadline)

    def to_mediation(case):
        ops.accept_case(head, case)
        ops.consent_case(citizen_b, case)
        ops.assign_mediator(head, case, mediator)

    # 待受理 (one of them overdue, to show the flag)
    cases["submitted"] = _apply(citizen, citizen_b, org, region, STORIES[0])
    overdue = _apply(citizen_b, citizen, org, region, STORIES[8])
    overdue.created_at -= dt.timedelta(days=10)
    overdue.accept_due = ops.beijing_today() - dt.timedelta(days=3)
    # 不予受理
    c = _apply(citizen, citizen_b, org, region, STORIES[5])
    ops.decline_case(head, c, "宅基地使用权属争议需由政府依法确权，不属于人民调解受理范围。", "administrative")
    # 待对方同意: one respondent without an account (invited by SMS)
    c = _apply(citizen, citizen_b, org, region, STORIES[1], respondent_name="刘德明", respondent_mobile="13900009999")
    ops.accept_case(head, c)
    cases["awaiting"] = c
    # 对方拒绝调解
    c = _apply(citizen, citizen_b, org, region, STORIES[3])
    ops.accept_case(head, c)
    ops.refuse_case(citizen_b, c, "已向法院起诉，不同意调解")
    # 调解中, with a session on site (the room seeder, order 40, opens its online room for this case)
    c = _apply(citizen, citizen_b, org, region, STORIES[2])
    to_mediation(c)
    cases["in_mediation"] = c
    ops.schedule_session(mediator, c, dt.datetime.combine(ops.beijing_today() + dt.timedelta(days=3), dt.time(9, 30)),
                         "onsite", "南岭街道人民调解室（南岭大街88号）")
    # 协议待签署 (the applicant has signed)
    c = _apply(citizen, citizen_b, org, region, STORIES[4])
    to_mediation(c)
    agreement_for(c, "商家于七日内为申请人更换新电池一块，申请人不再主张退货。")
    ops.sign_agreement(citizen, c, citizen.real_name, DEMO_PASSWORD)
    # 调解成功
    c = _apply(citizen, citizen_b, org, region, STORIES[7])
    to_mediation(c)
    agreement_for(c, "被申请人一次性赔偿申请人医疗费、误工费共计人民币6500元。")
    for u in (citizen, citizen_b, mediator):
        ops.sign_agreement(u, c, u.real_name, DEMO_PASSWORD)
    # 调解不成
    c = _apply(citizen, citizen_b, org, region, STORIES[6])
    to_mediation(c)
    ops.fail_case(mediator, c, "双方对赔偿数额分歧过大，经三次调解仍未达成一致。", "litigation")
    # 已撤回
    c = _apply(citizen, citizen_b, org, region, STORIES[9])
    ops.withdraw_case(citizen, c, "双方已自行和解")
    # 已归档
    c = _apply(citizen_b, citizen, org, region, STORIES[0])
    ops.accept_case(head, c)
    ops.consent_case(citizen, c)
    ops.assign_mediator(head, c, mediator)
    agreement_for(c, "被申请人于十五日内修复卫生间防水层，并赔偿申请人损失人民币2000元。")
    for u in (citizen_b, citizen, mediator):
        ops.sign_agreement(u, c, u.real_name, DEMO_PASSWORD)
    ops.archive_case(mediator, c, "回访时双方表示协议已履行完毕，邻里关系恢复和睦。")
    db.session.flush()
    ctx["mediation_cases"] = cases
    # Later seeders (the mediation room) take the first case of ctx["cases"] for their demo room.
    ctx.setdefault("cases", {"in_mediation": cases["in_mediation"], **cases})
