"""A site loaded with the full demo data, shared by the cross-cutting security tests of a module."""
import pytest

from portal import create_app
from portal.extensions import db


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "demo-test",
        "FIELD_ENCRYPTION_KEY": "uNn3bFgq2o2Wb4f7xHk2Y0o5m9y8rW3jv1cF6tQ0s2E=",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'demo.sqlite3'}",
        "UPLOAD_FOLDER": str(tmp / "uploads"),
        "INDEX_FOLDER": str(tmp / "index"),
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        db.session.remove()
    return app


def login(client, mobile: str, password: str = "Demo2026"):
    resp = client.post("/login", data={"mobile": mobile, "password": password})
    assert resp.status_code == 302, f"demo login failed for {mobile}"
    return client
