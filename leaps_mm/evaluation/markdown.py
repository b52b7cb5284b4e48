"""Small pieces of the markdown tables: metric values and table lines."""
import math
from typing import Optional, Sequence


def metric_value(metrics: Optional[dict], key: str) -> Optional[float]:
    """``metrics[key]`` when it is a finite number, else None."""
    value = (metrics or {}).get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def table_line(cells: Sequence[str]) -> str:
    """One markdown table row (``|`` inside a cell escaped)."""
    return '| ' + ' | '.join(c.replace('|', '\\|') for c in cells) + ' |'
