"""Looking at a student's Keras model from outside their kernel, in a separate process.

The harness saves the model the student's code produced as a ``.keras`` file; this module (run as
``python -m grader.inspect_model FILE [--evaluate DIR]``) loads it with ``safe_mode=True`` — a model
that smuggles code (a ``Lambda`` layer, a custom class) is refused, not run — and prints one JSON
object: the layers with their configuration and ``count_params()``, and with ``--evaluate`` the
accuracy on a held-out split that never entered the student's scratch folder. TensorFlow is loaded
only here, so the grader process itself stays light.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["ModelReport", "inspect_model"]

ModelReport = dict[str, Any]


def _layer(layer: Any) -> dict[str, Any]:
    config = layer.get_config()
    keep = ("units", "activation", "filters", "kernel_size", "strides", "padding", "pool_size", "use_bias")
    return {
        "name": layer.name,
        "class": type(layer).__name__,
        "params": int(layer.count_params()),
        "bias_params": int(sum(w.shape[0] for w in layer.weights if w.name.endswith("bias") or w.path.endswith("bias"))),
        "config": {k: config[k] for k in keep if k in config},
    }


def _evaluate(model: Any, folder: Path) -> dict[str, Any]:
    import numpy as np

    from .reference.gender import load_faces

    size = int(model.input_shape[1])
    X, y, _ = load_faces(folder / "FaceScore.csv", folder / "images", size=size)
    if model.input_shape[-1] == 1:
        X = X.mean(axis=-1, keepdims=True)
    scores = np.asarray(model.predict(X, verbose=0))
    predicted = (scores[:, 0] > 0.5).astype(int) if scores.shape[-1] == 1 else scores.argmax(axis=-1)
    return {"accuracy": float((predicted == y).mean()), "n": int(len(y))}


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m grader.inspect_model")
    parser.add_argument("model")
    parser.add_argument("--evaluate", metavar="DIR")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    try:
        model = keras.saving.load_model(args.model, safe_mode=True, compile=False)
    except Exception as exc:  # any failure to load is the student's model's problem, reported as data
        print(json.dumps({"error": f"the model could not be loaded safely: {type(exc).__name__}: {exc}"[:1500]}))
        return
    report: ModelReport = {
        "layers": [_layer(layer) for layer in model.layers],
        "input_shape": list(model.input_shape),
        "output_shape": list(model.output_shape),
    }
    if args.evaluate:
        try:
            report["evaluation"] = _evaluate(model, Path(args.evaluate))
        except Exception as exc:
            # Only the accuracy depends on it: the layers above are still reported.
            report["evaluation"] = {"error": f"the model could not be evaluated: {type(exc).__name__}: {exc}"[:1500]}
    print(json.dumps(report))


def inspect_model(path: Path, *, evaluate: Path | None = None, timeout: float = 600) -> ModelReport:
    """Run the inspector on ``path`` in a fresh process; errors come back as ``{"error": ...}``."""
    command = [sys.executable, "-m", "grader.inspect_model", str(path)]
    if evaluate is not None:
        command += ["--evaluate", str(evaluate)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"inspecting the model took longer than {timeout:g} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": f"the model inspector failed: {done.stderr.strip().splitlines()[-1:] or ['no output']}"}
    report: ModelReport = json.loads(lines[-1])
    return report


if __name__ == "__main__":
    _main()
