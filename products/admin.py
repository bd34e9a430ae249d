"""The admin: right holders and the people who speak for them; product records to read.

A right holder's member is added through ``right_holder_member_add`` (audited, and refused for a
member of an operation); products are written by the right holders themselves (their pages, the API).
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from operations.models import Membership
from products.models import Product, RightHolder, RightHolderMember
from products.services import right_holder_member_add


class RightHolderMemberForm(forms.ModelForm):
    class Meta:
        model = RightHolderMember
        fields = ["user", "right_holder"]

    def clean_user(self):  # type: ignore[no-untyped-def]
        user = self.cleaned_data["user"]
        if Membership.objects.filter(user=user).exists():  # the service's rule, said on the form
            raise ValidationError("A member of an operation cannot speak for a right holder.")
        return user


@admin.register(RightHolder)
class RightHolderAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "created_at"]
    search_fields = ["name"]


@admin.register(RightHolderMember)
class RightHolderMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "right_holder", "created_at"]
    raw_id_fields = ["user"]
    form = RightHolderMemberForm

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        obj.pk = right_holder_member_add(right_holder=obj.right_holder, user=obj.user, actor=request.user).pk


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["brand", "name", "right_holder", "category", "updated_at"]
    list_filter = ["right_holder"]
    search_fields = ["brand", "name", "gtins__gtin"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
