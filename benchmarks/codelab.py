"""TF Privacy's privacy report codelab, as the codelab writes it, on a profile's data.

The side of ``benchmarks/codelab_vs_suite.py`` that the suite is measured
against. Its model, callback, training call and plots follow the codelab
(``privacy_report.ipynb``): one-hot labels and ``CategoricalCrossentropy``,
``validation_data`` on every epoch, a ``PrivacyMetrics`` callback that
predicts members and non-members at the training batch size, takes the
softmax and runs both trained and threshold attacks on the entire dataset and
by class, and the two privacy-report plots at the end. What it takes from the
profile: the members and non-members (``privacy_checks.data.load.load``), the
epochs and report epochs, batch size, learning rate, the models' conv counts,
and the padding (the codelab's ``valid`` padding leaves no feature map on
8x8 digits after three conv/pool stages).

    python benchmarks/codelab.py --profile digits [--dataset imagefolder:DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path



def small_cnn(input_shape, num_classes, num_conv, activation="relu", padding="valid", learning_rate=1e-3):
    """The codelab's network, compiled the codelab's way."""
    import tensorflow as tf

    model = tf.keras.models.Sequential()
    model.add(tf.keras.layers.Input(shape=input_shape))
    for _ in range(num_conv):
        model.add(tf.keras.layers.Conv2D(32, (3, 3), activation=activation, padding=padding))
        model.add(tf.keras.layers.MaxPooling2D())
    model.add(tf.keras.layers.Flatten())
    model.add(tf.keras.layers.Dense(64, activation=activation))
    model.add(tf.keras.layers.Dense(num_classes))
    model.compile(
        loss=tf.keras.losses.CategoricalCrossentropy(from_logits=True),
        optimizer=tf.keras.optimizers.Adam(learning_rate=learning_rate),
        metrics=["accuracy"],
    )
    return model


def run_attacks(model, x_train, x_test, labels_train, labels_test, batch_size, metadata):
    """What the codelab's ``PrivacyMetrics.on_epoch_end`` does at a report epoch."""
    from scipy import special

    logits_train = model.predict(x_train, batch_size=batch_size)
    logits_test = model.predict(x_test, batch_size=batch_size)
    prob_train = special.softmax(logits_train, axis=1)
    prob_test = special.softmax(logits_test, axis=1)
    return attack(prob_train, prob_test, labels_train, labels_test, metadata)


def attack(prob_train, prob_test, labels_train, labels_test, metadata):
    """The codelab's ``mia.run_attacks`` call: both attacks, entire dataset and by class."""
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (
        membership_inference_attack as mia,
    )
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (
        AttackInputData,
        AttackType,
        SlicingSpec,
    )

    return mia.run_attacks(
        AttackInputData(
            labels_train=labels_train,
            labels_test=labels_test,
            probs_train=prob_train,
            probs_test=prob_test,
        ),
        SlicingSpec(entire_dataset=True, by_class=True),
        attack_types=(AttackType.THRESHOLD_ATTACK, AttackType.LOGISTIC_REGRESSION),
        privacy_report_metadata=metadata,
    )


def main(profile_name: str, dataset: str | None, out: Path) -> float:
    """Trains the profile's non-private models the codelab's way; returns the seconds it took."""
    import dataclasses

    import tensorflow as tf
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import privacy_report
    from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (
        AttackResultsCollection,
        PrivacyMetric,
        PrivacyReportMetadata,
    )

    from privacy_checks.data import load
    from privacy_checks.spec.registry import get_profile

    start = time.perf_counter()
    profile = get_profile(profile_name)
    if dataset:
        profile = dataclasses.replace(profile, dataset=dataset)
    data = load.load(profile)
    x_train, x_test = data.x_members, data.x_non_members
    y_train_indices, y_test_indices = data.y_members[:, None], data.y_non_members[:, None]
    y_train = tf.keras.utils.to_categorical(y_train_indices, profile.num_classes)
    y_test = tf.keras.utils.to_categorical(y_test_indices, profile.num_classes)
    report_epochs = set(profile.report_epochs)

    class PrivacyMetrics(tf.keras.callbacks.Callback):
        def __init__(self, model_name):
            super().__init__()
            self.model_name = model_name
            self.attack_results = []

        def on_epoch_end(self, epoch, logs=None):
            epoch = epoch + 1
            if epoch not in report_epochs:
                return
            print(f"\nRunning privacy report for epoch: {epoch}\n")
            metadata = PrivacyReportMetadata(
                accuracy_train=logs["val_accuracy"],
                accuracy_test=logs["val_accuracy"],
                epoch_num=epoch,
                model_variant_label=self.model_name,
            )
            self.attack_results.append(
                run_attacks(
                    self.model, x_train, x_test, y_train_indices[:, 0], y_test_indices[:, 0],
                    profile.batch_size, metadata,
                )
            )

    all_reports = []
    for spec in profile.models:
        if spec.dp is not None:
            continue  # the codelab has no DP-SGD model
        model = small_cnn(
            profile.input_shape, profile.num_classes, spec.num_conv,
            padding=profile.padding, learning_rate=profile.learning_rate,
        )
        callback = PrivacyMetrics(spec.label)
        model.fit(
            x_train,
            y_train,
            batch_size=profile.batch_size,
            epochs=profile.epochs,
            validation_data=(x_test, y_test),
            callbacks=[callback],
            shuffle=True,
            verbose=0,
        )
        all_reports.extend(callback.attack_results)

    results = AttackResultsCollection(all_reports)
    privacy_metrics = (PrivacyMetric.AUC, PrivacyMetric.ATTACKER_ADVANTAGE)
    out.mkdir(parents=True, exist_ok=True)
    privacy_report.plot_by_epochs(results, privacy_metrics=privacy_metrics).savefig(out / "epochs.png")
    privacy_report.plot_privacy_vs_accuracy(results, privacy_metrics=privacy_metrics).savefig(
        out / "privacy_vs_accuracy.png"
    )
    return time.perf_counter() - start


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="digits")
    parser.add_argument("--dataset", help="a data source replacing the profile's, e.g. imagefolder:DIR")
    parser.add_argument("--out", type=Path, default=Path("codelab-report"))
    args = parser.parse_args()
    print(f"codelab: {main(args.profile, args.dataset, args.out):.1f} s")
