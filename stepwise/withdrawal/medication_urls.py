from django.urls import path

from stepwise.withdrawal import medication_views as views

app_name = "medications"
urlpatterns = [
    path("<uuid:public_id>/medications/", views.record, name="record"),
    path("<uuid:public_id>/medications/new/", views.order_new, name="order_new"),
    path("<uuid:public_id>/medications/order-set/", views.order_set, name="order_set"),
    path("<uuid:public_id>/medications/<uuid:order_id>/stop/", views.stop, name="stop"),
    path("<uuid:public_id>/medications/<uuid:order_id>/give/", views.give, name="give"),
    path("<uuid:public_id>/medications/<uuid:order_id>/override/", views.override, name="override"),
    path(
        "<uuid:public_id>/medications/doses/<uuid:administration_id>/followup/",
        views.followup,
        name="followup",
    ),
    path(
        "<uuid:public_id>/medications/doses/<uuid:administration_id>/entered-in-error/",
        views.administration_error,
        name="administration_error",
    ),
]
