"""A DP model's optimizer step audited against the claim, for its ``dp_conformance`` guarantee check.

Why in the run stage: the audit needs the model compiled exactly as its
training compiles it (the project's hook that builds models, the profile's
DP spec, the noise seed the training derives) and the run's members, both of
which the runner owns. It builds the model once more, as preflight does, and
runs on it :func:`privacy_checks.attack.white_box.conformance` (about 4 s on
digits' DP model, 2 cores) and :func:`~privacy_checks.attack.white_box.canary_audit`
through all the training's steps (about 10-17 s): no training, once per DP
model. On the current lane the noise it draws at step t is the noise the
run's training draws at step t.
"""

from __future__ import annotations

import dataclasses

from privacy_checks.attack import white_box
from privacy_checks.run.runner import Runner
from privacy_checks.spec.vocabulary import derive_seed
from privacy_checks.train import fit, quiet


@dataclasses.dataclass(frozen=True)
class StepAudit:
    """Both white-box audits of one DP model's step, each at half of the check's error."""

    conformance: white_box.Conformance
    canaries: white_box.CanaryAudit


def audit(runner: Runner, model: str, alpha: float) -> StepAudit:
    """``model``'s DP step against its profile's ``dp`` claim, at family-wise error ``alpha``:
    the conformance tests spend half of it, the canary bound (over all the training's steps: the
    last report epoch is always the profile's last epoch) the other half, so that the check errs
    with at most ``alpha``."""
    import tensorflow as tf

    profile = runner.profile
    spec = profile.model(model)
    if spec.dp is None:
        raise ValueError(f"{model} is not trained with DP-SGD, so it has no DP step to audit.")
    dataset = runner.dataset()
    fit.configure_threads(profile)
    with quiet.keras_seeding():
        tf.keras.utils.set_random_seed(derive_seed(profile.seed, "train", spec.name))
        built = fit.prepare(profile, spec, dataset, runner.hooks.make_model)
        try:
            conformance = white_box.conformance(
                built, spec.dp, dataset.x_members, dataset.y_members, batch_size=profile.batch_size,
                epochs=profile.epochs, num_classes=profile.num_classes, alpha=alpha / 2, seed=profile.seed,
            )
            canaries = white_box.canary_audit(
                built, spec.dp, dataset.x_members, dataset.y_members, batch_size=profile.batch_size,
                epochs=profile.epochs, alpha=alpha / 2, seed=profile.seed,
            )
            return StepAudit(conformance, canaries)
        finally:
            del built
            tf.keras.backend.clear_session()
