"""Numbers beyond the database's INTEGER range in URLs and query strings: a 404 or a page, never
a 500 (PostgreSQL raises DataError for them; SQLite does not, so this matters most with --db=postgres).

Generated from the URL map: every rule with an ``<int:…>`` part is requested with each of its
numbers at 2**31 (the first value an INTEGER column cannot hold) and 2**63, as an administrator
(who passes every permission check, so the lookup itself is reached) and anonymously; every GET
page without parameters is requested with oversized numeric query parameters."""
import re

import pytest
from werkzeug.routing import IntegerConverter

from portal.accounts.models import Role

HUGE = (2**31, 2**63, 10**30)
QUERY_PARAMS = ("page", "id", "region", "region_id", "org", "organisation_id", "case", "after", "year", "level")


def _int_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not rule.arguments:
            continue
        if all(isinstance(rule._converters[a], IntegerConverter) for a in rule.arguments):
            yield rule


def _urls(rule, value):
    return re.sub(r"<int:[a-z_]+>", str(value), rule.rule)


@pytest.fixture
def admin_client(app, client, factory, auth):
    admin = factory.user(Role.admin, name="管理员")
    auth.login(admin)
    return client


def test_huge_numbers_in_url_paths_are_never_a_server_error(app, admin_client):
    rules = list(_int_rules(app))
    assert len(rules) >= 20, "the URL map should have many id routes; did the rule discovery break?"
    anonymous = app.test_client()
    tried = 0
    failures = []
    for rule in rules:
        for value in HUGE:
            url = _urls(rule, value)
            for who, c in (("admin", admin_client), ("anonymous", anonymous)):
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    resp = c.open(url, method=method, data={})
                    tried += 1
                    if resp.status_code >= 500:
                        failures.append(f"{method} {url} as {who}: {resp.status_code}")
    print(f"huge-id requests tried: {tried} over {len(rules)} rules")
    assert not failures, "\n".join(failures)


def test_huge_numbers_in_query_strings_are_never_a_server_error(app, admin_client):
    pages = [r.rule for r in app.url_map.iter_rules()
             if not r.arguments and "GET" in r.methods and r.endpoint != "static"]
    failures = []
    for path in pages:
        for value in (2**31, 10**30, -(2**63)):
            query = "&".join(f"{p}={value}" for p in QUERY_PARAMS)
            resp = admin_client.get(f"{path}?{query}")
            if resp.status_code >= 500:
                failures.append(f"GET {path}?{query}: {resp.status_code}")
    assert not failures, "\n".join(failures)
