"""The jurisdiction packs. Importing this package registers every rule.

| pack | applies when | module |
| --- | --- | --- |
| ALL | always | all.py |
| EU | an EU member state (FR, DE, ...) or "EU" is declared | eu.py |
| FR | "FR" is declared | fr.py |
| US | "US" is declared | us.py |

A new pack is one module here creating ``PACK = Pack("XX")`` and one import below.
"""

from rules.packs import all, eu, fr, us

__all__ = ["all", "eu", "fr", "us"]
