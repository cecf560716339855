"""Web screens of intake: donors' donations, their devices and spreadsheet imports."""

urlpatterns: list = []
