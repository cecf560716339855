"""Web screens of handovers."""

urlpatterns: list = []
