from django.urls import path

from frontend import views

urlpatterns = [
    path("accounts/login/", views.sign_in, name="login"),
    path("accounts/verify/", views.verify, name="verify"),
    path("accounts/enroll/", views.enroll, name="enroll"),
    path("accounts/logout/", views.sign_out, name="logout"),
    path("accounts/locked/", views.locked_page, name="locked"),
    path("accounts/backup-codes/", views.backup_codes, name="backup-codes"),
]
