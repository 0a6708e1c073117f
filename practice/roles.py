"""The practice's roles. Owners run the practice from the admin; therapists treat clients."""

OWNER = "Owner"
THERAPIST = "Therapist"


def _group_names(user) -> set[str]:
    # Cached on the user object: several checks per request cost one query.
    if not hasattr(user, "_practice_group_names"):
        user._practice_group_names = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
    return user._practice_group_names


def is_owner(user) -> bool:
    return user.is_authenticated and user.is_active and (user.is_superuser or OWNER in _group_names(user))


def is_therapist(user) -> bool:
    return user.is_authenticated and user.is_active and THERAPIST in _group_names(user)


def is_staff_member(user) -> bool:
    """Owners and therapists: the people who may open client records."""
    return is_owner(user) or is_therapist(user)


def is_client(user) -> bool:
    """A client with a linked record who is not also staff: who the portal is for.

    Staff come first: their check reads the roles already loaded, so a therapist's pages ask for no client record.
    """
    if not user.is_authenticated or is_staff_member(user):
        return False
    return getattr(user, "client_profile", None) is not None
