from django.urls import URLPattern

app_name = "residences"
urlpatterns: list[URLPattern] = []
