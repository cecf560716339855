"""Error pages: in the site's layout when a request exists, standalone for a server error."""

import pytest
from django.template import loader
from django.test import Client
from django.urls import path, reverse


def test_not_found_page_uses_the_site_layout(login, coordinator):
    response = login(coordinator).get("/no-such-page/")
    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    assert f'href="{reverse("home")}"' in response.text


def test_forbidden_page_shows_why(login, fund_reader):
    response = login(fund_reader).get(reverse("inventory:device_list"))
    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]
    assert response.context["exception"]


def test_server_error_page_renders_without_any_context():
    html = loader.get_template("500.html").render()
    assert "<h1>" in html
    assert 'lang="fr"' in html


def broken_view(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", broken_view)]


@pytest.mark.urls(__name__)
def test_an_unexpected_error_answers_500_with_the_standalone_page(client, db):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Réemploi" in response.content.decode()
    assert "a bug" not in response.content.decode()


def test_a_form_refused_for_its_csrf_token_explains_in_french_with_a_way_back(coordinator, db):
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    response = client.post(
        reverse("inventory:device_register"),
        {"manufacturer": "Dell"},
        HTTP_REFERER="http://testserver/devices/new/?label_code=ABC",
    )
    assert response.status_code == 403
    assert "403_csrf.html" in [t.name for t in response.templates]
    text = response.content.decode()
    assert "session a expiré" in text
    assert "cookies" in text
    assert 'href="/devices/new/?label_code=ABC"' in text
    assert f'href="{reverse("login")}?next=%2Fdevices%2Fnew%2F%3Flabel_code%3DABC"' in text
    assert "<title>Erreur" in text


def test_the_csrf_page_never_leads_to_another_site(client, db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("login"),
        {"username": "someone", "password": "x"},
        HTTP_REFERER="https://evil.example/login/",
    )
    assert response.status_code == 403
    text = response.content.decode()
    assert "evil.example" not in text
    assert f'href="{reverse("home")}"' in text
    # Signing in from the login page itself: no "next" that would lead back to it.
    assert f'href="{reverse("login")}"' in text
