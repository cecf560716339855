"""Web screens of the documents a donation produces: erasure certificate, donor summary."""

urlpatterns: list = []
