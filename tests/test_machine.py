"""The machine a baseline was measured on: how it is read, stored, and noted when it differs."""

from __future__ import annotations

import json
import os
import shutil
import stat
import time

import pytest

from privacy_checks.judge import baselines
from privacy_checks.judge.baselines import Baseline, Entry
from privacy_checks.judge.book import BaselineBook
from privacy_checks.report import summary
from privacy_checks.run.settings import Settings
from privacy_checks.spec import environment
from privacy_checks.spec.cases import Case
from privacy_checks.spec.files import display_path
from privacy_checks.spec.registry import SMOKE
from lanes import baselines_of

HERE = {"cpu": "AMD EPYC 7B13", "cpu_flags": "avx avx2 fma", "cores": 2, "gpu": None}
THERE = {"cpu": "Intel Xeon Platinum 8481C", "cpu_flags": "amx_bf16 avx avx2 avx512f fma", "cores": 4, "gpu": "NVIDIA L4"}
VERSIONS = {"numpy": "1.26.4"}


def test_machine_is_plain_json_with_only_the_numeric_flags():
    found = environment.machine()
    assert set(found) == {"cpu", "cpu_flags", "cores", "gpu"}
    assert json.loads(json.dumps(found)) == found
    assert isinstance(found["cpu"], str) and found["cpu"]
    flags = found["cpu_flags"].split()
    assert flags == sorted(flags) and set(flags) <= environment.NUMERIC_CPU_FLAGS
    assert found["cores"] == os.cpu_count()
    assert found["gpu"] is None or isinstance(found["gpu"], str)


def test_cpuinfo_gives_the_model_and_flags_of_the_first_cpu(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: AMD EPYC  7B13 64-Core Processor\n"
        "flags\t\t: fpu sse4_2 avx avx2 fma pni avx512f\n\n"
        "processor\t: 1\nmodel name\t: Other\nflags\t\t: fpu\n"
    )
    model, flags = environment._cpuinfo(str(cpuinfo))
    assert model == "AMD EPYC 7B13 64-Core Processor"
    assert " ".join(sorted(flags & environment.NUMERIC_CPU_FLAGS)) == "avx avx2 avx512f fma sse4_2"
    assert environment._cpuinfo(str(tmp_path / "absent")) == (None, set())


def fake_nvidia_smi(tmp_path, monkeypatch, script: str) -> None:
    command = tmp_path / "nvidia-smi"
    command.write_text("#!/bin/sh\n" + script + "\n")
    command.chmod(command.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path))


@pytest.mark.parametrize(
    "script, gpu",
    [
        ('echo "NVIDIA L4"', "NVIDIA L4"),
        ('printf "NVIDIA H100 80GB HBM3\\nNVIDIA H100 80GB HBM3\\n"', "2 x NVIDIA H100 80GB HBM3"),
        ("echo 'NVIDIA-SMI has failed' >&2; exit 9", None),
        ("exit 0", None),
        (f"exec {shutil.which('sleep')} 5", None),  # a hung driver: given up after the timeout
    ],
)
def test_gpu_from_nvidia_smi_never_an_error(tmp_path, monkeypatch, script, gpu):
    monkeypatch.setattr(environment, "GPU_QUERY_TIMEOUT", 0.5)
    fake_nvidia_smi(tmp_path, monkeypatch, script)
    started = time.monotonic()
    assert environment._gpu() == gpu
    assert time.monotonic() - started < 3


