"""GET /healthz answers from the process alone: no database, no session, no redirect to HTTPS."""


def test_health_check_answers_ok_without_touching_the_database(client):
    # No django_db mark: pytest-django fails the test if anything reaches the database.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie


def test_health_check_answers_head_but_refuses_writes(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_health_check_is_not_redirected_to_https(client, settings):
    # nginx or a load balancer probes the app server over plain HTTP on the loopback.
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/login/").status_code == 301
