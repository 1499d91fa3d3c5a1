"""report/measured.py: the most vulnerable slice is the one whose AUC is surely highest, not the luckiest."""

from __future__ import annotations

import numpy as np

from privacy_checks.attack.records import AttackRecord, Evaluation
from privacy_checks.report.measured import MOST_VULNERABLE_RULE, auc_lower, most_vulnerable
from privacy_checks.report.summary import most_vulnerable_line
from privacy_checks.train.snapshot import Snapshot


def record(slice_: str, auc: float, low: float, high: float, epoch: int = 10, attack: str = "rmia") -> AttackRecord:
    return AttackRecord(
        model="2_layers", epoch=epoch, attack=attack, slice=slice_, auc=auc, attacker_advantage=0.3, ppv=0.5,
        members=20, non_members=160, intervals={"auc": (low, high)},
    )


def evaluation(*records: AttackRecord) -> Evaluation:
    snapshot = Snapshot("2_layers", records[0].epoch, np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(2), np.zeros(2), 0, 0, 0, 0)
    return Evaluation(snapshot, records, None, {(r.attack, r.slice): f"curve of {r.slice}" for r in records})


def test_the_lower_end_of_the_interval_chooses_not_the_point_estimate():
    """A 20-member class slice with the largest AUC but a wide interval loses to the entire
    dataset, whose AUC is lower but certain: the winner's curse of the largest of many noisy estimates."""
    noisy = record("class_3", auc=0.82, low=0.66, high=0.95)
    certain = record("entire_dataset", auc=0.74, low=0.70, high=0.78)
    best = most_vulnerable([evaluation(noisy, certain)])
    chosen, curve = best["2_layers"]
    assert chosen is certain and curve == "curve of entire_dataset"
    assert "lower end of its 95 % interval" in MOST_VULNERABLE_RULE


def test_equal_lower_ends_fall_to_the_higher_auc_then_to_the_first_seen():
    first, higher, same = (record("class_1", 0.70, 0.6, 0.8), record("class_2", 0.75, 0.6, 0.9),
                           record("class_4", 0.75, 0.6, 0.9))
    assert most_vulnerable([evaluation(first, higher, same)])["2_layers"][0] is higher
    # Across evaluations (epochs) too.
    later = record("class_3", 0.9, 0.61, 0.99, epoch=20)
    assert most_vulnerable([evaluation(first, higher), evaluation(later)])["2_layers"][0] is later


def test_a_record_without_an_interval_ranks_by_its_auc():
    bare = AttackRecord("m", 1, "threshold", "entire_dataset", 0.6, 0.1, 0.5, 10, 10)
    assert auc_lower(bare) == 0.6


def test_the_summary_line_prints_the_interval_that_chose_the_slice():
    line = most_vulnerable_line("2_layers", record("class_3", auc=0.82, low=0.66, high=0.95, epoch=150))
    assert line == (
        "most vulnerable slice of 2_layers (highest lower end of the AUC's 95 % CI): epoch 150, rmia, "
        "class_3: AUC 0.820 (95 % CI 0.660-0.950), attacker advantage 0.300"
    )


class FakeRun:
    """What :func:`measured_of` reads of a :class:`PrivacyRun`, with a data set of one's choosing."""

    def __init__(self, data_source: str, dataset=None, fails: bool = False):
        from pathlib import Path

        from privacy_checks.run.settings import Settings
        from privacy_checks.spec.registry import SMOKE

        self.profile, self.data_source, self._dataset, self._fails = SMOKE, data_source, dataset, fails
        self.settings = Settings(SMOKE, Path("baselines"), Path("report"))
        self.versions, self.comparisons, self.guarantees, self.unmeasured, self.skipped = {}, {}, {}, {}, set()
        self.setup_changes = {"2_layers": ["members 200 -> 100"]}
        self.loaded_dataset = False

    def dataset(self):
        from privacy_checks.run.settings import CheckFailed

        self.loaded_dataset = True
        if self._fails:
            raise CheckFailed("data set not available: no network")
        return self._dataset

    def evaluations(self):
        return []

    def histories(self):
        return {}

    def loaded_baselines(self):
        return {}

    def baseline_path(self, model):
        from pathlib import Path

        return Path("baselines", "smoke", f"{model}.json")


def test_the_report_shows_images_of_public_data_and_indices_of_a_teams_own():
    from types import SimpleNamespace

    from privacy_checks.report.measured import measured_of

    digits = SimpleNamespace(source="sklearn digits", x_members=np.zeros((3, 8, 8, 1)), class_names=("0", "1"))
    public = measured_of(FakeRun("sklearn digits", digits))
    assert public.examples == "images" and public.members.x is digits.x_members
    assert public.members.class_names == ("0", "1")
    assert public.setup_changes == {"2_layers": ["members 200 -> 100"]}
    assert public.baseline_paths["3_layers"] == "baselines/smoke/3_layers.json"

    own = FakeRun("npz:/data/members.npz")
    assert (measured_of(own).examples, measured_of(own).members, own.loaded_dataset) == ("indices", None, False)
    hooked = SimpleNamespace(source="pytest_privacy_load_data", x_members=np.zeros((3, 8, 8, 1)), class_names=())
    # A hook's data under a public profile's name (the cache had only the profile's spelling): private.
    assert measured_of(FakeRun("digits", hooked)).examples == "indices"
    asked = measured_of(FakeRun("npz:/data/members.npz", hooked), "images")
    assert asked.examples == "images" and asked.members is not None
    assert measured_of(FakeRun("sklearn digits", digits), "none").examples == "none"
    unavailable = measured_of(FakeRun("digits", fails=True))
    assert unavailable.examples == "images" and unavailable.members is None  # the page draws indices then
