from django.urls import path

from products import views

urlpatterns = [
    path("", views.index, name="products"),
    path("new/", views.edit, name="product-new"),
    path("<int:product_id>/", views.edit, name="product-edit"),
    path("<int:product_id>/delete/", views.delete, name="product-delete"),
]
