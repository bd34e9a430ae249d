from django.urls import path

from frontend import pwa, views

urlpatterns = [
    path("accounts/login/", views.sign_in, name="login"),
    path("accounts/verify/", views.verify, name="verify"),
    path("accounts/enroll/", views.enroll, name="enroll"),
    path("accounts/logout/", views.sign_out, name="logout"),
    path("accounts/locked/", views.locked_page, name="locked"),
    path("accounts/backup-codes/", views.backup_codes, name="backup-codes"),
    # the installable app: its worker at the root, so that it controls every page
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("outbox/", pwa.outbox_page, name="outbox"),
]
