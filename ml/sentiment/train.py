"""News sentiment: the headline corpus -> a logistic regression -> a JSON artefact news-ingest reads.

    /usr/bin/python3 ml/sentiment/train.py      (or bash ml/sentiment/train.sh)

Writes (deterministic: a second run writes byte-identical files):
- subgraphs/news/data/sentiment-model.json        the model news-ingest and the news subgraph score with when
                                                  the model registry has none (no Python at run time)
- subgraphs/news/data/sentiment-parity.json       held-out headlines with the scores Python computed
                                                  from that file: the TypeScript test must give the same
- ml/sentiment/data/metrics.json                  held-out accuracy and macro-F1, baseline, data hash
- ml/artefacts/sentiment/<version>/               the same model.json, metrics.json and parity.json for the
                                                  model registry (npm run ml:publish); ACTIVE names it

The features are `tokens()` below, mirrored by subgraphs/news/src/enrich/sentiment.ts: change
both or neither and bump TOKENS_VERSION (the worker refuses a model built for other tokens).
"""
import hashlib
import json
import os
import re
import sys
import unicodedata

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

sys.path.insert(0, os.path.dirname(__file__))
import corpus  # noqa: E402

ROOT = corpus.ROOT
MODEL_OUT = os.path.join(ROOT, "subgraphs", "news", "data", "sentiment-model.json")
PARITY_OUT = os.path.join(ROOT, "subgraphs", "news", "data", "sentiment-parity.json")
METRICS_OUT = os.path.join(ROOT, "ml", "sentiment", "data", "metrics.json")
# The model registry's folder, as ml/pipeline/train.py writes the others': <version>/{model,metrics,parity}.json and ACTIVE.
ARTEFACTS = os.path.join(ROOT, "ml", "artefacts", "sentiment")
TOKENS_VERSION = 1
CLASSES = ["negative", "neutral", "positive"]
C_GRID = [0.5, 1.0, 2.0, 4.0, 8.0]
MIN_DF = 2
ITERATIONS = 500


