"""The statistics of random draws that the checks of 02 and 05 share: do samples look drawn
from a distribution, by their Kolmogorov-Smirnov distance from it and the
Dvoretzky-Kiefer-Wolfowitz bound on that distance at a false-alarm rate."""
import math

import numpy as onp
from scipy import special

from d2lcourse.checks import core


def normal_cdf(scale):
    """The distribution function of N(0, scale^2)."""
    return lambda x: special.ndtr(onp.asarray(x) / scale)


def ks_gap(samples, cdf):
    """Kolmogorov-Smirnov: (the distance sup_t |F_n(t) - F(t)| of the empirical distribution
    function of `samples` from `cdf`, the sample where it is reached, the share of samples up
    to there, and `cdf` there)."""
    x = onp.sort(onp.ravel(samples))
    expected = cdf(x)
    ranks = onp.arange(x.size + 1) / x.size            # the empirical function's steps
    above, below = ranks[1:] - expected, expected - ranks[:-1]
    i = int(onp.argmax(onp.maximum(above, below)))
    share = ranks[i + 1] if above[i] >= below[i] else ranks[i]
    return float(max(above[i], below[i])), float(x[i]), float(share), float(expected[i])


def ks_threshold(n, alpha):
    """The distance that n right draws exceed with probability at most `alpha`: the
    Dvoretzky-Kiefer-Wolfowitz inequality with Massart's constant,
    P(sup |F_n - F| > t) <= 2 exp(-2 n t^2)."""
    return math.sqrt(math.log(2 / alpha) / (2 * n))


def judge_normal(function, samples, scale, what, fix, alarm, slack=0.0):
    """Fail unless `samples` look drawn from N(0, scale^2): their Kolmogorov-Smirnov distance
    from it at most the limit that right draws exceed with probability `alarm` (plus `slack`,
    for rounding). The message says where the gap is, and whether they look uniform instead."""
    gap, x, share, normal = ks_gap(samples, normal_cdf(scale))
    limit = ks_threshold(samples.size, alarm) + slack
    if gap <= limit:
        return
    low, width = samples.mean() - math.sqrt(3) * samples.std(), math.sqrt(12) * samples.std()
    uniform = ks_gap(samples, lambda t: onp.clip((t - low) / width, 0.0, 1.0))[0]
    looks = (f" They look uniform (at distance {uniform:.3f} from the uniform distribution "
             f"of their mean and variance): the right mean and variance are not enough."
             if uniform <= ks_threshold(samples.size, alarm) else "")
    core.fail(function, f"{what} do not look drawn from N(0, {scale:g}^2): {share:.1%} of them "
              f"lie below {x / scale:+.2f} standard deviations, where N(0, {scale:g}^2) puts "
              f"{normal:.1%} (a Kolmogorov-Smirnov distance of {gap:.3g}; {samples.size} right "
              f"draws exceed {limit:.3g} with probability below {alarm:g}).{looks} {fix}")
