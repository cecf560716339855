"""Web screens of WEEE disposals and their register."""

urlpatterns: list = []