def tokens(text: str):
    """Lower-case ASCII words (accents dropped) and digit runs as '0', then every adjacent pair."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)).lower()
    words = ["0" if w[0].isdigit() else w for w in re.findall(r"[a-z]+|[0-9]+", plain)]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def scores_from_artefact(artefact, texts):
    """The score as news-ingest computes it from the exported JSON: P(positive) - P(negative)."""
    weights, bias = artefact["weights"], np.array(artefact["intercept"])
    logits = []
    for text in texts:
        z = bias.copy()
        for t in set(tokens(text)):
            if t in weights:
                z = z + np.array(weights[t])
        logits.append(z)
    p = softmax(np.array(logits))
    return p, p[:, 2] - p[:, 0]


def main():
    rows = corpus.build()
    digest = corpus.write(rows)
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    hand = [r for r in rows if r["split"] == "handwritten"]
    print(f"corpus: {len(rows)} headlines (train {len(train)}, held-out predicates {len(test)}, handwritten {len(hand)}), sha256 {digest[:16]}")

    y_train = np.array([CLASSES.index(r["label"]) for r in train])
    # C from grouped 5-fold cross-validation on the training rows only (a fold holds out whole
    # predicates, as the test split does); the held-out rows are not looked at to choose it.
    groups = np.array([r["group"] for r in train])
    texts = np.array([r["text"] for r in train], dtype=object)
    cv = {}
    for c in C_GRID:
        f1s = []
        for fit, check in GroupKFold(n_splits=5).split(texts, y_train, groups):
            v = CountVectorizer(analyzer=tokens, binary=True, min_df=MIN_DF)
            m = LogisticRegression(C=c, max_iter=ITERATIONS, tol=1e-8).fit(v.fit_transform(texts[fit]), y_train[fit])
            f1s.append(f1_score(y_train[check], m.predict(v.transform(texts[check])), average="macro"))
        cv[c] = round(float(np.mean(f1s)), 4)
    C = max(C_GRID, key=lambda c: (cv[c], -c))
    print("cross-validated macro-F1 by C: " + ", ".join(f"{c:g}: {f:.3f}" for c, f in cv.items()) + f" -> C = {C:g}")

    vectoriser = CountVectorizer(analyzer=tokens, binary=True, min_df=MIN_DF)
    x_train = vectoriser.fit_transform([r["text"] for r in train])
    model = LogisticRegression(C=C, max_iter=ITERATIONS, tol=1e-8)
    model.fit(x_train, y_train)

    vocabulary = vectoriser.get_feature_names_out()
    coef = model.coef_  # classes x features, in CLASSES order (labels 0, 1, 2)
    weights = {}
    for j, term in enumerate(vocabulary):
        w = [float(f"{coef[k, j]:.7g}") for k in range(len(CLASSES))]
        if any(abs(v) >= 1e-4 for v in w):
            weights[str(term)] = w
    artefact = {
        "format": "analytica.sentiment-logreg.v1",
        "model": "news-sentiment",
        "tokensVersion": TOKENS_VERSION,
        "classes": CLASSES,
        "intercept": [float(f"{b:.7g}") for b in model.intercept_],
        "weights": dict(sorted(weights.items())),
        "data": {"sha256": digest, "seed": corpus.SEED, "rows": len(train)},
    }
    body = json.dumps(artefact, separators=(",", ":"), sort_keys=True)
    version = hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]
    artefact["version"] = version

    def evaluate(name, subset):
        y = np.array([CLASSES.index(r["label"]) for r in subset])
        p, score = scores_from_artefact(artefact, [r["text"] for r in subset])
        predicted = p.argmax(axis=1)
        majority = np.full_like(y, np.bincount(y_train).argmax())
        result = {
            "rows": len(subset),
            "accuracy": round(float(accuracy_score(y, predicted)), 4),
            "macroF1": round(float(f1_score(y, predicted, average="macro")), 4),
            "majorityBaseline": {"accuracy": round(float(accuracy_score(y, majority)), 4), "macroF1": round(float(f1_score(y, majority, average="macro")), 4)},
            "confusion": confusion_matrix(y, predicted, labels=[0, 1, 2]).tolist(),
            "meanScore": {c: round(float(score[y == k].mean()), 4) for k, c in enumerate(CLASSES)},
        }
        print(
            f"{name}: accuracy {result['accuracy']:.3f}, macro-F1 {result['macroF1']:.3f} "
            f"(majority class: accuracy {result['majorityBaseline']['accuracy']:.3f}, macro-F1 {result['majorityBaseline']['macroF1']:.3f}); "
            f"mean score negative {result['meanScore']['negative']:+.2f}, neutral {result['meanScore']['neutral']:+.2f}, positive {result['meanScore']['positive']:+.2f}"
        )
        return result

    metrics = {
        "model": "news-sentiment",
        "version": version,
        "classes": CLASSES,
        "hyperparameters": {"C": C, "cvMacroF1ByC": {f"{c:g}": f for c, f in cv.items()}, "minDf": MIN_DF, "maxIter": ITERATIONS, "features": "binary unigrams and bigrams (tokens())", "tokensVersion": TOKENS_VERSION},
        "features": len(weights),
        "heldOutPredicates": evaluate("held-out predicates", test),
        "handwritten": evaluate("handwritten", hand),
        "data": {"sha256": digest, "seed": corpus.SEED, "rows": len(rows), "train": len(train)},
    }
    # Parity: every handwritten headline and every fifth held-out one, as the worker must score them.
    sample = hand + test[::5]
    _, parity_scores = scores_from_artefact(artefact, [r["text"] for r in sample])
    parity = {"version": version, "cases": [{"text": r["text"], "label": r["label"], "score": float(s)} for r, s in zip(sample, parity_scores)]}

    os.makedirs(os.path.dirname(MODEL_OUT), exist_ok=True)
    os.makedirs(os.path.dirname(METRICS_OUT), exist_ok=True)
    with open(MODEL_OUT, "w", encoding="utf-8") as f:
        f.write(json.dumps(artefact, separators=(",", ":"), sort_keys=True) + "\n")
    with open(PARITY_OUT, "w", encoding="utf-8") as f:
        f.write(json.dumps(parity, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    with open(METRICS_OUT, "w", encoding="utf-8") as f:
        f.write(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    print(f"news-sentiment {version}: {len(weights)} features -> {os.path.relpath(MODEL_OUT, ROOT)}")

    # The same three files as a registry version (npm run ml:publish); ACTIVE only for a model that
    # beats the majority class on the held-out predicates, else the active version stays.
    version_dir = os.path.join(ARTEFACTS, version)
    os.makedirs(version_dir, exist_ok=True)
    for name, source in (("model.json", MODEL_OUT), ("metrics.json", METRICS_OUT), ("parity.json", PARITY_OUT)):
        with open(source, "rb") as f, open(os.path.join(version_dir, name), "wb") as out:
            out.write(f.read())
    held_out = metrics["heldOutPredicates"]
    if not held_out["macroF1"] > held_out["majorityBaseline"]["macroF1"]:
        print(f"refused: news-sentiment {version} does not beat the majority class ({held_out['macroF1']} <= {held_out['majorityBaseline']['macroF1']}); ACTIVE unchanged", file=sys.stderr)
        sys.exit(1)
    with open(os.path.join(ARTEFACTS, "ACTIVE"), "w", encoding="utf-8") as f:
        f.write(version + "\n")
    print(f"news-sentiment {version} -> {os.path.relpath(version_dir, ROOT)} (ACTIVE)")


if __name__ == "__main__":
    main()
