"""Web screens of the fund's figures: the dashboard and its downloads, the frozen reports, and
the reports' public check."""

from django.urls import path

from logistics.fund_reports import views

urlpatterns: list = [
    path("fund/", views.fund_dashboard, name="fund_dashboard"),
    path("fund/figures.pdf", views.fund_export_pdf, name="fund_export_pdf"),
    path("fund/figures.csv", views.fund_export_csv, name="fund_export_csv"),
    path("fund/figures.xlsx", views.fund_export_xlsx, name="fund_export_xlsx"),
    path("fund/reports/", views.fund_report_list, name="fund_report_list"),
    path("fund/reports/issue/", views.fund_report_issue, name="fund_report_issue"),
    path("fund/reports/<int:pk>/", views.fund_report_detail, name="fund_report_detail"),
    path("fund/reports/<int:pk>/report.pdf", views.fund_report_pdf, name="fund_report_pdf"),
    path("fund/reports/<int:pk>/report.csv", views.fund_report_csv, name="fund_report_csv"),
    path("fund/reports/<int:pk>/report.xlsx", views.fund_report_xlsx, name="fund_report_xlsx"),
    # Public: anyone holding a report checks it here, without an account.
    path("fund/reports/verify/", views.fund_report_verify, name="fund_report_verify"),
    path(
        "fund/reports/verify/<str:code>/",
        views.fund_report_verify_code,
        name="fund_report_verify_code",
    ),
]
