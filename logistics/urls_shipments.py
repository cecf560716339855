"""Web screens of shipments to workshops and of a workshop's queue."""

urlpatterns: list = []
