"""The shop's refund policy, kept in Python beside the team's other helpers."""


def refund_policy(state: str, days_since_delivery: int = 0, damaged: bool = False) -> dict:
    """Whether an order may be refunded, and why.

    Args:
        state: The order's state: shipped, delivered or returned.
        days_since_delivery: Days since the order was delivered.
        damaged: Whether the customer says it arrived damaged.
    """
    if state != "delivered":
        return {"refund": False, "why": "only delivered orders are refunded"}
    if damaged:
        return {"refund": True, "why": "damaged on arrival: refunded in full"}
    if days_since_delivery <= 14:
        return {"refund": True, "why": "within the 14-day return window"}
    return {"refund": False, "why": "past the 14-day return window"}
