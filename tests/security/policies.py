"""Entries of the authorization matrix, one per endpoint; see tests/security/authz.py."""
from sqlalchemy import select

from portal.extensions import db
from tests.security.authz import EVERYONE, LOGGED_IN, Policy, logged_in, only, public


def _user_id(mobile: str) -> dict:
    from portal.accounts.models import User

    return db.session.execute(select(User.id).where(User.mobile == mobile)).scalar_one()


def _org_id() -> dict:
    from portal.places.models import Organisation

    return {"org_id": db.session.execute(select(Organisation.id).order_by(Organisation.id)).scalars().first()}


# ---- demo objects ------------------------------------------------------------------------------
# The roles' accounts (tests/security/authz.py): citizen_a 13800000001 is the applicant of the demo
# mediation cases of 南岭街道调委会 (organisation "nanling"), whose mediator is 13800000004; the head of
# 南岭 (13800000005) is not a role of the matrix, so "other_head" (13800000011, 医疗纠纷调委会) must be
# refused everything of 南岭. Reviewers and administrators do not read mediation dossiers (DESIGN §1).

CITIZEN_A, ASSIGNED_MEDIATOR = "13800000001", "13800000004"


def _demo_case(state: str = "in_mediation"):
    """A mediation case of 南岭 in ``state`` whose applicant is citizen_a and (once assigned) whose
    mediator is the assigned mediator."""
    from portal.mediation.models import MediationCase
    from portal.places.models import Organisation

    q = (select(MediationCase.id).join(Organisation, Organisation.id == MediationCase.organisation_id)
         .where(MediationCase.state == state, MediationCase.applicant_id == _user_id(CITIZEN_A),
                Organisation.name == "南关区南岭街道人民调解委员会"))
    if state not in ("submitted", "declined", "awaiting_consent", "refused", "withdrawn"):
        q = q.where(MediationCase.mediator_id == _user_id(ASSIGNED_MEDIATOR))
    return db.session.execute(q.order_by(MediationCase.id)).scalars().first()


def _case(state: str = "in_mediation"):
    return lambda: {"case_id": _demo_case(state)}


def _room_id() -> dict:
    """The open room of the in-mediation demo case (members: its mediator and both parties)."""
    from mediation_room.models import Room

    return {"room_id": db.session.execute(
        select(Room.id).where(Room.ref_type == "mediation_case", Room.ref_id == _demo_case("in_mediation"),
                              Room.state == "open")).scalar_one()}


def _consultation(public: bool, state: str | None = None):
    def params():
        from portal.consultation.models import Consultation

        q = select(Consultation.id).where(Consultation.asker_id == _user_id(CITIZEN_A),
                                          Consultation.is_public.is_(public))
        if state:
            q = q.where(Consultation.state == state)
        return {"consultation_id": db.session.execute(q.order_by(Consultation.id)).scalars().first()}
    return params


def _exemplary(state: str, tier: str | None = None, level: str | None = None, region: str = "220102"):
    """An exemplary case written by the assigned mediator, in ``state`` (at review ``tier``; published
    at ``level``), whose region lies in 南关区 (the reviewer's county) unless ``region`` says otherwise."""
    def params():
        from case_library.models import ExemplaryCase
        from portal.places.models import Region

        q = (select(ExemplaryCase.id).join(Region, Region.id == ExemplaryCase.region_id)
             .where(ExemplaryCase.state == state, ExemplaryCase.author_id == _user_id(ASSIGNED_MEDIATOR),
                    Region.code.like(region + "%")))
        if tier:
            q = q.where(ExemplaryCase.current_tier == tier)
        if level:
            q = q.where(ExemplaryCase.level == level)
        return {"case_id": db.session.execute(q.order_by(ExemplaryCase.id)).scalars().first()}
    return params


def _law_article() -> dict:
    from portal.statutes.models import Article

    law_id = db.session.execute(select(Article.law_id).order_by(Article.id)).scalars().first()
    return {"law_id": law_id, "key": "1"}


