from django.contrib.auth import views as auth_views
from django.urls import path

from stepwise.accounts import views
from stepwise.accounts.session import before_second_factor
from stepwise.core.web import public_view

app_name = "accounts"
urlpatterns = [
    path("login/", public_view(views.LoginView.as_view()), name="login"),
    path("login/verify/", views.verify, name="verify"),
    path(
        "logout/",
        before_second_factor(public_view(auth_views.LogoutView.as_view())),
        name="logout",
    ),
    path("settings/", views.settings_page, name="settings"),
    path("settings/tokens/<uuid:public_id>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("settings/password/", views.password_change_view, name="password_change"),
    path("settings/two-factor/", views.enrol, name="enrol"),
    path(
        "settings/two-factor/recovery-codes/",
        views.recovery_codes_new,
        name="recovery_codes_new",
    ),
    path("settings/two-factor/remove/", views.second_factor_remove_view, name="mfa_remove"),
    path("settings/two-factor/dismiss/", views.mfa_banner_dismiss, name="mfa_banner_dismiss"),
    path("confirm-password/", views.confirm_password, name="confirm_password"),
    path("session/", views.session_status, name="session_status"),
    path("session/keep-alive/", views.session_keep_alive, name="session_keep_alive"),
    path("staff/", views.staff_list, name="staff"),
    path("staff/new/", views.staff_new, name="staff_new"),
    path("staff/<uuid:public_id>/role/", views.staff_role, name="staff_role"),
    path(
        "staff/<uuid:public_id>/disable/",
        views.staff_active,
        {"active": False},
        name="staff_disable",
    ),
    path(
        "staff/<uuid:public_id>/enable/", views.staff_active, {"active": True}, name="staff_enable"
    ),
    path("staff/<uuid:public_id>/password/", views.staff_password, name="staff_password"),
    path(
        "staff/<uuid:public_id>/two-factor/reset/",
        views.staff_mfa_reset,
        name="staff_mfa_reset",
    ),
]
