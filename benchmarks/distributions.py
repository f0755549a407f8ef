"""Distribution checks: their false-alarm rates, computed and measured over many seeds.

A check of random draws states the probability that it fails a correct solution (at most
1e-6 per test cell, COURSE_CONTRACT.md). A rate that small cannot be observed in a run,
so each part below measures two things over `--seeds` seeds of MXNet's generator:

- calibration: each test's bound, computed for a loose false-alarm rate (10% and 1%),
  where a few hundred seeds do see failures; the share of seeds that fail it must stay
  at or below that rate. The same formula gives the check's own bound at its tiny rate.
- the check as it is, run on the reference at every seed: its failures (expected 0) and
  the worst margin per test (1 would fail); and its power, the share of calls in which
  it fails the usual wrong distributions.

    .venv/bin/python benchmarks/distributions.py [--seeds 200]
"""
import argparse
import contextlib
import io

import numpy as onp

from d2lcourse._mxnet import mx

LEVELS = (0.1, 0.01)


def init_mlp_params_false_alarms(seeds):
    """05's init_mlp_params_distribution on the reference, at the test cells' settings, and
    its power against the usual wrong distributions (the share of calls it fails)."""
    from d2lcourse import np, npx
    from d2lcourse.checks import draws
    from d2lcourse.checks import mlp as check
    from d2lcourse.mistakes import mlp as catalogue
    from d2lcourse.solutions.mlp import init_mlp_params

    def defined(name):
        """The init_mlp_params of the catalogued mistake `name`."""
        source = next(m.source for m in catalogue.MISTAKES if m.name == name)
        namespace = {"np": np, "npx": npx}
        exec(source, namespace)
        return namespace["init_mlp_params"]

    wrongs = {"clipped at 3 sigma": defined("init_clipped_at_three_sigma"),
              "uniform of variance sigma^2": defined("init_uniform_same_variance"),
              "sigma ignored (0.01)": defined("init_sigma_ignored"),
              "a fixed seed inside": defined("init_seeds_once")}
    settings = [(400, 300, 40, 0.5), (784, 64, 200, 0.03), (200, 500, 30, 2.0)]
    print(f"init_mlp_params: {len(settings)} settings x {seeds} seeds; each test fails a "
          f"correct solution with probability <= {check.FALSE_ALARM:g}, "
          f"{check.TESTS_PER_CALL} tests per call")
    rejected = {}     # (test, level) -> number of draws rejected at that level
    counted = {}      # test -> number of draws tested
    worst = {}        # test -> largest margin at the check's own rate (> 1 fails)

    def record(test, margin, rejects):
        counted[test] = counted.get(test, 0) + 1
        worst[test] = max(worst.get(test, -onp.inf), margin)
        for level in LEVELS:
            rejected[test, level] = rejected.get((test, level), 0) + bool(rejects(level))

    failures, caught = 0, dict.fromkeys(wrongs, 0)
    for num_inputs, num_hiddens, num_outputs, sigma in settings:
        for seed in range(seeds):
            mx.random.seed(seed)
            W1, _, W2, _ = (p.asnumpy().astype(onp.float64) for p in init_mlp_params(
                num_inputs, num_hiddens, num_outputs, sigma))
            for w in (W1.reshape(-1), W2.reshape(-1)):
                n, std, mean = w.size, w.std(), w.mean()
                gap = draws.ks_gap(w, draws.normal_cdf(sigma))[0]
                low, high = check.spread_bounds(n, sigma)
                record("spread", max((std - sigma) / (high - sigma),
                                     (sigma - std) / (sigma - low)),
                       lambda level: not check.spread_bounds(n, sigma, level)[0] <= std
                       <= check.spread_bounds(n, sigma, level)[1])
                record("mean", abs(mean) / check.mean_limit(n, sigma),
                       lambda level: abs(mean) > check.mean_limit(n, sigma, level))
                record("distribution", gap / draws.ks_threshold(n, check.FALSE_ALARM),
                       lambda level: gap > draws.ks_threshold(n, level))
            pooled = onp.concatenate([W1.reshape(-1), W2.reshape(-1)])
            tails = int(onp.count_nonzero(onp.abs(pooled) > check.TAIL * sigma))
            fewest = check.fewest_in_tails(pooled.size)
            record("tails", fewest / max(tails, 0.5),
                   lambda level: tails < check.fewest_in_tails(pooled.size, level))
            for name, function in [("reference", init_mlp_params)] + list(wrongs.items()):
                try:
                    with contextlib.redirect_stdout(io.StringIO()):
                        check.init_mlp_params_distribution(function, num_inputs, num_hiddens,
                                                           num_outputs, sigma=sigma, seed=seed)
                except check.core.CheckFailure as failure:
                    if name != "reference":
                        caught[name] += 1
                        continue
                    failures += 1
                    print(f"  FAILED {num_inputs}-{num_hiddens}-{num_outputs}, seed {seed}: "
                          f"{failure}")
    for test in counted:
        shares = ", ".join(f"{rejected[test, level] / counted[test]:.3f} at {level:g}"
                           for level in LEVELS)
        print(f"  {test:12s} {counted[test]} samples, share rejected: {shares}; worst margin at "
              f"{check.FALSE_ALARM:g}: {worst[test]:.3f}")
    calls = len(settings) * seeds
    print(f"  the check failed the reference {failures} times in {calls} calls")
    for name, count in caught.items():
        print(f"  power against {name}: failed {count} of {calls} calls")
    return failures


