"""Customers: one YAML file each in ``config/customers/``, loaded into validated objects."""

from ociflex.customers.loader import LoadResult, load_customer, load_customers
from ociflex.customers.model import Customer, Field, Localized, Secret, Vehicle
from ociflex.customers.problems import CustomerConfigError, Problem

__all__ = [
    "Customer",
    "CustomerConfigError",
    "Field",
    "LoadResult",
    "Localized",
    "Problem",
    "Secret",
    "Vehicle",
    "load_customer",
    "load_customers",
]
