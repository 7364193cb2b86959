"""No full ID number or mobile number on any public page of the demo site (issue 9).

The crawler follows every same-site link from the home page as an anonymous visitor (and as a
citizen who is party to nothing), so a new public page is covered without being listed here.
"""
import re
from urllib.parse import urljoin, urlsplit

from portal.identity import id_check_digit
from tests.security.conftest import login

ID_RE = re.compile(r"(?<![\dA-Za-z])(\d{17}[\dXx])(?![\dA-Za-z])")
MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
LINK_RE = re.compile(r'href="([^"#]+)')
MAX_PAGES = 400


def _leaks(html: str) -> list[str]:
    found = [m for m in ID_RE.findall(html) if id_check_digit(m[:17]) == m[17].upper()]
    found += MOBILE_RE.findall(html)
    return found


def _crawl(client, start="/"):
    seen, queue, leaks = set(), [start], {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        resp = client.get(path)
        assert resp.status_code < 500, f"{path} gave {resp.status_code}"
        if resp.status_code != 200 or "text/html" not in resp.content_type:
            continue
        html = resp.get_data(as_text=True)
        bad = _leaks(html)
        if bad:
            leaks[path] = bad
        for href in LINK_RE.findall(html):
            url = urljoin(path, href.replace("&amp;", "&"))
            parts = urlsplit(url)
            if parts.netloc or parts.path.startswith(("/static/", "/files/", "/logout")):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            # Follow pagination and facet links of a listing only a little way.
            if "page=" in target and not re.search(r"page=[1-3](?!\d)", target):
                continue
            if target not in seen:
                queue.append(target)
    return seen, leaks


def test_public_pages_show_no_full_id_or_mobile(demo_app):
    seen, leaks = _crawl(demo_app.test_client())
    assert len(seen) > 5
    assert leaks == {}, leaks


def test_pages_of_a_logged_in_citizen_show_no_full_id_or_mobile(demo_app):
    client = demo_app.test_client()
    login(client, "13800000001")
    seen, leaks = _crawl(client, "/me")
    assert len(seen) > 5
    assert leaks == {}, leaks
