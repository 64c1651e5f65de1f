"""pandas, imported only when a result's `to_dataframe()` is called: an optional dependency."""

from __future__ import annotations

from types import ModuleType


def pandas() -> ModuleType:
    """The pandas module, or an ImportError that says how to get it."""
    try:
        import pandas as pd
    except ImportError as err:
        raise ImportError("to_dataframe() needs pandas: pip install pandas") from err
    return pd
