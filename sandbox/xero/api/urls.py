"""The emulated Accounting API under /api.xro/2.0/: sub-resources first, then every declared collection
through the two generic views."""

from django.urls import path

from sandbox.xero.api import views

urlpatterns = [
    path("CreditNotes/<str:ref>/Allocations", views.credit_note_allocations),
    path("CreditNotes/<str:ref>/Allocations/<str:allocation_id>", views.credit_note_allocation),
    path("ContactGroups/<str:ref>/Contacts", views.contact_group_members),
    path("ContactGroups/<str:ref>/Contacts/<str:contact_id>", views.contact_group_member),
    path("TrackingCategories/<str:ref>/Options", views.tracking_options),
    path("TrackingCategories/<str:ref>/Options/<str:option_id>", views.tracking_option),
    path("<str:plural>", views.collection),
    path("<str:plural>/<str:ref>", views.document),
]
