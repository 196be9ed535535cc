"""npm run ml:train: corpus -> categoriser and anomaly detector -> evaluated, versioned artefacts.

Deterministic: the corpus, the split, both fits and every number written come from SEED, so a
second run writes byte-identical files (the version is the hash of the model file).
"""
import json
import math
import os
import sys
import hashlib
import tempfile
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score
import xgboost as xgb

sys.path.insert(0, os.path.dirname(__file__))
import corpus  # noqa: E402
import features as F  # noqa: E402

SEED = 13
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ARTEFACTS = os.path.join(ROOT, "ml", "artefacts")
CATEGORISER_C = 10.0
# A fixed number of L-BFGS steps: the fit is the same on every run, converged or not.
CATEGORISER_ITERATIONS = 150
XGB_PARAMS = {"n_estimators": 150, "max_depth": 5, "learning_rate": 0.1, "subsample": 1.0, "colsample_bytree": 1.0, "tree_method": "hist", "n_jobs": 1, "random_state": SEED, "base_score": 0.5, "eval_metric": "aucpr"}
TOP_K = 100


def split_of(user_id: str) -> str:
    i = int(user_id[1:])
    return "test" if i % 5 == 0 else "validation" if i % 5 == 1 else "train"


def r6(x: float) -> float:
    """Rounds a weight to 7 significant digits: smaller artefacts; the served model is the rounded one."""
    return float(f"{x:.7g}")


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True) + "\n"


def write_version(model: str, artefact: dict, metrics: dict, parity: dict, activate: bool):
    body = dumps(artefact)
    version = hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]
    folder = os.path.join(ARTEFACTS, model, version)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.json"), "w") as f:
        f.write(body)
    with open(os.path.join(folder, "metrics.json"), "w") as f:
        f.write(json.dumps({"model": model, "version": version, **metrics}, indent=2, sort_keys=True) + "\n")
    with open(os.path.join(folder, "parity.json"), "w") as f:
        f.write(dumps(parity))
    if activate:
        with open(os.path.join(ARTEFACTS, model, "ACTIVE"), "w") as f:
            f.write(version + "\n")
    return version


# --- Categoriser ---


def design(rows):
    data, indices, indptr = [], [], [0]
    for r in rows:
        vec = F.hashed_vector(F.category_tokens(r["payee"], r["amount"], r["bookedAt"]))
        for b in sorted(vec):
            indices.append(b)
            data.append(vec[b])
        indptr.append(len(indices))
    return sp.csr_matrix((np.array(data), np.array(indices), np.array(indptr)), shape=(len(rows), 1 << F.HASH_BITS))


def served_probabilities(artefact, X):
    """The exported (rounded, sparse) model evaluated in numpy, as the TypeScript code evaluates it."""
    classes = artefact["classes"]
    W = np.zeros((1 << F.HASH_BITS, len(classes)))
    for b, w in artefact["weights"].items():
        W[int(b)] = w
    z = X @ W + np.array(artefact["intercept"])
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def macro_f1(y_true, y_pred, labels):
    return float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))


