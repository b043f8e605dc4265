"""What the employee booked, and the values a cart template's ``{placeholders}`` stand for."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ociflex.customers.model import PLACEHOLDER, Customer, Vehicle


@dataclass(frozen=True)
class Booking:
    """What the employee booked, as a cart needs it."""

    vehicle: Vehicle
    start: date
    #: The last day of the rental (inclusive).
    end: date
    location: str | None
    #: Final value of every customer field after the employee's edits ("" when not given).
    fields: Mapping[str, str]
    remarks: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def total(self) -> Decimal:
        """Days times the day rate, before tax."""
        return self.vehicle.day_rate * self.days

    @property
    def short_description(self) -> str:
        """The line in a few words, for a cart: ``COMPACT 07-12-2026–09-12-2026``."""
        return f"{self.vehicle.description} {self.start:%d-%m-%Y}–{self.end:%d-%m-%Y}"

    def days_text(self, gettext: Callable[[str], str]) -> str:
        """The rental period in days, in the language of ``gettext``: "3 dagen"."""
        word = gettext("day") if self.days == 1 else gettext("days")
        return f"{self.days} {word}"


def plain_amount(amount: Decimal) -> str:
    """An amount as both protocols write it: a decimal point, two decimals (rounded half up),
    no thousands separator."""
    return format(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")


def placeholder_values(customer: Customer, booking: Booking, reference: str) -> dict[str, str]:
    """What each placeholder of a cart template stands for in ``booking``: the customer's
    fields and the built-in ones (:data:`~ociflex.customers.model.BUILTIN_PLACEHOLDERS`)."""
    return {name: booking.fields.get(name, "") for name in customer.fields} | {
        "vehicle_code": booking.vehicle.code,
        "reference": reference,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "days": str(booking.days),
        "location": booking.location or "",
    }


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{placeholder}`` replaced by its value (the loader has checked
    that every placeholder is known)."""
    return PLACEHOLDER.sub(lambda match: values[match[1]], template)
