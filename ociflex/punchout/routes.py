"""The employee's side: call-up, booking form, and the basket back to the ERP; and the ERP's
FUNCTION calls (DETAIL, VALIDATE, searches), answered on the call-up's URL.

Each of them is written to the transfer log (:mod:`ociflex.transfers`), accepted or rejected,
without the password: a basket in the transaction that registers its request, the rest in a
short transaction of its own, whose failure never keeps the ERP from its answer.

The views live in :mod:`~ociflex.punchout.callup`, :mod:`~ociflex.punchout.functions` and
:mod:`~ociflex.punchout.booking`, on the blueprint of :mod:`~ociflex.punchout.blueprint`;
importing this module registers them all.
"""

from ociflex.punchout import booking, callup
from ociflex.punchout.blueprint import bp

__all__ = ["booking", "bp", "callup"]
