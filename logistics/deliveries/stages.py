"""A delivery's stages and the steps between them, as data (pure, no ORM).

preparing → (to_depot → at_depot →) to_structure → delivered; a delivery is cancelled only
while it is being prepared. "delivered" is reached when the last device is received."""

from dataclasses import dataclass

from logistics.models.shipments import DeliveryStage

OPEN_STAGES = frozenset(
    {
        DeliveryStage.PREPARING,
        DeliveryStage.TO_DEPOT,
        DeliveryStage.AT_DEPOT,
        DeliveryStage.TO_STRUCTURE,
    }
)
# Where the structure (or the coordination for it) may tick or scan a device as arrived: on
# its way, or waiting at the depot for the structure to collect it.
RECEIVABLE = frozenset({DeliveryStage.TO_STRUCTURE, DeliveryStage.AT_DEPOT})
ON_THE_ROAD = frozenset({DeliveryStage.TO_DEPOT, DeliveryStage.TO_STRUCTURE})


@dataclass(frozen=True)
class Step:
    action: str
    sources: frozenset[str]


STEPS = {
    step.action: step
    for step in (
        Step("dispatch", frozenset({DeliveryStage.PREPARING, DeliveryStage.AT_DEPOT})),
        Step("receive_at_depot", frozenset({DeliveryStage.TO_DEPOT})),
        Step("cancel", frozenset({DeliveryStage.PREPARING})),
    )
}


def next_stage(stage: str, action: str, *, via_depot: bool) -> str | None:
    """The stage the step leads to, or None when the step does not apply to this stage."""
    step = STEPS.get(action)
    if step is None or stage not in step.sources:
        return None
    if action == "dispatch":
        if stage == DeliveryStage.PREPARING and via_depot:
            return DeliveryStage.TO_DEPOT
        return DeliveryStage.TO_STRUCTURE
    if action == "receive_at_depot":
        return DeliveryStage.AT_DEPOT
    return DeliveryStage.CANCELLED
