"""A seeded, synthetic, labelled corpus of personal-finance transactions.

How it is made (see ml/README.md for the prose):
- USERS people over DAYS days from START, each with a home city, a bank whose statements write
  payees in one style (plain, "CARD PAYMENT ...", "SUMUP *...", store numbers, upper or title case),
  an income level, waking hours, a car or not, and 1 to 4 favourite merchants per category
  (Zipf-weighted) drawn from about 130 real-looking merchants in 13 categories.
- Everyday spending is a Poisson count per day and category (weekends shift it), amounts
  log-normal around the person's own median for the category; rent, utilities and subscriptions
  are monthly on a fixed day (fixed or nearly fixed amounts), salary monthly around the 26th.
  Ambiguous payees exist on purpose: AMAZON is Shopping, AMAZON PRIME a subscription, AMZN
  DIGITAL entertainment; UBER TRIP is Transport, UBER EATS Restaurants; DB tickets over 60 EUR are
  Travel; small buys at a fuel station are Groceries for some people. Rare big purchases (a sofa,
  a laptop) are normal, not anomalies. 1.5 % of labels are replaced by a random category: people
  mis-file.
- Anomalies are injected into spending after a person's first 60 days, about 1 % of it, of four
  kinds: an amount 2.5-8x the usual (spike); a burst of 1-3 tiny charges at a merchant nobody has
  used (card testing); the same payee and amount charged again within 90 minutes (duplicate);
  a usual purchase moved to 01:00-04:59 (odd hour).
"""
import hashlib
import math
from datetime import datetime, timedelta, timezone

import numpy as np

USERS = 300
DAYS = 365
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
LABEL_NOISE = 0.015
ANOMALY_RATE = 0.01

CITIES = ["BERLIN", "MUENCHEN", "HAMBURG", "KOELN", "PARIS", "LYON", "MILANO", "ROMA", "MADRID", "AMSTERDAM", "WIEN", "LONDON", "DUBLIN", "LISBOA"]
FIRST = ["Anna", "Lukas", "Marie", "Jonas", "Sofia", "Luca", "Emma", "Noah", "Lea", "Paul", "Clara", "Elias", "Ines", "Hugo"]
LAST = ["Mueller", "Schmidt", "Rossi", "Garcia", "Martin", "de Vries", "Novak", "Dubois", "Fischer", "Weber", "Bianchi", "Silva", "Moreau", "Wagner"]
EMPLOYERS = ["SIEMENS AG", "ACME GMBH", "BOSCH", "ALLIANZ SE", "STADT", "UNIVERSITAET", "SAP SE", "ZALANDO SE", "KLINIKUM", "BAYER AG", "DEUTSCHE POST"]

