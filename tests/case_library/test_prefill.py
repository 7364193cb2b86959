"""Writing up an archived mediation case: the form is prefilled and the parties' names are known."""
import datetime as dt

import pytest

from portal.extensions import db
from tests.conftest import text_of

mediation = pytest.importorskip("portal.mediation.models")


def test_prefill_from_an_archived_case(client, auth, people):
    mc = mediation.MediationCase(
        state=mediation.CaseState.archived.value, applicant_id=people.citizen.id, organisation_id=people.org.id,
        mediator_id=people.mediator.id, region_id=people.township.id, dispute_type="邻里纠纷",
        facts="楼上漏水导致楼下吊顶脱落。", claims="赔偿维修费", accept_due=dt.date(2026, 1, 1),
    )
    mc.respondents.append(mediation.Respondent(name="钱多多", mobile="13912340000"))
    db.session.add(mc)
    db.session.commit()
    auth.login(people.mediator)
    assert "据此撰写" in text_of(client.get("/cases/mine"))
    page = client.get(f"/cases/new?source={mc.id}").get_data(as_text=True)
    assert "楼上漏水导致楼下吊顶脱落。" in page and "钱多多" in page and "孙群众" in page
    assert 'value="220102001000"' in page
    # another mediator cannot write up this case
    auth.logout()
    auth.login(people.other_mediator)
    assert client.get(f"/cases/new?source={mc.id}").status_code == 404
