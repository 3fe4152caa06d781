from django.urls import path

from stepwise.withdrawal import discharge_views as views

app_name = "discharge_bundle"
urlpatterns = [
    path("<uuid:public_id>/discharge-bundle/", views.page, name="page"),
    path("<uuid:public_id>/discharge-bundle/<slug:item>/", views.record, name="record"),
]