# category: (merchants, daily rate, median EUR, log sigma, kind)
CATEGORIES = {
    "Groceries": (["LIDL", "ALDI SUED", "REWE", "EDEKA", "CARREFOUR", "TESCO STORES", "SAINSBURYS", "CONAD", "ALBERT HEIJN", "MERCADONA", "SPAR", "PENNY MARKT", "NETTO", "KAUFLAND"], 0.33, 28.0, 0.6, "card"),
    "Restaurants": (["PIZZERIA DA MARIO", "SUSHI KAITEN", "BURGER KING", "MCDONALDS", "VAPIANO", "WAGAMAMA", "DELIVEROO", "UBER EATS", "LIEFERANDO", "STARBUCKS", "COSTA COFFEE", "CAFE LUNA", "BAECKEREI KAMPS", "DOENER PALACE"], 0.28, 14.0, 0.55, "card"),
    "Transport": (["DB VERTRIEB", "BVG", "UBER TRIP", "BOLT EU", "TFL TRAVEL CH", "SNCF", "RATP", "FREE NOW", "LIME RIDE", "TIER MOBILITY", "MVG AUTOMAT", "HVV"], 0.25, 4.5, 0.7, "card"),
    "Fuel": (["SHELL", "ARAL", "ESSO", "TOTALENERGIES", "BP", "JET TANKSTELLE", "AGIP ENI", "REPSOL", "TESCO PFS", "Q8"], 0.07, 62.0, 0.25, "card"),
    "Shopping": (["AMAZON", "AMZN MKTP", "ZALANDO", "IKEA", "H M", "ZARA", "MEDIAMARKT", "SATURN", "DECATHLON", "OTTO", "EBAY", "PRIMARK", "THALIA", "TK MAXX"], 0.11, 35.0, 0.9, "card"),
    "Health": (["APOTHEKE AM MARKT", "DM DROGERIE", "ROSSMANN", "BOOTS", "PRAXIS DR WEBER", "ZAHNARZT", "PHARMACIE CENTRALE", "FARMACIA", "FITNESS FIRST", "MCFIT"], 0.05, 18.0, 0.7, "card"),
    "Entertainment": (["CINEMAXX", "STEAM PURCHASE", "PLAYSTATION NETWORK", "EVENTIM", "TICKETMASTER", "BOWLING CENTER", "AMZN DIGITAL", "NINTENDO ESHOP", "KINO", "MUSEUM"], 0.055, 22.0, 0.6, "card"),
    "Travel": (["LUFTHANSA", "RYANAIR", "EASYJET", "BOOKING COM", "AIRBNB", "HOTEL AMBASSADOR", "EXPEDIA", "FLIXBUS", "TRAINLINE", "SIXT", "EUROWINGS"], 0.015, 140.0, 0.8, "card"),
    "Cash": (["ATM WITHDRAWAL", "GELDAUTOMAT", "CASH WITHDRAWAL", "BANCOMAT"], 0.035, 60.0, 0.5, "cash"),
    "Rent": ([], 0.0, 900.0, 0.35, "rent"),
    "Utilities": (["VATTENFALL", "E ON ENERGIE", "STADTWERKE", "TELEKOM DEUTSCHLAND", "VODAFONE", "O2 GERMANY", "EDF", "BRITISH GAS", "ENEL ENERGIA", "IBERDROLA", "1UND1"], 0.0, 55.0, 0.4, "monthly"),
    "Subscriptions": (["NETFLIX COM", "SPOTIFY", "APPLE COM BILL", "GOOGLE YOUTUBE", "AMAZON PRIME", "DISNEY PLUS", "ADOBE", "MICROSOFT 365", "AUDIBLE", "GITHUB", "DAZN"], 0.0, 11.0, 0.4, "monthly"),
    "Salary": ([], 0.0, 2600.0, 0.35, "salary"),
}
CATEGORY_NAMES = list(CATEGORIES)
SUSPICIOUS_STEMS = ["XK", "QZ", "VV", "PX", "ZN", "WQ", "JX"]
SUSPICIOUS_WORDS = ["ONLINE", "DIGITAL", "SHOP", "SERVICES", "PAY", "STORE", "MEDIA"]

STYLES = [
    "{m}",
    "{m} {city}",
    "{m} {store} {city}",
    "CARD PAYMENT {m} {city}",
    "VISA {m} {store}",
    "{m} SAGT DANKE {store}",
    "KARTENZAHLUNG {m} {city} {store}",
    "POS {store} {m}",
]
PROCESSORS = ["SUMUP *", "PAYPAL *", "ZETTLE_*", "SQ *"]


class Rng:
    """numpy's PCG64, seeded once; every draw goes through it in a fixed order."""

    def __init__(self, seed):
        self.g = np.random.Generator(np.random.PCG64(seed))

    def choice(self, items, p=None):
        return items[int(self.g.choice(len(items), p=p))]

    def uniform(self, a, b):
        return float(self.g.uniform(a, b))

    def normal(self, m, s):
        return float(self.g.normal(m, s))

    def poisson(self, lam):
        return int(self.g.poisson(lam))

    def random(self):
        return float(self.g.random())

    def integers(self, a, b):
        return int(self.g.integers(a, b))


def zipf_weights(n):
    w = np.array([1.0 / (i + 1) ** 1.2 for i in range(n)])
    return w / w.sum()


