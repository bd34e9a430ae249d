from django.urls import include, path

from frontend import views

urlpatterns = [
    path("accounts/login/", views.sign_in, name="login"),
    path("accounts/verify/", views.verify, name="verify"),
    path("accounts/enroll/", views.enroll, name="enroll"),
    path("accounts/logout/", views.sign_out, name="logout"),
    path("accounts/locked/", views.locked_page, name="locked"),
    path("accounts/backup-codes/", views.backup_codes, name="backup-codes"),
    path("accounts/tokens/", views.tokens, name="tokens"),
    path("", views.home, name="home"),
    path("operations/<str:code>/rooms/", include("messaging.urls")),
    path("operations/<str:code>/results/", include("results.urls")),
    path("operations/<str:code>/reports/", include("results.reports.urls")),
    path("operations/<str:code>/", views.operation_detail, name="operation"),
    path("operations/<str:code>/transition/", views.operation_transition, name="operation-transition"),
]
