"""Web screens of the inventory."""

app_name = "inventory"
urlpatterns: list = []