def test_no_nvidia_smi_is_no_gpu(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert environment._gpu() is None


def book_with(tmp_path, recorded: dict | None, update: bool = False) -> BaselineBook:
    book = BaselineBook(
        Settings(SMOKE, tmp_path / "baselines", tmp_path, update_baselines=update), VERSIONS, machine=HERE
    )
    entry = Entry(1, "threshold", "entire_dataset", {"auc": 0.6, "attacker_advantage": 0.2})
    baselines.write(
        book.path("2_layers"),
        Baseline(SMOKE.name, SMOKE.hash, "2_layers", SMOKE.seed, "sklearn digits", VERSIONS,
                 {entry.key: entry}, SMOKE.fingerprint(), machine=recorded),
    )
    assert book.baseline("2_layers").machine == recorded
    return book


def test_another_machine_is_a_note_naming_both(tmp_path):
    book = book_with(tmp_path, THERE)
    assert book.machine_notes() == [
        f"{display_path(book.path('2_layers'))} was recorded on Intel Xeon Platinum 8481C "
        "(4 cores, amx_bf16 avx avx2 avx512f fma, GPU NVIDIA L4) and this is AMD EPYC 7B13 "
        "(2 cores, avx avx2 fma, no GPU): numbers may differ slightly, usually within the "
        "tolerances; re-record here with --privacy-update-baselines if this machine type is "
        "now the reference"
    ]


@pytest.mark.parametrize("change", [{"cores": 8}, {"cpu_flags": "avx avx2"}, {"gpu": "NVIDIA L4"}])
def test_any_difference_is_noted(tmp_path, change):
    assert len(book_with(tmp_path, {**HERE, **change}).machine_notes()) == 1


@pytest.mark.parametrize("recorded", [HERE, None], ids=["same machine", "not recorded"])
def test_same_or_unknown_machine_gives_no_note(tmp_path, recorded):
    assert book_with(tmp_path, recorded).machine_notes() == []


def test_an_update_records_this_machine_and_drops_the_note(tmp_path):
    book = book_with(tmp_path, THERE, update=True)
    book.queue(Case("2_layers", 1, "threshold", "entire_dataset"), {"auc": 0.6, "attacker_advantage": 0.2}, {})
    [change] = book.finish("sklearn digits")
    assert change.written
    assert baselines.load(book.path("2_layers")).machine == HERE
    assert book.machine_notes() == []


def test_machine_does_not_change_the_setup_judgement(tmp_path):
    book = book_with(tmp_path, THERE)
    assert book.expected(Case("2_layers", 1, "threshold", "entire_dataset"), "sklearn digits") == {
        "auc": 0.6,
        "attacker_advantage": 0.2,
    }
    assert book.setup_changes == {}


class _Run:
    """Just what summary.lines reads, for a run that checked nothing."""

    def __init__(self, book: BaselineBook) -> None:
        self.book, self.profile, self.settings = book, book.profile, book.settings
        self.comparisons, self.guarantees, self.changes, self.cache_hits = {}, {}, [], {}
        self.cache_error = self.report_error = None
        self.report_files, self.setup_changes = [], {}
        self.unmeasured, self.skipped = {}, set()

    def unused_entries(self):
        return [], []

    def orphan_baseline_files(self):
        return []

    def evaluations(self):
        return []

    def version_warnings(self):
        return self.book.version_warnings()


def test_the_summary_shows_the_note_in_yellow_after_the_version_warnings(tmp_path):
    book = book_with(tmp_path, THERE)
    book.versions = {"numpy": "2.0.0"}
    found = [(line.text, dict(line.markup)) for line in summary.lines(_Run(book))]
    version = next(i for i, (text, _) in enumerate(found) if "was recorded with numpy" in text)
    text, markup = found[version + 1]
    assert "was recorded on Intel Xeon Platinum 8481C" in text and markup == {"yellow": True}


def test_pytest_run_against_another_machine_passes_with_the_note(project):
    from privacy_pytester import run

    entry = Entry(1, "threshold", "entire_dataset",
                  {"auc": 0.99, "attacker_advantage": 0.99, "tpr_at_fpr_0.001": 0.99, "tpr_at_fpr_0.01": 0.99})
    baselines.write(
        project.path / baselines_of("smoke") / "2_layers.json",
        Baseline("smoke", SMOKE.hash, "2_layers", SMOKE.seed, "sklearn digits", environment.versions(),
                 {entry.key: entry}, SMOKE.fingerprint(), machine=THERE),
    )
    result = run(project, "-k", "2_layers and epoch1 and threshold")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"{baselines_of('smoke')}/2_layers.json was recorded on Intel Xeon Platinum 8481C (4 cores, amx_bf16 avx avx2 "
         "avx512f fma, GPU NVIDIA L4) and this is * cores, *): numbers may differ slightly, usually within the "
         "tolerances; re-record here with --privacy-update-baselines if this machine type is now the reference"]
    )
