"""Members and non-members from scikit-learn's breast cancer data set (569 rows, 30 features).

The profile's ``dataset = "function:tabular_gate.data:breast_cancer"`` calls
:func:`breast_cancer` with no arguments. The member/non-member split is seeded,
so every run (and every machine) trains on the same rows; features are
standardised with the members' mean and standard deviation only, as a model
trained on the members alone would be: nothing of the non-members leaks into
the preprocessing.
"""

from __future__ import annotations

import numpy as np

#: Rows the model is trained on; the other rows are the non-members. Small on
#: purpose: an MLP memorises 150 rows quickly, so leakage visibly grows with epochs.
MEMBERS = 150
SPLIT_SEED = 0


def breast_cancer() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer()
    x = data.data.astype(np.float64)
    y = data.target.astype(np.int64)
    x_members, x_non_members, y_members, y_non_members = train_test_split(
        x, y, train_size=MEMBERS, stratify=y, random_state=SPLIT_SEED
    )
    mean = x_members.mean(axis=0)
    std = x_members.std(axis=0)
    std[std == 0] = 1.0
    return {
        "x_members": ((x_members - mean) / std).astype(np.float32),
        "y_members": y_members,
        "x_non_members": ((x_non_members - mean) / std).astype(np.float32),
        "y_non_members": y_non_members,
        "class_names": np.asarray(data.target_names, dtype=str),
    }
