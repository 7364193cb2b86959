"""Demo data of the mediation room: one room for a demo case, or a standalone one."""
from __future__ import annotations

from mediation_room.operations import admit_member, create_room, post_message, room_send_lock


def load_demo(ctx: dict) -> None:
    users = ctx["users"]
    mediator, citizen, citizen_b = users["mediator"], users["citizen"], users["citizen_b"]
    ref_type = ref_id = None
    title = "张**与李**邻里纠纷调解"  # masked like case titles: room titles appear in transcripts
    cases = ctx.get("cases")
    case = None
    if isinstance(cases, dict) and cases:
        case = next(iter(cases.values()))
    elif isinstance(cases, (list, tuple)) and cases:
        case = cases[0]
    if case is not None and getattr(case, "id", None):
        ref_type, ref_id = "mediation_case", case.id
        title = f"{getattr(case, 'title', None) or '调解案件'}（在线调解）"
    room = create_room(mediator, title, mediator, [citizen, citizen_b], ref_type=ref_type, ref_id=ref_id)
    admit_member(mediator, room, citizen.id)
    admit_member(mediator, room, citizen_b.id)
    from portal.extensions import db

    db.session.commit()
    for who, text in [
        (mediator, "双方好，我是本案调解员赵调解。今天在线调解，请双方心平气和地陈述各自的意见。"),
        (citizen, "楼上李女士家装修期间多次漏水，我家厨房顶棚被泡坏了，希望赔偿维修费用。"),
        (citizen_b, "漏水的事我承认，但他要的维修费太高了，我愿意承担合理的部分。"),
        (mediator, "好的，我们先核对一下维修报价单，再讨论具体金额。"),
    ]:
        with room_send_lock(room.id):
            post_message(who, room, text)
    ctx.setdefault("rooms", []).append(room)