def make_user(rng: Rng, index: int):
    city = rng.choice(CITIES)
    income = math.exp(rng.normal(0.0, 0.35))
    style = rng.choice(STYLES)
    upper = rng.random() < 0.7
    user = {
        "id": f"u{index:04d}",
        "city": city,
        "income": income,
        "style": style,
        "upper": upper,
        "wake": rng.uniform(8.0, 12.0),
        "spread": rng.uniform(2.0, 4.0),
        "car": rng.random() < 0.55,
        "shop_fuel_as_groceries": rng.random() < 0.4,
        "currency": "GBP" if city in ("LONDON",) else "EUR",
        "favourites": {},
        "medians": {},
        "store": {},
    }
    for name, (merchants, _rate, median, _sigma, kind) in CATEGORIES.items():
        user["medians"][name] = median * income * math.exp(rng.normal(0.0, 0.3))
        if merchants:
            k = min(len(merchants), 1 + rng.integers(0, 4))
            picks = list(rng.g.choice(len(merchants), size=k, replace=False))
            user["favourites"][name] = [merchants[int(i)] for i in picks]
    user["landlord"] = rng.choice(["HAUSVERWALTUNG", "MIETE", "RENT", "IMMOBILIEN", "WOHNBAU"]) + " " + rng.choice(LAST).upper()
    user["employer"] = rng.choice(EMPLOYERS)
    user["subscriptions"] = [CATEGORIES["Subscriptions"][0][int(i)] for i in rng.g.choice(11, size=1 + rng.integers(0, 4), replace=False)]
    user["utilities"] = [CATEGORIES["Utilities"][0][int(i)] for i in rng.g.choice(11, size=1 + rng.integers(0, 3), replace=False)]
    return user


def render_payee(rng: Rng, user, merchant: str, card: bool) -> str:
    store = user["store"].setdefault(merchant, str(rng.integers(100, 9999)))
    if not card:
        text = merchant
    else:
        text = user["style"].format(m=merchant, city=user["city"], store=store if rng.random() < 0.8 else str(rng.integers(100, 9999)))
        if rng.random() < 0.06:
            text = rng.choice(PROCESSORS) + merchant
        if rng.random() < 0.01 and len(text) > 6:
            cut = rng.integers(1, len(text) - 1)
            text = text[:cut] + text[cut + 1 :]
    return text.upper() if user["upper"] else text.title()


def card_time(rng: Rng, user, day: datetime, category: str) -> datetime:
    if category == "Restaurants":
        hour = rng.choice([12.5, 19.5]) + rng.normal(0, 1.2)
    else:
        hour = user["wake"] + abs(rng.normal(0, user["spread"] * 1.5))
    hour = min(max(hour, 6.0), 23.9)
    return day + timedelta(seconds=int(hour * 3600))


def money(amount_eur: float) -> int:
    return max(1, int(round(amount_eur * 100)))


