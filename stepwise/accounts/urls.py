from django.contrib.auth import views as auth_views
from django.urls import path

from stepwise.accounts import views
from stepwise.core.web import public_view

app_name = "accounts"
urlpatterns = [
    path("login/", public_view(views.LoginView.as_view()), name="login"),
    path("logout/", public_view(auth_views.LogoutView.as_view()), name="logout"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/tokens/<uuid:public_id>/revoke/", views.token_revoke_view, name="token_revoke"),
]
