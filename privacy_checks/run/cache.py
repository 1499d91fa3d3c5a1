"""Training and attack results cached across sessions, so that reruns skip both.

A developer who touched only a test should not retrain. Each model's
snapshots, and each snapshot's attack results, are stored under pytest's cache
directory (``.pytest_cache/d/privacy_checks``), keyed by everything that
affects them: the profile's fingerprint and full data source (an image folder's
path included), the model, the package versions, and the source code of this
package's data, model, training and attack modules. ``--cache-clear`` (pytest's
own) and ``--privacy-no-cache`` bypass it.

Stored without pickle: arrays in ``.npz`` read with ``allow_pickle=False``,
everything else in JSON. The JSON file is written last and carries the
SHA-256 of the arrays, so a partial or corrupt entry is never trusted: it is
ignored (and rebuilt by the run that finds it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from privacy_checks.attack import (
    accounting, codelab, metrics, mia_attacks, mia_input, mia_vocabulary, records, reference_evaluation,
)
from privacy_checks.attack.records import AttackRecord, Evaluation
from privacy_checks.data import arrays, dataset, load, sources, validate
from privacy_checks.spec import dotted, vocabulary
from privacy_checks.spec.files import write_atomic
from privacy_checks.spec.profile import Profile
from privacy_checks.train import dp_sgd, fit, models, per_example, references, snapshot
from privacy_checks.train.snapshot import Snapshot, TrainingRun

FORMAT = 2  #: 2: attack results in the project's own types (attack.mia), not TF Privacy's
_SNAPSHOT_ARRAYS = ("logits_members", "logits_non_members", "labels_members", "labels_non_members")
_SNAPSHOT_SCALARS = ("train_accuracy", "test_accuracy", "train_loss", "test_loss")


#: Profile fields that change what is attacked, not what is trained: another attack,
#: another number of references (the first K are shared), another FPR or slicing
#: reuses the cached trainings.
_ATTACK_FIELDS = ("attacks", "reference_models", "fprs", "by_class")


def _digest(files: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def user_files(profile: Profile, model: str, extra: Iterable[Path] = ()) -> tuple[Path, ...]:
    """The user's code and data files that decide a model's numbers: the builder's module,
    the data function's module or the ``.npz`` file, and ``extra`` (hook implementations)."""
    builder = profile.model(model).builder
    found = [] if builder is None else [dotted.module_file(builder)]
    found += [*load.source_files(profile.dataset), *extra]
    return tuple(sorted({path.resolve() for path in found if path is not None and path.is_file()}))


def key(
    profile: Profile,
    model: str,
    versions: Mapping[str, str],
    epoch: int | None = None,
    extra_files: Iterable[Path] = (),
    reference: int | None = None,
) -> str:
    """The cache key of a model's training run (``epoch=None``), of one snapshot's attacks,
    or of the model's ``reference``-th reference model's training.

    It covers the user's builder and data function by the whole module file
    they live in (what they call from elsewhere is not seen: the model's
    ``version`` is for that) and ``extra_files`` (the hook implementations).
    """
    code = (dataset, load, sources, arrays, validate, dotted, models, per_example, dp_sgd, fit, snapshot)
    if reference is not None:
        code += (references,)
    if epoch is not None:  # the attacks' own code decides their numbers
        code += (records, codelab, reference_evaluation, accounting, metrics, vocabulary,
                 mia_attacks, mia_input, mia_vocabulary)
    spec = profile.model(model)
    fingerprint = profile.fingerprint()
    if epoch is None:  # a training does not depend on what attacks its snapshots then
        for field in _ATTACK_FIELDS:
            fingerprint.pop(field, None)
    if reference is not None:  # references follow the member split's seed, not the run's
        fingerprint["seed"] = profile.data_seed
        fingerprint.pop("split_seed", None)
    payload = {
        "format": FORMAT,
        "fingerprint": fingerprint,
        "dataset": profile.dataset,  # the fingerprint keeps only the kind of an image folder
        "model": spec.fingerprint(),
        "versions": dict(versions),
        "code": _digest(Path(module.__file__) for module in code),
        "user_code": _digest(user_files(profile, model, extra_files)),
        "epoch": epoch,
    }
    if reference is not None:
        payload["reference"] = reference
    text = json.dumps(payload, sort_keys=True)
    kind = f"reference{reference}-" if reference is not None else "train-" if epoch is None else f"attack{epoch}-"
    return kind + hashlib.sha256(
        text.encode()
    ).hexdigest()[:24]


def _write(directory: Path, name: str, arrays: Mapping[str, np.ndarray], meta: dict) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    blob = buffer.getvalue()
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{name}.npz.tmp"
    tmp.write_bytes(blob)
    tmp.replace(directory / f"{name}.npz")
    meta = {**meta, "format": FORMAT, "npz_sha256": hashlib.sha256(blob).hexdigest()}
    write_atomic(directory / f"{name}.json", json.dumps(meta, sort_keys=True))


