"""Label writes: pre-printing fresh codes. How many one pre-print may issue is a rule of label
stock (labels.stock); issuing them is inventory's (inventory.services.label_codes_preprint).
"""

from django.utils.translation import gettext_lazy as _

from inventory import services
from inventory.errors import invalid
from inventory.models import LabelCode
from labels import stock


def preprint_issue(*, actor, count: int) -> list[LabelCode]:
    """Issue `count` fresh codes for labels printed ahead; scanning one binds it later."""
    if not stock.preprint_count_allowed(count):
        raise invalid({"count": [_("Between 1 and 5,000 codes at a time.")]})
    return services.label_codes_preprint(actor=actor, count=count)
