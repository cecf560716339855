"""Error pages: in the site's layout when a request exists, standalone for a server error."""

import pytest
from django.template import loader
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
