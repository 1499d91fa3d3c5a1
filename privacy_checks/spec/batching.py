"""Which member counts and batch sizes a DP-SGD model can train with, and the sentence that says how to get one.

DP-SGD here clips every example's gradient in a microbatch of its own, and
TF Privacy's optimizer splits each batch into ``batch_size`` microbatches: a
last batch with fewer examples cannot be split, so the members must fill
whole batches. When ``members`` is set, the profile checks this as it is
built; when it is not (a data function, an image folder), the count is known
only once the data is loaded, and the per-model preflight checks it before
any model trains (:func:`privacy_checks.train.fit.preflight`). Both say the
same thing, with the nearest counts that work.
"""

from __future__ import annotations




def member_counts(members: int, batch_size: int, pool: int | None = None) -> list[int]:
    """The multiples of ``batch_size`` nearest to ``members``: the one below and, without a ``pool``
    (the examples there are to draw from), the one above; none where the pool holds no whole batch."""
    below = members // batch_size * batch_size
    counts = [below] if below else []
    above = below + batch_size
    if pool is None or above <= pool:
        counts.append(above)
    return [count for count in counts if pool is None or count <= pool]


def batch_sizes(members: int, batch_size: int, most: int = 3) -> list[int]:
    """Up to ``most`` batch sizes that divide ``members``, the largest at or below ``batch_size`` first."""
    divisors = [size for size in range(min(batch_size, members), 0, -1) if members % size == 0]
    return divisors[:most] if len(divisors) == 1 else [size for size in divisors if size > 1][:most]


def _either(values: list[int], key: str) -> str:
    shown = [str(value) for value in values]
    return f"{key} = " + (shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}")


def fixes(members: int, batch_size: int, pool: int | None = None) -> str:
    """``set members = 50, or batch_size = 45, 30 or 18`` (without a capital or a full stop)."""
    counts = member_counts(members, batch_size, pool)
    sizes = batch_sizes(members, batch_size)
    choices = ([_either(counts, "members")] if counts else []) + [_either(sizes, "batch_size")]
    return "set " + ", or ".join(choices)
