"""Prints the tables of docs/cifar10.md from a privacy report's results.json.

    python docs/cifar10_tables.py privacy-report/results.json

The reproduction page quotes these tables; regenerate them from a new run
rather than editing numbers by hand.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

#: TF Privacy codelab, logged Keras numbers (epoch: (accuracy, val_accuracy)).
TUTORIAL = {
    "2_layers": {10: (None, 0.6843), 50: (0.9178, 0.6610)},
    "3_layers": {50: (0.8108, 0.6846)},
}


def main(path: str) -> None:
    results = json.load(open(path))
    models = results["models"]
    print("### Accuracy by epoch\n")
    print("Keras's logged `accuracy` (running mean over the epoch's batches, as the codelab prints),")
    print("and accuracy measured after the epoch on all members (train) and non-members (test).\n")
    for name, model in models.items():
        history = {h["epoch"]: h for h in model.get("history", [])}
        print(f"**{model['label']}**\n")
        print("| epoch | Keras accuracy | train accuracy | test accuracy | codelab accuracy / val_accuracy |")
        print("| --- | --- | --- | --- | --- |")
        for epoch in model["epochs"]:
            e = epoch["epoch"]
            keras = history.get(e, {}).get("accuracy")
            tutorial = TUTORIAL.get(name, {}).get(e)
            quoted = (
                " / ".join("-" if v is None else f"{v:.4f}" for v in tutorial) if tutorial else ""
            )
            print(
                f"| {e} | {'' if keras is None else f'{keras:.4f}'} | {epoch['train_accuracy']:.4f} "
                f"| {epoch['test_accuracy']:.4f} | {quoted} |"
            )
        print()

    by = defaultdict(dict)
    for r in results["results"]:
        by[(r["model"], r["attack"])].setdefault(r["epoch"], []).append(r)
    print("### Membership inference by epoch\n")
    print("Entire dataset, and the most vulnerable class (highest AUC) at that epoch.\n")
    for (model, attack), epochs in by.items():
        print(f"**{models[model]['label']}, {attack}**\n")
        print("| epoch | AUC | advantage | most vulnerable class | its AUC | its advantage |")
        print("| --- | --- | --- | --- | --- | --- |")
        for epoch, records in sorted(epochs.items()):
            entire = next(r for r in records if r["slice"] == "entire_dataset")
            classes = [r for r in records if r["slice"] != "entire_dataset"]
            worst = max(classes, key=lambda r: r["auc"]) if classes else None
            tail = (
                f"{worst['slice']} | {worst['auc']:.4f} | {worst['attacker_advantage']:.4f}"
                if worst
                else "- | - | -"
            )
            print(
                f"| {epoch} | {entire['auc']:.4f} | {entire['attacker_advantage']:.4f} | {tail} |"
            )
        print()

    print("### The codelab's claims\n")
    for (model, attack), epochs in by.items():
        ordered = sorted(epochs)
        first = next(r for r in epochs[ordered[0]] if r["slice"] == "entire_dataset")
        last = next(r for r in epochs[ordered[-1]] if r["slice"] == "entire_dataset")
        print(
            f"- {models[model]['label']}, {attack}: entire-dataset AUC {first['auc']:.4f} at epoch "
            f"{ordered[0]} -> {last['auc']:.4f} at epoch {ordered[-1]}; advantage "
            f"{first['attacker_advantage']:.4f} -> {last['attacker_advantage']:.4f}"
        )
    attacks = sorted({attack for _, attack in by})
    names = list(models)
    if len(names) == 2:
        for attack in attacks:
            a, b = by[(names[0], attack)], by[(names[1], attack)]
            common = sorted(set(a) & set(b))
            higher = sum(
                next(r for r in a[e] if r["slice"] == "entire_dataset")["auc"]
                > next(r for r in b[e] if r["slice"] == "entire_dataset")["auc"]
                for e in common
            )
            print(
                f"- {attack}: {models[names[0]]['label']} has the higher entire-dataset AUC at "
                f"{higher} of {len(common)} report epochs"
            )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "privacy-report/results.json")
