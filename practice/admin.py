from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

# Users are autocompleted from client and session forms; make the search cheap and clear.
admin.site.unregister(User)


@admin.register(User)
class PracticeUserAdmin(UserAdmin):
    list_select_related = []
    search_fields = ["username", "first_name", "last_name", "email"]