def train_categoriser(rows, digest):
    train = [r for r in rows if split_of(r["user"]) != "test"]
    test = [r for r in rows if split_of(r["user"]) == "test"]
    labels = corpus.CATEGORY_NAMES
    y_train = [r["category"] for r in train]
    y_test = [r["category"] for r in test]
    t0 = time.monotonic()
    X_train, X_test = design(train), design(test)
    print(f"  features: {time.monotonic() - t0:.0f} s")
    # Fit on the buckets that occur only (a bucket never seen keeps weight 0 under L2 anyway): the
    # same model, an order of magnitude fewer columns to carry through L-BFGS.
    used = np.unique(X_train.indices)
    model = LogisticRegression(C=CATEGORISER_C, max_iter=CATEGORISER_ITERATIONS, solver="lbfgs")
    model.fit(X_train[:, used], y_train)
    classes = [str(c) for c in model.classes_]
    artefact = {
        "format": "analytica.hashed-logistic.v1",
        "model": "categoriser",
        "featuresVersion": F.FEATURES_VERSION,
        "hashBits": F.HASH_BITS,
        "classes": classes,
        "intercept": [r6(v) for v in model.intercept_],
        "weights": {str(int(b)): [r6(v) for v in model.coef_[:, j]] for j, b in enumerate(used)},
        "data": {"sha256": digest, "seed": SEED, "rows": len(train)},
    }
    proba = served_probabilities(artefact, X_test)
    predicted = [classes[i] for i in proba.argmax(axis=1)]
    agree = float(np.mean(np.array(predicted) == model.predict(X_test[:, used])))

    majority = max(set(y_train), key=lambda c: (y_train.count(c), c))
    lookup_counts = {}
    for r in train:
        key = F.normalize_payee(r["payee"])
        lookup_counts.setdefault(key, {}).setdefault(r["category"], 0)
        lookup_counts[key][r["category"]] += 1
    lookup = {k: max(v.items(), key=lambda kv: (kv[1], kv[0]))[0] for k, v in lookup_counts.items()}
    by_lookup = [lookup.get(F.normalize_payee(r["payee"]), majority) for r in test]
    covered = float(np.mean([F.normalize_payee(r["payee"]) in lookup for r in test]))
    metrics = {
        "task": "category of a transaction from payee, amount and time; held-out users",
        "split": {"train": len(train), "test": len(test), "rule": "users whose number % 5 == 0 are held out"},
        "macroF1": round(macro_f1(y_test, predicted, labels), 4),
        "accuracy": round(float(np.mean(np.array(predicted) == np.array(y_test))), 4),
        "baselines": {
            "majorityClass": {"predicts": majority, "macroF1": round(macro_f1(y_test, [majority] * len(test), labels), 4)},
            "payeeLookup": {"macroF1": round(macro_f1(y_test, by_lookup, labels), 4), "coverage": round(covered, 4), "accuracy": round(float(np.mean(np.array(by_lookup) == np.array(y_test))), 4)},
        },
        "servedAgreesWithSklearn": round(agree, 5),
        "data": {"sha256": digest, "seed": SEED, "rows": len(rows)},
        "hyperparameters": {"C": CATEGORISER_C, "iterations": CATEGORISER_ITERATIONS, "hashBits": F.HASH_BITS, "solver": "lbfgs"},
        "weightsExported": len(artefact["weights"]),
    }
    # Parity fixture: the first 300 held-out rows with what the served model gives in Python.
    parity = {"inputs": [], "expected": []}
    for i in range(0, len(test), max(1, len(test) // 300))[:300]:
        r = test[i]
        parity["inputs"].append({"payee": r["payee"], "amountMinor": r["amount"], "bookedAt": r["bookedAt"]})
        parity["expected"].append({"category": predicted[i], "probabilities": [float(p) for p in proba[i]]})
    beats = metrics["macroF1"] > metrics["baselines"]["majorityClass"]["macroF1"] and metrics["macroF1"] > metrics["baselines"]["payeeLookup"]["macroF1"]
    return artefact, metrics, parity, beats, predicted, test


# --- Anomaly detector ---


def anomaly_rows(rows):
    """Spending rows with their features, computed per user in time order from the history before each."""
    out = []
    profiles, zstats = {}, {}
    for r in rows:
        if r["amount"] >= 0:
            continue
        key = r["category"] + "/" + r["currency"]
        profile = profiles.setdefault(r["user"], F.new_profile())
        x = F.anomaly_features(profile, key, r["payee"], r["amount"], r["bookedAtMs"])
        # The baseline: |z| of the amount within the user's category, from the same history.
        z = zstats.setdefault((r["user"], key), [0, 0.0, 0.0])
        a = abs(r["amount"]) / 100.0
        # Above the mean only (an amount far below it is not a risk), with at least 5 earlier
        # amounts and a spread of at least 5 % of the mean (fixed amounts: rent, subscriptions).
        baseline = (a - z[1]) / max(math.sqrt(z[2] / (z[0] - 1)), 0.05 * z[1], 0.01) if z[0] >= 5 else 0.0
        z[0] += 1
        d = a - z[1]
        z[1] += d / z[0]
        z[2] += d * (a - z[1])
        F.update_profile(profile, key, r["payee"], r["amount"], r["bookedAtMs"])
        out.append({"row": r, "x": x, "baseline": baseline})
    return out


def export_trees(booster):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.json")
        booster.save_model(path)
        with open(path) as f:
            raw = json.load(f)
    learner = raw["learner"]
    base_score = float(learner["learner_model_param"]["base_score"])
    trees = []
    for t in learner["gradient_booster"]["model"]["trees"]:
        trees.append({"left": t["left_children"], "right": t["right_children"], "feature": t["split_indices"], "threshold": t["split_conditions"], "defaultLeft": [int(v) for v in t["default_left"]]})
    return base_score, trees


def served_scores(artefact, X):
    """The exported trees walked with float32 comparisons, as TypeScript walks them (there is no
    missing value: every feature is always present)."""
    x32 = np.asarray(X, dtype=np.float32)
    rows = np.arange(len(x32))
    margin = np.full(len(x32), math.log(artefact["baseScore"] / (1 - artefact["baseScore"])))
    for t in artefact["trees"]:
        left, right = np.array(t["left"]), np.array(t["right"])
        feature, threshold = np.array(t["feature"]), np.array(t["threshold"], dtype=np.float32)
        node = np.zeros(len(x32), dtype=np.int64)
        while True:
            inner = left[node] != -1
            if not inner.any():
                break
            go_left = x32[rows, feature[node]] < threshold[node]
            node = np.where(inner, np.where(go_left, left[node], right[node]), node)
        margin += threshold[node].astype(np.float64)
    return 1.0 / (1.0 + np.exp(-margin))


def precision_at(scores, labels, k):
    order = np.lexsort((np.arange(len(scores)), -np.asarray(scores)))[:k]
    return float(np.mean(np.asarray(labels)[order]))


def train_anomaly(rows, digest):
    feats = anomaly_rows(rows)
    part = {s: [f for f in feats if split_of(f["row"]["user"]) == s] for s in ("train", "validation", "test")}
    X = {s: np.array([f["x"] for f in part[s]]) for s in part}
    y = {s: np.array([f["row"]["anomaly"] for f in part[s]]) for s in part}
    model = xgb.XGBClassifier(**XGB_PARAMS)
    model.fit(X["train"], y["train"])
    base_score, trees = export_trees(model.get_booster())
    artefact = {"format": "analytica.xgboost-trees.v1", "model": "anomaly", "featuresVersion": F.FEATURES_VERSION, "features": F.ANOMALY_FEATURES, "baseScore": base_score, "trees": trees, "data": {"sha256": digest, "seed": SEED}}
    # Alert threshold: the lowest score at which validation precision reaches 0.8.
    val = served_scores(artefact, X["validation"])
    order = np.argsort(-val, kind="stable")
    hits = np.cumsum(y["validation"][order])
    precision = hits / np.arange(1, len(order) + 1)
    ok = np.where(precision >= 0.8)[0]
    threshold = float(val[order][ok.max()]) if len(ok) else 0.5
    artefact["alertThreshold"] = round(threshold, 6)

    scores = served_scores(artefact, X["test"])
    direct = model.predict_proba(X["test"])[:, 1]
    baseline = np.array([f["baseline"] for f in part["test"]])
    labels = y["test"]
    positives = int(labels.sum())
    flagged = scores >= artefact["alertThreshold"]
    kinds = {}
    for f, hit in zip(part["test"], flagged):
        if f["row"]["anomaly"]:
            k = kinds.setdefault(f["row"]["kind"], [0, 0])
            k[0] += 1
            k[1] += int(hit)
    metrics = {
        "task": "is a spending transaction an injected anomaly, from the user's history before it; held-out users",
        "split": {"train": int(len(labels) and len(part["train"])), "validation": len(part["validation"]), "test": len(part["test"]), "testAnomalies": positives},
        "auprc": round(float(average_precision_score(labels, scores)), 4),
        f"precisionAt{TOP_K}": round(precision_at(scores, labels, TOP_K), 4),
        "precisionAtPositives": round(precision_at(scores, labels, positives), 4),
        "atAlertThreshold": {
            "threshold": artefact["alertThreshold"],
            "precision": round(float(labels[flagged].mean()) if flagged.any() else 0.0, 4),
            "recall": round(float(flagged[labels == 1].mean()), 4),
            "recallByKind": {k: round(v[1] / v[0], 4) for k, v in sorted(kinds.items())},
        },
        "baselines": {
            "categoryZScore": {
                "auprc": round(float(average_precision_score(labels, baseline)), 4),
                f"precisionAt{TOP_K}": round(precision_at(baseline, labels, TOP_K), 4),
                "precisionAtPositives": round(precision_at(baseline, labels, positives), 4),
            }
        },
        "servedMaxAbsDiffFromXgboost": float(np.max(np.abs(scores - direct))),
        "data": {"sha256": digest, "seed": SEED, "rows": len(rows)},
        "hyperparameters": {k: v for k, v in XGB_PARAMS.items() if k != "n_jobs"},
    }
    # The z-score can only see one kind: amounts far above the usual. Both on that kind alone.
    spikes = np.array([f["row"]["kind"] in ("", "spike") for f in part["test"]])
    metrics["spikesOnly"] = {
        "anomalies": int(labels[spikes].sum()),
        "auprc": round(float(average_precision_score(labels[spikes], scores[spikes])), 4),
        "zScoreAuprc": round(float(average_precision_score(labels[spikes], baseline[spikes])), 4),
    }
    metrics["servedMaxAbsDiffFromXgboost"] = float(f"{metrics['servedMaxAbsDiffFromXgboost']:.3g}")
    # Parity fixture: three held-out users' whole spending histories (the features need the history).
    users = sorted({f["row"]["user"] for f in part["test"]})[:3]
    parity = {"inputs": [], "expected": []}
    for f, s in zip(part["test"], scores):
        r = f["row"]
        if r["user"] in users:
            parity["inputs"].append({"userId": r["user"], "categoryKey": r["category"] + "/" + r["currency"], "payee": r["payee"], "amountMinor": r["amount"], "bookedAt": r["bookedAt"]})
            parity["expected"].append({"features": f["x"], "score": float(s)})
    b = metrics["baselines"]["categoryZScore"]
    beats = metrics["auprc"] > b["auprc"] and metrics[f"precisionAt{TOP_K}"] > b[f"precisionAt{TOP_K}"]
    return artefact, metrics, parity, beats


def main():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    rows = corpus.generate(SEED)
    digest = corpus.data_hash(rows)
    data_dir = os.path.join(ROOT, ".data", "ml")
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, "corpus.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=True) + "\n")
    print(f"corpus: {len(rows)} transactions, {sum(r['anomaly'] for r in rows)} injected anomalies, sha256 {digest[:16]}")

    refused = []
    started = time.monotonic()
    artefact, metrics, parity, beats, _, _ = train_categoriser(rows, digest)
    version = write_version("categoriser", artefact, metrics, parity, beats)
    b = metrics["baselines"]
    print(f"categoriser {version}: macro-F1 {metrics['macroF1']} (majority {b['majorityClass']['macroF1']}, payee lookup {b['payeeLookup']['macroF1']})" + ("" if beats else "  REFUSED: not better than a baseline"))
    if not beats:
        refused.append("categoriser")
    print(f"  ({time.monotonic() - started:.0f} s)")
    started = time.monotonic()

    artefact, metrics, parity, beats = train_anomaly(rows, digest)
    version = write_version("anomaly", artefact, metrics, parity, beats)
    b = metrics["baselines"]["categoryZScore"]
    print(f"anomaly {version}: AUPRC {metrics['auprc']}, P@{TOP_K} {metrics[f'precisionAt{TOP_K}']} (z-score AUPRC {b['auprc']}, P@{TOP_K} {b[f'precisionAt{TOP_K}']})" + ("" if beats else "  REFUSED: not better than the baseline"))
    if not beats:
        refused.append("anomaly")
    print(f"  ({time.monotonic() - started:.0f} s)")
    if refused:
        print("not activated: " + ", ".join(refused), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