def _agreement_file() -> dict:
    """The agreement PDF of the settled demo case (owner: mediation_agreement of that case)."""
    from portal.mediation.models import Agreement

    case_id = _demo_case("settled")
    return {"attachment_id": db.session.execute(
        select(Agreement.pdf_attachment_id).where(Agreement.case_id == case_id)).scalar_one()}


CASE_PEOPLE = {"citizen_a", "assigned_mediator"}


POLICIES: dict[str, Policy] = {
    # ---- the frame ---------------------------------------------------------------------------
    "main.index": public(),
    "main.healthz": public(),
    "main.dashboard": logged_in(),
    "main.inbox": logged_in(),
    "main.read_notice": logged_in(params=lambda: {"notice_id": 1},
                                  note="a notice that is not yours gives 404; tested in tests/portal"),
    "main.toggle_elder_mode": public(),
    "accounts.register": public(note="a logged-in user is sent to 我的事项"),
    "accounts.login": public(),
    "accounts.logout": logged_in(),
    "accounts.account": logged_in(),
    "places.roots": public(),
    "places.children": public(params=lambda: {"code": "220100000000"}),
    "places.show": public(params=lambda: {"code": "220102001000"}),
    "files.download": Policy(set(CASE_PEOPLE), params=_agreement_file,
                             note="files are served only to whom their owner's permission function allows; "
                                  "this one is the agreement PDF of citizen_a's settled case"),
    "admin.index": only("admin"),
    "admin.users": only("admin"),
    "admin.user_detail": only("admin", params=lambda: {"user_id": 1}),
    "admin.revoke": only("admin", params=lambda: {"user_id": 1, "grant_id": 1}),
    "admin.toggle_active": only("admin", params=lambda: {"user_id": 1}),
    "admin.organisations": only("admin"),
    "admin.new_organisation": only("admin"),
    "admin.edit_organisation": only("admin", params=_org_id),
    "admin.regions": only("admin", params=dict),

    # ---- consultation --------------------------------------------------------------------------
    "consultation.index": public(),
    "consultation.suggest": public(params=lambda: {"q": "离婚"}),
    "consultation.ask": logged_in(),
    "consultation.mine": logged_in(),
    "consultation.queue": only("legal_worker"),
    "consultation.settings": only("legal_worker"),
    "consultation.view_consultation": only(
        "citizen_a", "legal_worker", "admin", params=_consultation(public=False),
        note="a private question of citizen_a claimed by the legal worker (made by the matrix fixture): "
             "the asker, the claiming worker and admins; everyone else gets 404"),
    "consultation.claim": only(
        "legal_worker", params=_consultation(public=False, state="open"),
        note="a private open question of citizen_a in 长春 (made by the matrix fixture): a worker of the "
             "area may claim before reading; others get 404 (the asker may not claim their own)"),
    "consultation.release": only("legal_worker", params=_consultation(public=False, state="claimed"),
                                 note="POST only; others get 404 (private) — the claimer's own is a feature test"),
    "consultation.answer": only("legal_worker", params=_consultation(public=False, state="claimed")),
    "consultation.follow_up": only("citizen_a", params=_consultation(public=True, state="answered"),
                                   note="a public answered question: everyone may read it, only the asker "
                                        "may follow up (others 403 before the form is read)"),
    "consultation.close": only("citizen_a", params=_consultation(public=True, state="answered")),

    # ---- mediation -------------------------------------------------------------------------------
    "mediation.index": public(),
    "mediation.organisations": logged_in(params=lambda: {"region": "220102001000", "type": "邻里纠纷"}),
    "mediation.apply": logged_in(note="every account holds the citizen role"),
    "mediation.invitation": logged_in(params=lambda: {"token": "not-a-real-token"},
                                      note="any signed-in user may try a token and code (rate-limited); "
                                           "a wrong pair is refused with a message, tested in tests/mediation"),
    "mediation.show_case": Policy(set(CASE_PEOPLE), params=_case("in_mediation"),
                                  note="parties, the case's mediator and its committee's head; not reviewers, "
                                       "not admins, not other committees (404)"),
    "mediation.agreement_pdf": Policy(set(CASE_PEOPLE), params=_case("settled")),
    "mediation.export_dossier": Policy(set(CASE_PEOPLE), params=_case("settled")),
    # The actions are POSTs on a case: outsiders get 404 from the load; the transition table then
    # decides by state and capacity (409 with a message): the people of the case whose action it is
    # not are in refuse_post; the successful actions are tested in tests/mediation.
    "mediation.accept_case": only("citizen_a", params=_case("submitted"), refuse_post={"citizen_a"},
                                  note="only the head of 南岭 (not a matrix role) may accept; the applicant "
                                       "sees the case and is refused (409); the mediator of other cases "
                                       "does not see an unassigned case (404)"),
    "mediation.decline_case": only("citizen_a", params=_case("submitted"), refuse_post={"citizen_a"}),
    "mediation.consent_case": only("citizen_a", params=_case("awaiting_consent"), refuse_post={"citizen_a"},
                                   note="the respondent's (a person invited by SMS, not a matrix role)"),
    "mediation.refuse_case": only("citizen_a", params=_case("awaiting_consent"), refuse_post={"citizen_a"}),
    "mediation.assign_mediator": Policy(set(CASE_PEOPLE), params=_case("in_mediation"),
                                        refuse_post=set(CASE_PEOPLE), note="the head's"),
    "mediation.schedule_session": Policy(set(CASE_PEOPLE), params=_case("in_mediation"),
                                         refuse_post={"citizen_a"}),
    "mediation.extend_deadline": Policy(set(CASE_PEOPLE), params=_case("in_mediation"),
                                        refuse_post={"citizen_a"}),
    "mediation.propose_agreement": Policy(set(CASE_PEOPLE), params=_case("in_mediation"),
                                          refuse_post={"citizen_a"}),
    "mediation.sign_agreement": Policy(set(CASE_PEOPLE), params=_case("agreement_pending"),
                                       note="each party, then the mediator: the order is a feature test"),
    "mediation.fail_case": Policy(set(CASE_PEOPLE), params=_case("in_mediation"), refuse_post={"citizen_a"}),
    "mediation.withdraw_case": Policy(set(CASE_PEOPLE), params=_case("in_mediation"),
                                      refuse_post={"assigned_mediator"}, note="the applicant's"),
    "mediation.archive_case": Policy(set(CASE_PEOPLE), params=_case("settled"), refuse_post={"citizen_a"}),

    # ---- statutes (public texts) -----------------------------------------------------------------
    "statutes.index": public(),
    "statutes.search": public(params=lambda: {"q": "调解协议"}),
    "statutes.show_law": public(params=lambda: {"law_id": _law_article()["law_id"]}),
    "statutes.show_article": public(params=_law_article),

    # ---- mediation room --------------------------------------------------------------------------
    "mediation_room.room": Policy(set(CASE_PEOPLE), params=_room_id,
                                  note="members only (mediator and the two parties); citizen_b of the "
                                       "matrix is not the respondent; everyone else 404"),
    "mediation_room.export_transcript_text": only("assigned_mediator", params=_room_id,
                                                  note="the mediator only; a party gets 403"),
    "mediation_room.export_transcript_pdf": only("assigned_mediator", params=_room_id),

    # ---- case library ----------------------------------------------------------------------------
    "case_library.index": public(params=lambda: {"q": "调解"}),
    "case_library.show_case": only("assigned_mediator", "reviewer", "admin",
                                   params=_exemplary("in_review", tier="county"),
                                   note="a case waiting at 南关区's county tier: its author, reviewers of "
                                        "the jurisdiction, admins (published cases are public)"),
    "case_library.my_cases": only("assigned_mediator", "other_mediator", "other_head",
                                  note="mediators write up cases"),
    "case_library.edit_case": only("assigned_mediator", params=_exemplary("draft"),
                                   note="the author's draft; /new (the same endpoint) is for any mediator, "
                                        "tested in tests/case_library"),
    "case_library.submit_case": only("assigned_mediator", params=_exemplary("draft")),
    "case_library.review_queue": only("reviewer", "other_reviewer", note="any reviewer has a queue"),
    "case_library.review_case": only("reviewer", params=_exemplary("in_review", tier="county"),
                                     note="reviewers of the jurisdiction; the author and admins see the "
                                          "case but not its review page (403)"),
    "case_library.unpublish_case": only("reviewer", "admin", params=_exemplary("published", level="county"),
                                        note="a county-level case of 南关区: its county reviewer or an admin"),
    "case_library.feature_case": only("reviewer", "admin", params=_exemplary("published", level="county")),
    "case_library.republish_case": only("reviewer", "admin", params=_exemplary("unpublished", level="county"),
                                        note="the withdrawn county-level demo case of 南岭: its county "
                                             "reviewer or an admin"),
    "case_library.admin_chains": only("admin", note="review chains are configured by administrators"),
}

