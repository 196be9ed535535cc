"""Feature extraction shared by training and (re-implemented line for line) by serving.

The TypeScript twin is workers/inference/src/models/features.ts; every function here has the
same name there and must compute the same numbers. Change both or neither, and bump
FEATURES_VERSION so that an old artefact is never fed new features.
"""
import math
import re
from functools import lru_cache
from datetime import datetime, timezone

FEATURES_VERSION = 1
HASH_BITS = 18
_NON_LETTERS = re.compile(r"[^a-z]+")


def normalize_payee(payee: str) -> str:
    """Lower case, every run of non a-z characters (digits, punctuation, accents) to one space."""
    return _NON_LETTERS.sub(" ", payee.lower()).strip()


@lru_cache(maxsize=1 << 20)
def fnv1a(text: str) -> int:
    """32-bit FNV-1a over the UTF-8 bytes: the same bucket in Python and TypeScript."""
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def parse_time(iso: str) -> datetime:
    return datetime.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)


def category_tokens(payee: str, amount_minor: int, booked_at: str) -> list:
    """The categoriser's tokens: payee words, their character trigrams, the first word pair, and
    coarse amount, weekday, day-of-month and time-of-day buckets."""
    words = [w for w in normalize_payee(payee).split(" ") if len(w) >= 2]
    tokens = []
    for w in words:
        tokens.append("w:" + w)
        padded = " " + w + " "
        for i in range(len(padded) - 2):
            tokens.append("c:" + padded[i : i + 3])
    if len(words) >= 2:
        tokens.append("b:" + words[0] + "_" + words[1])
    tokens.append("sign:" + ("in" if amount_minor > 0 else "out"))
    major = abs(amount_minor) / 100.0
    tokens.append("amt:" + str(min(14, int(math.floor(math.log2(major + 1.0))))))
    t = parse_time(booked_at)
    tokens.append("dow:" + str(t.weekday()))
    day = t.day
    tokens.append("dom:" + ("start" if day <= 3 else "end" if day >= 26 else "mid"))
    tokens.append("hour:" + ("none" if t.hour == 0 and t.minute == 0 else str(t.hour // 4)))
    return tokens


def hashed_vector(tokens: list) -> dict:
    """Token counts per bucket, scaled to unit length: {bucket: value}."""
    counts = {}
    mask = (1 << HASH_BITS) - 1
    for token in tokens:
        b = fnv1a(token) & mask
        counts[b] = counts.get(b, 0) + 1
    norm = math.sqrt(sum(c * c for c in counts.values()))
    return {b: c / norm for b, c in counts.items()}


# --- Anomaly features: computed from the user's history *before* the transaction ---

ANOMALY_FEATURES = [
    "log_amount",
    "category_count",
    "category_z",
    "payee_count",
    "payee_amount_dev",
    "payee_gap_hours",
    "duplicate",
    "hour",
    "hour_share",
    "user_count",
    "category_share",
]
MAX_PAYEES = 500


def new_profile() -> dict:
    return {"n": 0, "hours": [0] * 24, "categories": {}, "payees": {}}


def anomaly_features(profile: dict, category_key: str, payee: str, amount_minor: int, booked_at_ms: int) -> list:
    la = math.log1p(abs(amount_minor) / 100.0)
    cat = profile["categories"].get(category_key)
    cat_n = cat[0] if cat else 0
    if cat and cat[0] >= 2:
        std = math.sqrt(cat[2] / (cat[0] - 1))
        cat_z = (la - cat[1]) / max(std, 0.05)
    else:
        cat_z = 0.0
    p = profile["payees"].get(normalize_payee(payee))
    if p:
        payee_n = p[0]
        payee_dev = la - p[1]
        gap = min(max(booked_at_ms - p[2], 0) / 3600000.0, 10000.0)
        duplicate = 1.0 if abs(booked_at_ms - p[2]) <= 86400000 and amount_minor == p[3] else 0.0
    else:
        payee_n, payee_dev, gap, duplicate = 0, 0.0, 10000.0, 0.0
    hour = (booked_at_ms // 3600000) % 24
    n = profile["n"]
    hours = profile["hours"]
    hour_share = (hours[(hour + 23) % 24] + hours[hour] + hours[(hour + 1) % 24]) / n if n > 0 else 0.0
    return [
        la,
        float(min(cat_n, 1000)),
        cat_z,
        float(min(payee_n, 1000)),
        payee_dev,
        gap,
        duplicate,
        float(hour),
        hour_share,
        float(min(n, 10000)),
        cat_n / n if n > 0 else 0.0,
    ]


def update_profile(profile: dict, category_key: str, payee: str, amount_minor: int, booked_at_ms: int) -> None:
    la = math.log1p(abs(amount_minor) / 100.0)
    cat = profile["categories"].get(category_key)
    if cat is None:
        cat = [0, 0.0, 0.0]
        profile["categories"][category_key] = cat
    cat[0] += 1
    d = la - cat[1]
    cat[1] += d / cat[0]
    cat[2] += d * (la - cat[1])
    key = normalize_payee(payee)
    p = profile["payees"].get(key)
    if p is None:
        p = [0, 0.0, 0, 0]
        profile["payees"][key] = p
    p[0] += 1
    p[1] += (la - p[1]) / p[0]
    p[2] = booked_at_ms
    p[3] = amount_minor
    if len(profile["payees"]) > MAX_PAYEES:
        # Forget the payee seen longest ago (ties: the first in key order).
        oldest = min(profile["payees"].items(), key=lambda kv: (kv[1][2], kv[0]))[0]
        del profile["payees"][oldest]
    profile["hours"][(booked_at_ms // 3600000) % 24] += 1
    profile["n"] += 1
