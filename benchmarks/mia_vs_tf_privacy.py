"""Times our ``mia.run_attacks`` against TF Privacy's on the digits profile's shape.

The codelab's two attacks (threshold, logistic regression), on the entire
dataset and by class, on seeded outputs of 200 members and 1,597 non-members
in 10 classes, with one BLAS thread as the plugin runs attacks. The two
alternate (ABBA...) so that a machine getting busier favours neither, and
both see the same global seed per round, so they compute the same numbers
(checked). Prints each round and the medians; nothing is asserted.

    PYTHONPATH=. python benchmarks/mia_vs_tf_privacy.py [--rounds 7]

TF Privacy's side needs the codelab lane; on another lane only ours is timed.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
from scipy import special
from threadpoolctl import threadpool_limits

from privacy_checks.attack import mia


def inputs(members: int = 200, non_members: int = 1597, classes: int = 10, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    labels_in, labels_out = rng.integers(0, classes, members), rng.integers(0, classes, non_members)
    logits_in = rng.normal(size=(members, classes)) + 2.0 * np.eye(classes)[labels_in]
    logits_out = 1.3 * rng.normal(size=(non_members, classes)) + np.eye(classes)[labels_out]
    return {
        "probs_train": special.softmax(logits_in, axis=1),
        "probs_test": special.softmax(logits_out, axis=1),
        "labels_train": labels_in,
        "labels_test": labels_out,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    warnings.filterwarnings("ignore")
    data = inputs()
    attacks = ("THRESHOLD_ATTACK", "LOGISTIC_REGRESSION")

    def ours():
        return mia.run_attacks(
            mia.AttackInputData(**data), mia.SlicingSpec(True, True), [mia.AttackType[a] for a in attacks]
        )

    runners = {"ours": ours}
    try:
        from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (
            data_structures as tds,
            membership_inference_attack as tmia,
        )

        def theirs():
            return tmia.run_attacks(
                tds.AttackInputData(**data), tds.SlicingSpec(True, True), [tds.AttackType[a] for a in attacks]
            )

        runners["tf_privacy"] = theirs
    except ImportError:
        print("TF Privacy is not importable here: timing ours only")
    times: dict[str, list[float]] = {name: [] for name in runners}
    with threadpool_limits(limits=1):
        for round_ in range(rounds):
            order = list(runners) if round_ % 2 == 0 else list(reversed(runners))
            aucs = {}
            for name in order:
                np.random.seed(round_)
                start = time.perf_counter()
                results = runners[name]()
                times[name].append(time.perf_counter() - start)
                aucs[name] = [r.get_auc() for r in results.single_attack_results]
            if len(aucs) == 2 and aucs["ours"] != aucs["tf_privacy"]:
                raise SystemExit(f"round {round_}: the two gave different AUCs")
            print(f"round {round_}: " + ", ".join(f"{name} {times[name][-1]:.3f} s" for name in runners))
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.3f} s, min {min(values):.3f} s over {rounds} rounds")


if __name__ == "__main__":
    main()
