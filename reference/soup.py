"""Greedy weight soup of judge checkpoints, chosen on held-out accuracy only.

Usage (weights from the same warm-start chain, e.g. a stage's per-epoch files)::

    nice -n 10 .venv/bin/python -m reference.soup --out runs/classifier3/soup.keras \
        runs/classifier3/best.keras runs/classifier3/epochs/epoch_02*.weights.h5

The ingredients are sorted by held-out accuracy; each joins the soup when the uniform
average of the weights (BatchNorm statistics included) with it scores higher on the held-out
images than without it (the greedy soup of Wortsman et al., 2022). The test split is only
measured and printed, never used to choose. The soup is saved as a float32 ``.keras`` model
that ``python -m reference.ship_judge --weights OUT`` can calibrate and ship.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from reference.train_classifier import DEFAULT_DATA, _evaluate, build_model, heldout_split


def greedy_soup(weights: list[list[np.ndarray]], score) -> tuple[list[int], float]:
    """Indices of the chosen ingredients and the soup's score (``score(weights) -> float``).

    Ingredients are tried best first; one is kept when the average with it beats the soup.
    """
    alone = [score(w) for w in weights]
    order = sorted(range(len(weights)), key=lambda i: -alone[i])
    chosen, best = [order[0]], alone[order[0]]
    for i in order[1:]:
        trial = score(average([weights[j] for j in chosen + [i]]))
        if trial > best:
            chosen, best = chosen + [i], trial
    return chosen, best


def average(weights: list[list[np.ndarray]]) -> list[np.ndarray]:
    """The element-wise mean of several models' weight lists."""
    return [np.mean([w[k] for w in weights], axis=0) for k in range(len(weights[0]))]


def main(argv: list[str] | None = None) -> None:
    """Load the ingredients, cook the greedy soup on held-out images, save it, print a summary."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("weights", nargs="+", type=Path, help=".keras or .weights.h5 files")
    p.add_argument("--out", type=Path, required=True, help="where the soup goes (.keras)")
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--widths", default="32,64,128")
    p.add_argument("--blocks", default="2,2,2")
    a = p.parse_args(argv)
    import tensorflow as tf

    from grader.data import load_dataset

    ds = load_dataset(a.data)
    _, held = heldout_split(ds.y_train)
    x_held, y_held = ds.x_train[held], ds.y_train[held]
    model = build_model(tuple(map(int, a.widths.split(","))), tuple(map(int, a.blocks.split(","))))
    predict = tf.function(lambda x: model(x, training=False))
    ingredients = []
    for path in a.weights:
        model.load_weights(path)
        ingredients.append(model.get_weights())

    def held_accuracy(w: list[np.ndarray]) -> float:
        model.set_weights(w)
        return _evaluate(predict, x_held, y_held)

    chosen, held_acc = greedy_soup(ingredients, held_accuracy)
    model.set_weights(average([ingredients[i] for i in chosen]))
    test_acc = _evaluate(predict, ds.x_test, ds.y_test)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(a.out)
    print(json.dumps({"chosen": [str(a.weights[i]) for i in chosen], "heldout_acc": held_acc,
                      "test_acc": test_acc, "out": str(a.out)}, indent=1))


if __name__ == "__main__":
    main()
