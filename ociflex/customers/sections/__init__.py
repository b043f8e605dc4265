"""The sections of a customer file, each read by its own ``read_*`` function.

A ``read_*`` function reports every mistake in its section to the ``Checker`` it is given and
returns what it could make of the section; the loader builds a customer only when the whole file
has no problem.
"""
