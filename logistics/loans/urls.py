"""Web screens of loans."""

urlpatterns: list = []
