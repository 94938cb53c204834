from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from onaboard.web.accounts.models import ApiToken, Clinic, User


@admin.register(User)
class OnaboardUserAdmin(UserAdmin):
    list_display = ("username", "role", "clinic", "is_active", "locked_until")
    list_filter = ("role", "clinic", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("onaboard", {"fields": ("role", "clinic", "failed_logins", "locked_until")}))


admin.site.register(Clinic)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created", "last_used", "revoked")
    readonly_fields = ("digest", "prefix", "last_used")
