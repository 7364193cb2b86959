"""Automated accessibility audit with axe-core (WCAG 2.0/2.1 A and AA rules) in Debian's chromium.

The key pages a citizen, a mediator and a reviewer see, on the full demo data, plus the forms'
error states, the open phone menu and the mediation room with a party present (PAGES), each at
desktop width, at phone width (375 px) and in 长者模式 (the ``elder_mode`` cookie, as site.js sets
it) at both widths. Any violation of impact "serious" or "critical" fails the test; every violation
(rule, impact, target, page) is printed so the next engineer sees what to fix. No page may scroll
sideways (reflow, WCAG 1.4.10), large type included.

axe-core is an npm devDependency (node_modules/axe-core), never served: the page is opened in a
context with ``bypass_csp=True`` so the script can be injected without loosening the site's CSP.

A second test drives one form by keyboard only: Tab walks every field and the submit button in
document order, and each focused element shows a focus indicator of 3:1 contrast (WCAG 1.4.11).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from tests.conftest import start_live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = """() => axe.run(document, {
  runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
  resultTypes: ['violations'],
}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.map(n => ({target: n.target.join(' '), impact: n.impact, summary: n.failureSummary})),
})))"""
FAILING = {"serious", "critical"}
#: the elements that stick out of the window on the right, for the report of a page that scrolls sideways
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(e => !e.parentElement || e.parentElement.getBoundingClientRect().right <= document.documentElement.clientWidth + 1)
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string'
    ? '.' + e.className.trim().split(/\\s+/).join('.') : '') + ' ' + Math.round(e.getBoundingClientRect().right) + 'px').join(', ')"""

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
MODES = {
    "desktop": (DESKTOP, False),
    "phone": (PHONE, False),
    "elder-desktop": (DESKTOP, True),
    "elder-phone": (PHONE, True),
}

#: account key → demo mobile (password Demo2026)
ACCOUNTS = {"citizen": "13800000001", "mediator": "13800000004", "reviewer": "13800000006"}

