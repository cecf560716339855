"""Web screens of deliveries."""

urlpatterns: list = []
