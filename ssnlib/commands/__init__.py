"""The ``ssn`` sub-commands, one module each, on top of the library (after stylegan2-ada's
``generate.py`` / ``calc_metrics.py`` over ``training/`` and ``metrics/``).

Each module has one ``add_<name>_command(parser)`` that declares the sub-command's arguments on
``parser`` and returns the callable ``run(args) -> int`` that does the work: parse, call the
library, print. Nothing in the library imports from here; :mod:`ssnlib.cli` registers them.
"""
