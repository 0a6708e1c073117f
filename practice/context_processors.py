from django.http import HttpRequest

from practice.roles import is_client, is_owner, is_therapist


def roles(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {
        "user_is_owner": is_owner(user),
        "user_is_therapist": is_therapist(user),
        "user_is_client": is_client(user),
    }