#: (page name, account or None, path with {names} filled from the demo ids, then: what to do before
#: the audit — None, "wait:<selector>" for content a script brings, "submit:<form selector>" to send
#: the form empty and audit the page with its error messages, "menu" to open the phone menu)
PAGES = [
    ("首页", None, "/", None),
    ("首页·菜单展开", None, "/", "menu"),
    ("登录", None, "/login", None),
    ("登录·出错", None, "/login", "submit:#login-form"),
    ("注册", None, "/register", None),
    ("注册·出错", None, "/register", "submit:#register-form"),
    ("咨询列表", None, "/consultation/", None),
    ("已解答咨询", None, "/consultation/{consultation}", None),
    ("案例检索", None, "/cases/?q=漏水", None),
    ("案例", None, "/cases/{case}", None),
    ("法规库", None, "/laws/", None),
    ("法条", None, "/laws/{law}/articles/{article}", None),
    ("我要咨询", "citizen", "/consultation/ask", "wait:[data-region-selects] select"),
    ("我要咨询·出错", "citizen", "/consultation/ask", "submit:form[data-ask-form]"),
    ("申请调解", "citizen", "/mediation/apply", "wait:[data-region-selects] select"),
    ("申请调解·出错", "citizen", "/mediation/apply", "submit:#apply-form"),
    ("我的事项（群众）", "citizen", "/me", None),
    ("消息", "citizen", "/inbox", None),
    ("调解案件（申请人）", "citizen", "/mediation/cases/{mediation_case}", None),
    ("调解室（当事人）", "citizen", "/rooms/{room}", "wait:#room-messages li"),
    ("我的事项（调解员）", "mediator", "/me", None),
    ("调解案件（调解员）", "mediator", "/mediation/cases/{mediation_case}", None),
    ("调解室（调解员）", "mediator", "/rooms/{room}", "wait:#room-messages li"),
    ("审核队列", "reviewer", "/cases/review", None),
    ("案例审核", "reviewer", "/cases/{review_case}/review", None),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The full demo data on a live server (CSRF on, as a browser meets the site) and the ids of
    the records the audited pages show."""
    tmp = tmp_path_factory.mktemp("a11y")
    app = create_app({
        "TESTING": False,
        "SECRET_KEY": "a11y-secret",
        "FIELD_ENCRYPTION_KEY": "uNn3bFgq2o2Wb4f7xHk2Y0o5m9y8rW3jv1cF6tQ0s2E=",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'demo.sqlite3'}",
        "UPLOAD_FOLDER": str(tmp / "uploads"),
        "INDEX_FOLDER": str(tmp / "index"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "RATELIMIT_ENABLED": False,  # the error-state audits post the forms once per mode
    })
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        db.session.remove()
    ids = _ids(app)
    server = start_live_server(app)
    yield server.url, ids
    server.stop()


def _ids(app) -> dict:
    from case_library.models import ExemplaryCase
    from case_library.operations import review_queue
    from mediation_room.models import Room
    from portal.accounts.models import User
    from portal.consultation.models import Consultation
    from portal.mediation.models import MediationCase
    from portal.statutes.models import Law

    with app.app_context():
        citizen = db.session.execute(select(User).where(User.mobile == ACCOUNTS["citizen"])).scalar_one()
        consultation = db.session.execute(select(Consultation.id).where(
            Consultation.state == "answered", Consultation.is_public.is_(True)).order_by(Consultation.id)).scalars().first()
        case = db.session.execute(select(ExemplaryCase.id).where(
            ExemplaryCase.state == "published").order_by(ExemplaryCase.id)).scalars().first()
        law = db.session.execute(select(Law.id).order_by(Law.id)).scalars().first()
        mediation_case = db.session.execute(select(MediationCase.id).where(
            MediationCase.applicant_id == citizen.id, MediationCase.mediator_id.is_not(None)
        ).order_by(MediationCase.id)).scalars().first()
        room = db.session.execute(select(Room.id).where(Room.state == "open").order_by(Room.id)).scalars().first()
        reviewer = db.session.execute(select(User).where(User.mobile == ACCOUNTS["reviewer"])).scalar_one()
        queue = review_queue(reviewer)
        ids = {"consultation": consultation, "case": case, "law": law, "article": "1",
               "mediation_case": mediation_case, "room": room, "review_case": queue[0].id if queue else None}
        db.session.remove()
    missing = [k for k, v in ids.items() if v is None]
    assert not missing, f"the demo data has no record for {missing}"
    return ids


@pytest.fixture(scope="module")
def logins(site, browser):
    """account key → Playwright storage state of a logged-in session (one login per account)."""
    base, _ = site
    states = {}
    for key, mobile in ACCOUNTS.items():
        ctx = browser.new_context(locale="zh-CN")
        page = ctx.new_page()
        page.goto(base + "/login")
        page.fill("#mobile", mobile)
        page.fill("#password", "Demo2026")
        page.click("#login-form button[type=submit]")
        page.wait_for_url(base + "/me")
        states[key] = ctx.storage_state()
        ctx.close()
    return states


def audit_context(browser, base, viewport, elder, storage_state=None):
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=True, storage_state=storage_state)
    if elder:
        ctx.add_cookies([{"name": "elder_mode", "value": "1", "url": base}])
    return ctx


def audit(page, url, then=None) -> list[dict]:
    """axe-core's WCAG 2.x A/AA violations of the page at ``url`` (after ``then``, see PAGES)."""
    resp = page.goto(url)
    assert resp is not None and resp.status == 200, f"{url}: HTTP {resp and resp.status}"
    page.wait_for_load_state("load")
    if then and then.startswith("wait:"):
        page.wait_for_selector(then[5:], timeout=15000)
    elif then and then.startswith("submit:"):
        # form.submit() skips the browser's own validation and the scripts' submit handlers: the
        # server answers with the form and its error messages.
        with page.expect_navigation():
            page.eval_on_selector(then[7:], "f => f.submit()")
        page.wait_for_selector(".error, .field.has-error", timeout=15000)
    elif then == "menu":
        toggle = page.locator(".nav-toggle")
        if toggle.is_visible():
            toggle.click()
            page.wait_for_selector("#nav-list.open")
    page.add_script_tag(path=str(AXE))
    return page.evaluate(AXE_RUN)


def format_violations(found: list[tuple[str, str, dict]]) -> list[str]:
    lines = []
    for mode, name, v in found:
        for node in v["nodes"]:
            lines.append(f"[{mode}] {name}: {v['id']} ({node['impact'] or v['impact']}) {node['target']} — {v['help']}")
    return lines


@pytest.mark.parametrize("mode", list(MODES))
def test_key_pages_have_no_serious_accessibility_violations(site, logins, browser, mode):
    assert AXE.exists(), "node_modules/axe-core is missing: run `npm ci` (scripts/setup.sh)"
    base, ids = site
    viewport, elder = MODES[mode]
    contexts = {}
    found: list[tuple[str, str, dict]] = []
    wide: list[str] = []
    try:
        for name, account, path, then in PAGES:
            if account not in contexts:
                ctx = audit_context(browser, base, viewport, elder, logins[account] if account else None)
                page = ctx.new_page()
                page.js_errors = []
                page.on("pageerror", lambda exc, page=page: page.js_errors.append(str(exc)))
                contexts[account] = (ctx, page)
            page = contexts[account][1]
            url = base + path.format(**ids)
            violations = audit(page, url, then)
            if elder:
                assert page.evaluate("document.documentElement.classList.contains('elder')"), url
            found.extend((mode, f"{name} {path.format(**ids)}", v) for v in violations)
            # Reflow (WCAG 1.4.10): nothing makes the page scroll sideways, large type included.
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                wide.append(f"[{mode}] {name} {path.format(**ids)}: {width}px wide in a {viewport['width']}px window; "
                            + page.evaluate(WIDEST))
            assert page.js_errors == [], (url, page.js_errors)
    finally:
        for ctx, _ in contexts.values():
            ctx.close()
    lines = format_violations(found)
    print(f"\naxe-core, {mode}: {len(PAGES)} pages, {len(found)} rule violations, {len(lines)} elements")
    print("\n".join(lines))
    serious = format_violations([f for f in found if f[2]["impact"] in FAILING])
    assert not serious, f"{len(serious)} serious/critical accessibility violations ({mode}):\n" + "\n".join(serious)
    assert not wide, "pages that scroll sideways:\n" + "\n".join(wide)


#: The focused element, whether its focus indicator is drawn (outline or box-shadow ring) and the best
#: contrast of the indicator's colours against the background around the element (WCAG 1.4.11
#: non-text contrast asks 3:1 for what shows the focus).
FOCUS_STATE = """() => {
  const rgb = s => (s.match(/rgba?\\([^)]*\\)/g) || []).map(c => c.match(/[\\d.]+/g).map(Number));
  const lum = ([r, g, b]) => [r, g, b].map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((acc, v, i) => acc + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const el = document.activeElement, cs = getComputedStyle(el);
  let bg = [255, 255, 255];
  for (let n = el.parentElement; n; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor)[0];
    if (c && (c.length < 4 || c[3] > 0.5)) { bg = c.slice(0, 3); break; }
  }
  const colours = [];
  if (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) colours.push(rgb(cs.outlineColor)[0]);
  if (cs.boxShadow !== 'none') colours.push(...rgb(cs.boxShadow));
  return {id: el.id || el.name || el.textContent.trim(), drawn: colours.length > 0,
          contrast: Math.max(0, ...colours.filter(Boolean).map(c => ratio(c.slice(0, 3), bg)))};
}"""


@pytest.mark.parametrize("width", [DESKTOP["width"], PHONE["width"]])
def test_register_form_by_keyboard(site, browser, width):
    """From the top of the page, Tab reaches the register form's fields and submit button in
    document order, skipping nothing, each with a visible focus indicator of 3:1 contrast."""
    base, _ = site
    ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    try:
        page = ctx.new_page()
        page.goto(base + "/register")
        expected = page.eval_on_selector_all(
            "#register-form input:not([type=hidden]), #register-form select, #register-form textarea, "
            "#register-form button, #register-form a[href]",
            "els => els.filter(e => !e.disabled && e.offsetParent !== null).map(e => e.id || e.name || e.textContent.trim())")
        assert expected[0] == "mobile" and expected[-1] == "注册", expected
        seen = []
        for _ in range(40):  # header links first, then the form
            page.keyboard.press("Tab")
            state = page.evaluate(FOCUS_STATE)
            if state["id"] == expected[0] or seen:
                seen.append(state)
            if len(seen) == len(expected):
                break
        assert [s["id"] for s in seen] == expected
        invisible = [s["id"] for s in seen if not s["drawn"]]
        assert not invisible, f"no visible focus indicator on {invisible}"
        faint = [(s["id"], round(s["contrast"], 2)) for s in seen if s["contrast"] < 3]
        assert not faint, f"focus indicator below 3:1 against its background: {faint}"
    finally:
        ctx.close()
