"""Small statistics used by evaluation reports."""

from __future__ import annotations

import math


def wilson_interval(successes: int, trials: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (default: 95%).

    Preferred over the normal approximation because success rates near 0 or 1 on a few hundred
    seeds are exactly where strategies live, and Wilson stays inside [0, 1] there.
    """
    if trials < 0 or successes < 0 or successes > trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")
    if z <= 0:
        raise ValueError(f"z must be positive, got {z}")
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)  # exact at the ends
    return low, high


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k: the chance that at least one of ``k`` samples drawn without replacement
    from ``n`` (of which ``c`` pass) passes, ``1 - C(n-c, k) / C(n, k)``.

    Estimating from ``n >= k`` samples rather than drawing exactly ``k`` is what makes the
    estimate unbiased and lets one sampling run report every ``k`` up to ``n``.
    """
    _check_counts(n, c, k)
    if n - c < k:  # every k-subset holds a passing sample
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Unbiased pass^k: the chance that all ``k`` samples drawn without replacement pass,
    ``C(c, k) / C(n, k)`` (a reliability measure: high only when nearly every sample passes)."""
    _check_counts(n, c, k)
    return math.comb(c, k) / math.comb(n, k)


def k_ladder(n: int) -> list[int]:
    """The k values reported for ``n`` samples: 1, 2, 4, ... up to ``n`` (``n`` itself included)."""
    if n < 1:
        return []
    ks = [1 << i for i in range(n.bit_length()) if 1 << i <= n]
    return ks if ks[-1] == n else [*ks, n]


def _check_counts(n: int, c: int, k: int) -> None:
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got c={c}, n={n}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
