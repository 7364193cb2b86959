"""Demo data of the frame: regions of 吉林省 and 云南省, organisations, one account per role.

Feature packages add their own demo records through :func:`portal.registry.add_demo_seeder`; they
find the frame's records in ``ctx`` (``ctx["users"]["mediator"]``, ``ctx["orgs"]["nanling"]``...).
"""
from __future__ import annotations

import datetime as dt

from portal.accounts.models import ReviewTier, Role
from portal.accounts.operations import create_user
from portal.identity import make_id_number
from portal.places.operations import add_village, load_regions, region_by_code, save_organisation

DEMO_PASSWORD = "Demo2026"

#: key → (mobile, name, id-region, birth, roles as (role, org key, region code, tier))
DEMO_ACCOUNTS = {
    "citizen": ("13800000001", "张建国", "220102", dt.date(1968, 5, 12), []),
    "citizen_b": ("13800000002", "李秀兰", "220102", dt.date(1975, 9, 3), []),
    "legal_worker": ("13800000003", "王律师", "220102", dt.date(1985, 1, 20),
                     [(Role.legal_worker, None, "220100000000", None)]),
    "mediator": ("13800000004", "赵调解", "220102", dt.date(1970, 3, 8),
                 [(Role.mediator, "nanling", None, None)]),
    "head": ("13800000005", "孙主任", "220102", dt.date(1965, 11, 30),
             [(Role.mediator, "nanling", None, None), (Role.committee_head, "nanling", None, None)]),
    "reviewer_township": ("13800000006", "周所长", "220102", dt.date(1978, 7, 7),
                          [(Role.reviewer, None, "220102001000", ReviewTier.township)]),
    "reviewer_county": ("13800000007", "吴科长", "220102", dt.date(1976, 4, 2),
                        [(Role.reviewer, None, "220102000000", ReviewTier.county)]),
    "reviewer_city": ("13800000008", "郑处长", "220102", dt.date(1972, 2, 14),
                      [(Role.reviewer, None, "220100000000", ReviewTier.city)]),
    "reviewer_province": ("13800000009", "冯厅长", "220102", dt.date(1969, 10, 1),
                          [(Role.reviewer, None, "220000000000", ReviewTier.province)]),
    "admin": ("13800000010", "陈管理", "220102", dt.date(1988, 6, 6), [(Role.admin, None, None, None)]),
    "mediator_medical": ("13800000011", "钱医调", "220102", dt.date(1974, 8, 18),
                         [(Role.mediator, "nanguan_medical", None, None),
                          (Role.committee_head, "nanguan_medical", None, None)]),
    "mediator_yn": ("13800000012", "杨调解", "530102", dt.date(1980, 12, 12),
                    [(Role.mediator, "huashan", None, None), (Role.committee_head, "huashan", None, None)]),
}

ROLE_LABEL_OF_ACCOUNT = {
    "citizen": "群众（申请人）", "citizen_b": "群众（被申请人）", "legal_worker": "法律服务工作者（长春市）",
    "mediator": "人民调解员（南岭街道调委会）", "head": "调委会主任（南岭街道调委会）",
    "reviewer_township": "审核员·司法所（南岭街道）", "reviewer_county": "审核员·县级（南关区）",
    "reviewer_city": "审核员·市级（长春市）", "reviewer_province": "审核员·省级（吉林省）",
    "admin": "系统管理员", "mediator_medical": "调委会主任（南关区医疗纠纷调委会）",
    "mediator_yn": "调委会主任（昆明五华区华山街道调委会）",
}

ALL_TYPES = ["婚姻家庭", "邻里纠纷", "损害赔偿", "劳动争议", "物业纠纷", "消费纠纷", "房屋宅基地", "借贷纠纷",
             "合同纠纷", "其他"]

#: key → (name, kind, region code, dispute types)
DEMO_ORGS = {
    "nanling": ("南关区南岭街道人民调解委员会", "township", "220102001000", ALL_TYPES),
    "nanling_community": ("南岭街道民康社区人民调解委员会", "village", "220102001201", ["邻里纠纷", "婚姻家庭", "物业纠纷", "其他"]),
    "ziqiang": ("南关区自强街道人民调解委员会", "township", "220102002000", ALL_TYPES),
    "nanguan_medical": ("南关区医疗纠纷人民调解委员会", "professional", "220102000000", ["医疗纠纷"]),
    "nanguan_traffic": ("南关区道路交通事故人民调解委员会", "professional", "220102000000", ["道路交通", "损害赔偿"]),
    "nanguan_labour": ("南关区劳动争议人民调解委员会", "professional", "220102000000", ["劳动争议"]),
    "nanguan_petition": ("南关区信访人民调解工作室", "petition", "220102000000", ALL_TYPES),
    "nanguan_court": ("南关区人民法院驻院人民调解工作室", "court", "220102000000", ALL_TYPES),
    "huashan": ("五华区华山街道人民调解委员会", "township", "530102001000", ALL_TYPES),
    "kunming_medical": ("昆明市医疗纠纷人民调解委员会", "professional", "530100000000", ["医疗纠纷"]),
}

DEMO_VILLAGES = [("220102001000", "民康社区", "220102001201"), ("220102001000", "南岭村", "220102001202"),
                 ("530102001000", "华山社区", "530102001201")]


def load_frame_demo(ctx: dict) -> None:
    load_regions()
    for township_code, name, code in DEMO_VILLAGES:
        if region_by_code(code) is None:
            add_village(None, region_by_code(township_code), name, code, is_demo=True)
    ctx["regions"] = {code: region_by_code(code) for _, _, code in DEMO_VILLAGES}
    orgs = {}
    for key, (name, kind, code, types) in DEMO_ORGS.items():
        orgs[key] = save_organisation(None, None, name=name, kind=kind, region=region_by_code(code),
                                      dispute_types=types, address="（演示数据）", phone="0431-12348")
    ctx["orgs"] = orgs
    users = {}
    for n, (key, (mobile, name, region6, birth, roles)) in enumerate(DEMO_ACCOUNTS.items(), start=1):
        id_number = make_id_number(region6, birth, f"{n:03d}")
        resolved = [(role, orgs[org] if org else None, region_by_code(rc) if rc else None, tier)
                    for role, org, rc, tier in roles]
        users[key] = create_user(mobile, DEMO_PASSWORD, name, id_number, resolved)
    ctx["users"] = users


def demo_account_lines() -> list[str]:
    return [f"  {ROLE_LABEL_OF_ACCOUNT[k]:<28} 手机号 {v[0]}  密码 {DEMO_PASSWORD}" for k, v in DEMO_ACCOUNTS.items()]
