from tests.conftest import text_of


def test_home_page_renders_in_chinese(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert "公共法律服务网" in text_of(resp)
    assert "Content-Security-Policy" in resp.headers