def generate(seed: int):
    """Returns (rows, users): rows are dicts in (user, time) order."""
    rng = Rng(seed)
    rows = []
    for index in range(USERS):
        user = make_user(rng, index)
        txns = []
        rent_day = 1 + rng.integers(0, 3)
        rent = money(user["medians"]["Rent"])
        salary = money(user["medians"]["Salary"])
        sub_amounts = {s: money(rng.choice([4.99, 7.99, 9.99, 12.99, 13.99, 17.99, 59.99 / 12 * 1.0])) for s in user["subscriptions"]}
        sub_days = {s: 1 + rng.integers(0, 28) for s in user["subscriptions"]}
        util_days = {u: 1 + rng.integers(0, 28) for u in user["utilities"]}
        util_base = {u: user["medians"]["Utilities"] * math.exp(rng.normal(0, 0.3)) for u in user["utilities"]}
        for d in range(DAYS):
            day = START + timedelta(days=d)
            weekend = day.weekday() >= 5
            if day.day == rent_day:
                txns.append((day, "Rent", user["landlord"], -rent, "transfer"))
            if day.day == 26:
                txns.append((day, "Salary", "GEHALT " + user["employer"] if rng.random() < 0.5 else "SALARY " + user["employer"], salary, "transfer"))
            for s in user["subscriptions"]:
                if day.day == sub_days[s]:
                    txns.append((day + timedelta(hours=rng.integers(1, 6)), "Subscriptions", s, -sub_amounts[s], "card"))
            for u in user["utilities"]:
                if day.day == util_days[u]:
                    txns.append((day, "Utilities", u, -money(util_base[u] * math.exp(rng.normal(0, 0.08))), "transfer"))
            for name, (merchants, rate, _median, sigma, kind) in CATEGORIES.items():
                if kind not in ("card", "cash") or rate == 0.0:
                    continue
                if name == "Fuel" and not user["car"]:
                    continue
                lam = rate * (1.4 if weekend and name in ("Restaurants", "Entertainment", "Shopping") else 0.6 if weekend and name == "Transport" else 1.0)
                for _ in range(rng.poisson(lam)):
                    favourites = user["favourites"][name]
                    merchant = favourites[int(rng.g.choice(len(favourites), p=zipf_weights(len(favourites))))] if rng.random() < 0.85 else rng.choice(merchants)
                    amount = user["medians"][name] * math.exp(rng.normal(0, sigma))
                    category = name
                    if name == "Cash":
                        amount = max(10, 10 * round(amount / 10))
                    if name == "Shopping" and rng.random() < 0.012:
                        amount *= rng.uniform(5, 20)  # a sofa, a laptop: large, and normal
                    if name == "Transport" and merchant in ("DB VERTRIEB", "SNCF") and rng.random() < 0.15:
                        amount = rng.uniform(60, 180)
                        category = "Travel"
                    if name == "Fuel" and rng.random() < 0.2:
                        amount = rng.uniform(2, 12)
                        category = "Groceries" if user["shop_fuel_as_groceries"] else "Fuel"
                    txns.append((card_time(rng, user, day, name), category, merchant, -money(amount), "card" if kind == "card" else "cash"))
        txns.sort(key=lambda t: t[0])
        # Label everything, then inject anomalies into spending after the first 60 days.
        out = []
        for when, category, merchant, amount, channel in txns:
            payee = render_payee(rng, user, merchant, channel != "transfer")
            label = category
            if rng.random() < LABEL_NOISE:
                label = rng.choice(CATEGORY_NAMES)
            out.append({"user": user["id"], "currency": user["currency"], "time": when, "payee": payee, "amount": amount, "category": label, "anomaly": 0, "kind": ""})
        injected = []
        for row in out:
            if row["amount"] >= 0 or row["time"] < START + timedelta(days=60) or rng.random() >= ANOMALY_RATE:
                continue
            kind = rng.choice(["spike", "card-testing", "duplicate", "odd-hour"], p=[0.35, 0.2, 0.25, 0.2])
            if kind == "spike":
                row["amount"] = -money(abs(row["amount"]) / 100 * rng.uniform(2.5, 8.0))
                row["anomaly"], row["kind"] = 1, kind
            elif kind == "odd-hour":
                if row["category"] in ("Rent", "Utilities", "Subscriptions", "Salary"):
                    continue
                day = row["time"].replace(hour=0, minute=0, second=0)
                row["time"] = day + timedelta(seconds=int(rng.uniform(1.0, 5.0) * 3600))
                row["anomaly"], row["kind"] = 1, kind
            elif kind == "duplicate":
                copy = dict(row)
                copy["time"] = row["time"] + timedelta(seconds=int(rng.uniform(1, 90) * 60))
                copy["anomaly"], copy["kind"] = 1, kind
                injected.append(copy)
            else:
                merchant = rng.choice(SUSPICIOUS_STEMS) + "*" + "".join(chr(65 + rng.integers(0, 26)) for _ in range(5)) + " " + rng.choice(SUSPICIOUS_WORDS)
                for k in range(1 + rng.integers(0, 3)):
                    injected.append(
                        {"user": user["id"], "currency": user["currency"], "time": row["time"] + timedelta(minutes=3 + 7 * k), "payee": merchant, "amount": -money(rng.uniform(0.5, 3.0)), "category": "Shopping", "anomaly": 1, "kind": kind}
                    )
        out.extend(injected)
        out.sort(key=lambda r: (r["time"], r["payee"], r["amount"]))
        for i, row in enumerate(out):
            row["id"] = f"{user['id']}-{i:05d}"
            row["bookedAt"] = row["time"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
            row["bookedAtMs"] = int(row["time"].timestamp()) * 1000
            del row["time"]
        rows.extend(out)
    return rows


def data_hash(rows) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(f"{r['id']}\t{r['user']}\t{r['currency']}\t{r['bookedAt']}\t{r['payee']}\t{r['amount']}\t{r['category']}\t{r['anomaly']}\n".encode("utf-8"))
    return h.hexdigest()
