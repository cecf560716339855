"""Template context: the user's organisation and kind, for menus and home pages."""

from inventory.selectors import user_scope


def membership(request):
    return {"scope": user_scope(getattr(request, "user", None))}