#: Endpoints with more than one URL rule: the policy of each rule other than the one POLICIES's
#: params build, keyed by (endpoint, that rule's URL arguments).
EXTRA_RULES: dict[tuple[str, frozenset], Policy] = {
    ("case_library.edit_case", frozenset()): only("assigned_mediator", "other_mediator", "other_head",
                                                  note="/cases/new: any mediator writes up a new case"),
    ("admin.regions", frozenset({"code"})): only("admin", params=lambda: {"code": "220102000000"}),
}

#: Socket.IO events: (namespace, event) → roles that may use it in the demo room (the room of
#: citizen_a's in-mediation case: its mediator and both parties, all admitted). "May use" means the
#: permission layer lets the role through; the state can still refuse (e.g. no recording running).
ROOM_MEMBERS = {"citizen_a", "assigned_mediator"}
ROOM_MEDIATOR = {"assigned_mediator"}
EVENT_POLICIES: dict[tuple[str, str], set[str]] = {
    # the chat namespace (mediation_room/events.py)
    ("/room", "connect"): ROOM_MEMBERS,
    ("/room", "disconnect"): ROOM_MEMBERS,
    ("/room", "join"): ROOM_MEMBERS,
    ("/room", "backfill"): ROOM_MEMBERS,
    ("/room", "send"): ROOM_MEMBERS,
    ("/room", "admit"): ROOM_MEDIATOR,
    ("/room", "remove"): ROOM_MEDIATOR,
    ("/room", "caucus_start"): ROOM_MEDIATOR,
    ("/room", "caucus_end"): ROOM_MEDIATOR,
    ("/room", "end"): ROOM_MEDIATOR,
    # WebRTC signalling and recording on the same namespace (mediation_room/signalling.py)
    ("/room", "rtc_hello"): ROOM_MEMBERS,
    ("/room", "rtc_signal"): ROOM_MEMBERS,
    ("/room", "rtc_media"): ROOM_MEMBERS,
    ("/room", "rtc_bye"): ROOM_MEMBERS,
    ("/room", "rtc_worker_offer"): ROOM_MEMBERS,
    ("/room", "rtc_mute"): ROOM_MEDIATOR,
    ("/room", "rtc_record_start"): ROOM_MEDIATOR,
    ("/room", "rtc_record_stop"): ROOM_MEDIATOR,
    ("/room", "rtc_consent"): {"citizen_a"},  # the parties (and invited people), not the mediator
    # the media worker process (mediation_room/media/remote.py, remote mode only): by token, no person
    ("/media-worker", "connect"): set(),
    ("/media-worker", "disconnect"): set(),
}

__all__ = ["EVENT_POLICIES", "EVERYONE", "EXTRA_RULES", "LOGGED_IN", "POLICIES"]