def synthetic_data_false_alarms(seeds):
    """02's synthetic_data_statistics: its two Kolmogorov-Smirnov tests calibrated on the
    reference's draws, the check run on the reference, and its power against the usual
    wrong distributions (the share of seeds at which the check fails them)."""
    from d2lcourse import np, npx
    from d2lcourse.checks import draws
    from d2lcourse.checks import linear_regression as check
    from d2lcourse.solutions.linear_regression import synthetic_data

    def wrong(draw_X, noise_std=check.NOISE_STD, draw_noise=None, reseed=False):
        def synthetic(w, b, num_examples):
            if reseed:
                npx.random.seed(42)
            X = draw_X((num_examples, len(w)))
            y = np.dot(X, w) + b
            y += (draw_noise or (lambda shape: np.random.normal(0, noise_std, shape)))(y.shape)
            return X, y.reshape((-1, 1))
        return synthetic

    half = 3 ** 0.5
    normal = lambda shape: np.random.normal(0, 1, shape)  # noqa: E731
    wrongs = {
        "X uniform of variance 1": wrong(lambda shape: np.random.uniform(-half, half, shape)),
        "noise std 0.02 (2x)": wrong(normal, noise_std=2 * check.NOISE_STD),
        "noise uniform of std 0.01": wrong(normal, draw_noise=lambda shape: np.random.uniform(
            -half * check.NOISE_STD, half * check.NOISE_STD, shape)),
        "a fixed seed inside": wrong(normal, reseed=True),
    }
    settings = [((2.0, -3.4), 4.2, 4000), ((1.5, -0.5, 0.0, 2.0, 3.3), -1.0, 3001)]
    print(f"synthetic_data: {len(settings)} settings x {seeds} seeds; each Kolmogorov-Smirnov "
          f"test fails a correct solution with probability <= {check.FALSE_ALARM:g} (DKW)")
    rejected, counted, worst = {}, {}, {}
    failures, caught = 0, dict.fromkeys(wrongs, 0)
    for w, b, n in settings:
        true_w = onp.asarray(w, dtype=onp.float32)
        for seed in range(seeds):
            mx.random.seed(seed)
            X, y = (a.asnumpy().astype(onp.float64) for a in synthetic_data(
                np.array(true_w), b, n))
            noise = y[:, 0] - (X @ true_w.astype(onp.float64) + b)
            for test, values, scale in (("KS of X", X, 1.0),
                                        ("KS of noise", noise, check.NOISE_STD)):
                distance = draws.ks_gap(values, draws.normal_cdf(scale))[0]
                counted[test] = counted.get(test, 0) + 1
                limit = draws.ks_threshold(values.size, check.FALSE_ALARM)
                worst[test] = max(worst.get(test, 0.0), distance / limit)
                for level in LEVELS:
                    rejected[test, level] = rejected.get((test, level), 0) + (
                        distance > draws.ks_threshold(values.size, level))
            for name, function in [("reference", synthetic_data)] + list(wrongs.items()):
                try:
                    with contextlib.redirect_stdout(io.StringIO()):
                        check.synthetic_data_statistics(function, w=w, b=b, num_examples=n,
                                                        seed=seed)
                except check.core.CheckFailure as failure:
                    if name == "reference":
                        failures += 1
                        print(f"  FAILED n={n}, seed {seed}: {failure}")
                    else:
                        caught[name] += 1
    print_summary(counted, rejected, worst, check.FALSE_ALARM, failures,
                  len(settings) * seeds, caught)
    return failures


def print_summary(counted, rejected, worst, false_alarm, failures, calls, caught):
    """Per test: the share of samples rejected at each of LEVELS and the worst margin at
    `false_alarm`; then the failures of the reference and the power against each wrong
    distribution, out of `calls` calls of the check."""
    for test in counted:
        shares = ", ".join(f"{rejected[test, level] / counted[test]:.3f} at {level:g}"
                           for level in LEVELS)
        print(f"  {test:12s} {counted[test]} samples, share rejected: {shares}; worst margin "
              f"at {false_alarm:g}: {worst[test]:.3f}")
    print(f"  the check failed the reference {failures} times in {calls} calls")
    for name, count in caught.items():
        print(f"  power against {name}: failed {count} of {calls} calls")


PARTS = [init_mlp_params_false_alarms, synthetic_data_false_alarms]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    seeds = parser.parse_args().seeds
    failures = sum(part(seeds) for part in PARTS)
    print(f"failures of correct solutions: {failures}")


if __name__ == "__main__":
    main()