def _read(directory: Path, name: str) -> tuple[dict[str, np.ndarray], dict] | None:
    """Arrays and metadata of an entry, or None if it is missing, partial or corrupt."""
    try:
        meta = json.loads((directory / f"{name}.json").read_text())
        blob = (directory / f"{name}.npz").read_bytes()
        if meta.get("format") != FORMAT or meta.get("npz_sha256") != hashlib.sha256(blob).hexdigest():
            return None
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            return {name: data[name] for name in data.files}, meta
    except (OSError, ValueError, KeyError):
        return None


def exists(directory: Path, name: str) -> bool:
    """Whether the cache holds an entry named ``name`` (not whether it is intact: loading checks that)."""
    return (directory / f"{name}.json").is_file() and (directory / f"{name}.npz").is_file()


def save_training(directory: Path, name: str, run: TrainingRun, data_source: str) -> None:
    arrays = {
        f"{i}.{field}": getattr(snapshot, field)
        for i, snapshot in enumerate(run.snapshots)
        for field in _SNAPSHOT_ARRAYS
    }
    meta = {
        "model": run.model,
        "seconds": run.seconds,
        "history": list(run.history),
        "data_source": data_source,
        "snapshots": [
            {"epoch": s.epoch, **{field: getattr(s, field) for field in _SNAPSHOT_SCALARS}}
            for s in run.snapshots
        ],
    }
    _write(directory, name, arrays, meta)


def load_training(directory: Path, name: str) -> tuple[TrainingRun, str] | None:
    """A cached training run and the data source it was trained on, or None."""
    entry = _read(directory, name)
    if entry is None:
        return None
    arrays, meta = entry
    try:
        snapshots = tuple(
            Snapshot(
                model=meta["model"],
                epoch=int(info["epoch"]),
                **{field: arrays[f"{i}.{field}"] for field in _SNAPSHOT_ARRAYS},
                **{field: float(info[field]) for field in _SNAPSHOT_SCALARS},
            )
            for i, info in enumerate(meta["snapshots"])
        )
        run = TrainingRun(meta["model"], snapshots, float(meta["seconds"]), tuple(meta["history"]))
        return run, str(meta["data_source"])
    except (KeyError, TypeError, ValueError):
        return None


def save_evaluation(directory: Path, name: str, evaluation: Evaluation) -> None:
    arrays: dict[str, np.ndarray] = {}
    results = []
    for i, result in enumerate(evaluation.results.single_attack_results):
        roc = result.roc_curve
        arrays[f"{i}.tpr"], arrays[f"{i}.fpr"] = roc.tpr, roc.fpr
        arrays[f"{i}.thresholds"] = roc.thresholds
        for part in ("train", "test"):
            scores = getattr(result, f"membership_scores_{part}")
            if scores is not None:
                arrays[f"{i}.scores_{part}"] = scores
        results.append(
            {
                "slice_feature": None if result.slice_spec.feature is None else result.slice_spec.feature.name,
                "slice_value": _jsonable(result.slice_spec.value),
                "ntrain": int(result.data_size.ntrain),
                "ntest": int(result.data_size.ntest),
                "attack_type": result.attack_type.name,
                "test_train_ratio": float(roc.test_train_ratio),
            }
        )
    meta = {
        "records": [dataclasses.asdict(record) for record in evaluation.records],
        "results": results,
        "metadata": dataclasses.asdict(evaluation.results.privacy_report_metadata),
    }
    _write(directory, name, arrays, meta)


def _jsonable(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def load_evaluation(directory: Path, name: str, snapshot: Snapshot) -> Evaluation | None:
    """Cached attack results of ``snapshot``, rebuilt as the attacks' own types, or None."""
    entry = _read(directory, name)
    if entry is None:
        return None
    arrays, meta = entry
    from privacy_checks.attack import mia

    try:
        single = []
        for i, info in enumerate(meta["results"]):
            feature = info["slice_feature"]
            single.append(
                mia.SingleAttackResult(
                    slice_spec=mia.SingleSliceSpec(
                        None if feature is None else mia.SlicingFeature[feature], info["slice_value"]
                    ),
                    data_size=mia.DataSize(ntrain=info["ntrain"], ntest=info["ntest"]),
                    attack_type=mia.AttackType[info["attack_type"]],
                    roc_curve=mia.RocCurve(
                        thresholds=arrays[f"{i}.thresholds"],
                        tpr=arrays[f"{i}.tpr"],
                        fpr=arrays[f"{i}.fpr"],
                        test_train_ratio=float(info["test_train_ratio"]),
                    ),
                    membership_scores_train=arrays.get(f"{i}.scores_train"),
                    membership_scores_test=arrays.get(f"{i}.scores_test"),
                )
            )
        results = mia.AttackResults(
            single_attack_results=tuple(single),
            privacy_report_metadata=mia.PrivacyReportMetadata(**meta["metadata"]),
        )
        records = tuple(AttackRecord(**record) for record in meta["records"])
        return Evaluation(snapshot, records, results)
    except (KeyError, TypeError, ValueError):
        return None
