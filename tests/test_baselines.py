"""Baseline files: format, validation, atomic writes and the one-sided comparison."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest
from hypothesis import given, settings, strategies as st

from privacy_checks.judge import baselines
from privacy_checks.judge.baselines import Baseline, BaselineError, Entry


def make_baseline(**entries: tuple[float, float]) -> Baseline:
    parsed = {}
    for key, (auc, adv) in entries.items():
        epoch, attack, slice_name = key.split("__")
        entry = Entry(int(epoch), attack, slice_name, {"auc": auc, "attacker_advantage": adv})
        parsed[entry.key] = entry
    return Baseline(
        profile="digits",
        profile_hash="abc",
        model="2_layers",
        seed=1,
        data_source="sklearn digits",
        versions={"numpy": "1.26.4", "python": "3.11.7"},
        entries=parsed,
    )


SAMPLE = make_baseline(
    **{
        "100__threshold__entire_dataset": (0.6, 0.2),
        "25__logistic_regression__class_10": (0.55, 0.1),
        "25__threshold__class_2": (0.5, 0.05),
        "25__threshold__entire_dataset": (0.5123456789, 0.1),
        "25__logistic_regression__entire_dataset": (0.7, 0.3),
    }
)


def test_round_trip_keeps_every_entry_at_fixed_precision(tmp_path):
    path = tmp_path / "b.json"
    baselines.write(path, SAMPLE)
    loaded = baselines.load(path)
    assert loaded.entries.keys() == SAMPLE.entries.keys()
    assert loaded.entries["epoch25/threshold/entire_dataset"].metrics["auc"] == 0.512346
    assert (loaded.profile, loaded.profile_hash, loaded.model, loaded.seed) == (
        "digits",
        "abc",
        "2_layers",
        1,
    )
    assert dict(loaded.versions) == dict(SAMPLE.versions)


def test_file_is_diffable_one_entry_per_line_in_numeric_order():
    text = baselines.dumps(SAMPLE)
    json.loads(text)  # valid JSON
    entry_lines = [line.strip() for line in text.splitlines() if line.strip().startswith('{"epoch"')]
    order = [(json.loads(line.rstrip(","))["epoch"], json.loads(line.rstrip(","))["attack"],
              json.loads(line.rstrip(","))["slice"]) for line in entry_lines]
    assert order == [
        (25, "threshold", "entire_dataset"),
        (25, "threshold", "class_2"),
        (25, "logistic_regression", "entire_dataset"),
        (25, "logistic_regression", "class_10"),
        (100, "threshold", "entire_dataset"),
    ]
    assert '"auc": 0.512346, "attacker_advantage": 0.100000' in text
    assert baselines.dumps(baselines.parse(text, "x")) == text  # stable: rewrite is a no-op


HERE = {"cpu": "AMD EPYC 7B13", "cpu_flags": "avx avx2 fma", "cores": 2, "gpu": None}


def test_machine_round_trips_on_one_sorted_header_line(tmp_path):
    path = tmp_path / "b.json"
    baselines.write(path, dataclasses.replace(SAMPLE, machine=HERE))
    assert baselines.load(path).machine == HERE
    lines = path.read_text().splitlines()
    versions = next(i for i, line in enumerate(lines) if line.startswith('  "versions"'))
    assert lines[versions + 1] == (
        '  "machine": {"cores": 2, "cpu": "AMD EPYC 7B13", "cpu_flags": "avx avx2 fma", "gpu": null},'
    )


def test_a_file_without_a_machine_loads_and_is_rewritten_as_it_was():
    text = baselines.dumps(SAMPLE)
    assert '"machine"' not in text
    loaded = baselines.parse(text, "b.json")
    assert loaded.machine is None
    assert baselines.dumps(loaded) == text


@pytest.mark.parametrize(
    "machine, problem",
    [
        ('"AMD EPYC"', '"machine" must be an object'),
        ('{"cpu": "x", "cpu_flags": "", "cores": 2}', "\"machine\" lacks ['gpu']"),
        ('{"cpu": "x", "cpu_flags": "", "cores": 2, "gpu": null, "os": "linux"}', "unknown fields ['os']"),
        ('{"cpu": 7, "cpu_flags": "", "cores": 2, "gpu": null}', "machine.cpu is 7, not str"),
        ('{"cpu": "x", "cpu_flags": "", "cores": "2", "gpu": null}', "machine.cores is '2', not int or null"),
        ('{"cpu": "x", "cpu_flags": "", "cores": true, "gpu": null}', "machine.cores is True"),
        ('{"cpu": "x", "cpu_flags": "", "cores": 0, "gpu": null}', "not a positive number of cores"),
        ('{"cpu": "x", "cpu_flags": "", "cores": 2, "gpu": 1}', "machine.gpu is 1, not str or null"),
    ],
)
def test_malformed_machine_names_the_file_and_the_field(tmp_path, machine, problem):
    text = baselines.dumps(dataclasses.replace(SAMPLE, machine=HERE))
    line = next(l for l in text.splitlines() if l.startswith('  "machine"'))
    path = tmp_path / "digits" / "2_layers.json"
    path.parent.mkdir()
    path.write_text(text.replace(line, f'  "machine": {machine},'))
    with pytest.raises(BaselineError) as info:
        baselines.load(path)
    message = str(info.value)
    assert problem in message
    assert "2_layers.json" in message and "--privacy-update-baselines" in message


def test_missing_file_is_none_not_an_error(tmp_path):
    assert baselines.load(tmp_path / "nope.json") is None


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "top level must be a JSON object"),
        (b'{"schema": 99}', "schema is 99"),
        (b'{"schema": 2, "profile": "digits"}', '"profile_hash" is missing'),
    ],
)
def test_corrupt_file_names_the_file_and_what_to_do(tmp_path, content, problem):
    path = tmp_path / "digits" / "2_layers.json"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(BaselineError) as info:
        baselines.load(path)
    message = str(info.value)
    assert problem in message
    assert "2_layers.json" in message
    assert "--privacy-update-baselines" in message


@pytest.mark.parametrize(
    "value, problem",
    [('"0.5"', "not a number"), ("NaN", "not a finite number"), ("true", "not a number")],
)
def test_metric_must_be_a_finite_number(value, problem):
    text = baselines.dumps(SAMPLE).replace('"auc": 0.600000', f'"auc": {value}')
    with pytest.raises(BaselineError, match=problem):
        baselines.parse(text, "b.json")


def test_repeated_entry_is_rejected():
    text = baselines.dumps(SAMPLE)
    line = next(l for l in text.splitlines() if '"epoch": 100' in l)
    text = text.replace(line, line + ",\n" + line.rstrip(","))
    with pytest.raises(BaselineError, match="repeats epoch100/threshold/entire_dataset"):
        baselines.parse(text, "b.json")


def test_interrupted_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "b.json"
    baselines.write(path, SAMPLE)
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise KeyboardInterrupt("interrupted mid-write")

    monkeypatch.setattr(os, "fsync", explode)
    changed = make_baseline(**{"1__threshold__entire_dataset": (0.9, 0.9)})
    with pytest.raises(KeyboardInterrupt):
        baselines.write(path, changed)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]  # no temp file left behind




@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode),
                 st.sampled_from([baselines.dumps(SAMPLE)]).flatmap(
                     lambda text: st.integers(0, len(text)).map(lambda n: text[:n].encode()))))
def test_any_bytes_load_or_fail_with_a_baseline_error(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("fuzz") / "b.json"
    path.write_bytes(content)
    try:
        loaded = baselines.load(path)
    except BaselineError as error:
        assert "b.json" in str(error)
    else:
        assert isinstance(loaded, Baseline)
