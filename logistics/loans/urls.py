"""Web screens of loans and of what structures report of their devices."""

from django.urls import path

from logistics.loans import views

urlpatterns: list = [
    path("loans/", views.loan_list, name="loan_list"),
    path("loans/overdue/", views.loan_overdue, name="loan_overdue"),
    path("loans/<int:pk>/", views.loan_detail, name="loan_detail"),
    path("loans/<int:pk>/extend/", views.loan_extend, name="loan_extend"),
    path("loans/<int:pk>/return/", views.loan_return, name="loan_return"),
    path("reports/", views.report_list, name="report_list"),
    path("reports/new/", views.report_create, name="report_create"),
    path("reports/<int:pk>/close/", views.report_close, name="report_close"),
]
