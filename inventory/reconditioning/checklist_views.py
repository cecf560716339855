"""The functional-test checklists, per category: the coordination keeps them as data."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inventory import permissions, selectors
from inventory.errors import DomainError
from inventory.models import Category, TestItem
from inventory.reconditioning import services as reconditioning


class ChecklistItemForm(forms.Form):
    label_fr = forms.CharField(label=gettext_lazy("Label (French)"), max_length=120)
    label_en = forms.CharField(label=gettext_lazy("Label (English)"), max_length=120)
    sort_order = forms.IntegerField(
        label=gettext_lazy("Order"), required=False, min_value=0, max_value=32767
    )
    is_active = forms.BooleanField(label=gettext_lazy("In use"), required=False, initial=True)


@login_required
def checklist_index(request):
    scope = selectors.user_scope(request.user)
    permissions.require_screen(
        permissions.may_read_coordination(scope), _("The checklists are kept by the coordination.")
    )
    categories = Category.objects.annotate(
        items=Count("test_items", filter=Q(test_items__is_active=True))
    )
    return render(
        request,
        "reconditioning/checklists/index.html",
        {"categories": categories, "may_edit": scope.can_write},
    )


@login_required
def checklist_category(request, code: str):
    scope = selectors.user_scope(request.user)
    permissions.require_screen(
        permissions.may_read_coordination(scope), _("The checklists are kept by the coordination.")
    )
    category = get_object_or_404(Category, pk=code)
    add_form = ChecklistItemForm(prefix="new")
    bound_item = None
    if request.method == "POST":
        if not scope.can_write:
            raise PermissionDenied(_("Your role is read only."))
        item_id = request.POST.get("item", "")
        prefix = f"item-{item_id}" if item_id.isdigit() else "new"
        form = ChecklistItemForm(request.POST, prefix=prefix)
        if form.is_valid():
            try:
                item = reconditioning.checklist_item_save(
                    actor=request.user,
                    category_id=category.pk,
                    item_id=int(item_id) if item_id.isdigit() else None,
                    **form.cleaned_data,
                )
            except DomainError as err:
                if err.status == 404:
                    raise Http404(err.message) from err
                for name, errors in (err.params.get("fields") or {}).items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(
                    request, _("Checklist line saved: %(label)s.") % {"label": item.label}
                )
                return redirect("inventory:checklist_category", code=category.pk)
        if prefix == "new":
            add_form = form
        else:
            bound_item = (int(item_id), form)
    items = []
    for item in TestItem.objects.filter(category=category).order_by("sort_order", "code"):
        if bound_item and bound_item[0] == item.pk:
            form = bound_item[1]
        else:
            form = ChecklistItemForm(
                prefix=f"item-{item.pk}",
                initial={
                    "label_fr": item.label_fr,
                    "label_en": item.label_en,
                    "sort_order": item.sort_order,
                    "is_active": item.is_active,
                },
            )
        items.append((item, form))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "reconditioning/checklists/category.html",
        {"category": category, "items": items, "add_form": add_form, "may_edit": scope.can_write},
        status=status,
    )
