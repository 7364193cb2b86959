"""Fixtures for the consultation tests: a citizen, a legal worker serving 长春市, and a maker of
questions in any state (driven through the real operations)."""
from __future__ import annotations

import io

import pytest

from portal.accounts.models import Role
from portal.consultation import operations as ops
from portal.extensions import db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


class FakeFile:
    """A Werkzeug-like upload (the operations read ``filename`` and ``read``)."""

    def __init__(self, data: bytes, filename: str):
        self._buf = io.BytesIO(data)
        self.filename = filename

    def read(self, n=-1):
        return self._buf.read(n)


@pytest.fixture
def places(factory):
    city = factory.region("220100000000", "长春市")
    county = factory.region("220102000000", "南关区")
    township = factory.region("220102001000", "南岭街道")
    other = factory.region("530102001000", "华山街道")
    db.session.commit()
    return {"city": city, "county": county, "township": township, "other": other}


@pytest.fixture
def citizen(factory):
    return factory.user(name="张建国", mobile="13800000001")


@pytest.fixture
def citizen_b(factory):
    return factory.user(name="李秀兰")


@pytest.fixture
def worker(factory, places):
    return factory.user(Role.legal_worker, region=places["city"], name="王律师")


@pytest.fixture
def worker_b(factory, places):
    return factory.user(Role.legal_worker, region=places["county"], name="刘律师")


@pytest.fixture
def far_worker(factory, places):
    """A legal worker serving 昆明: the 长春 questions are outside their area."""
    return factory.user(Role.legal_worker, region=places["other"], name="杨律师")


@pytest.fixture
def admin(factory):
    return factory.user(Role.admin, name="陈管理")


ANSWER = "<p>根据《民法典》第一千零七十九条，夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。</p>"


@pytest.fixture
def make(places, citizen, worker):
    """``make(state="answered", public=True, **fields)`` → a consultation brought to that state."""

    def _make(state="open", public=True, asker=None, by=None, title="离婚时孩子抚养权怎么判",
              question="我和丈夫分居两年了，孩子六岁，想离婚，孩子抚养权会判给谁？", category="婚姻家庭",
              region=None, answer=ANSWER):
        asker = asker or citizen
        by = by or worker
        c = ops.ask_question(asker, category=category, region=region or places["township"], title=title,
                             question=question, is_public=public)
        if state in ("claimed", "answered", "closed"):
            ops.claim_consultation(by, c)
        if state in ("answered", "closed"):
            ops.answer_consultation(by, c, answer)
        if state == "closed":
            ops.close_consultation(asker, c, 5, "解答很清楚")
        db.session.commit()
        return c

    return _make
