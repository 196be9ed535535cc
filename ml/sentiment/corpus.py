"""The labelled headline corpus of the news sentiment model (ml/sentiment/README.md).

Every headline is synthetic: written for this project, not taken from any publication. Most are
made by combining a subject (a company, a sector, a market) with a predicate phrase whose
sentiment was labelled by hand (positive, negative or neutral, as a reader holding the subject
would take it); HANDWRITTEN are whole headlines written by hand, used only for evaluation.
Deterministic: SEED fixes every choice, so `python3 ml/sentiment/corpus.py` writes the same file.

The split is by predicate: every fourth predicate of each class (and every headline made from it)
is held out, so the test set measures phrasing the model never saw, not memorised templates.
"""
import hashlib
import json
import os
import random

SEED = 14
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(ROOT, "ml", "sentiment", "data", "headlines.jsonl")
PER_PREDICATE = 12

COMPANIES = [
    "Apple", "Microsoft", "Nvidia", "Alphabet", "Amazon", "Meta", "Tesla", "Broadcom", "PepsiCo",
    "Walmart", "Costco", "Starbucks", "Netflix", "Adobe", "Intel", "AMD", "Qualcomm", "Cisco",
    "Micron", "PayPal", "Airbnb", "Palantir", "Shopify", "Coinbase", "JPMorgan", "Visa",
    "Mastercard", "UnitedHealth", "Pfizer", "Merck", "Exxon Mobil", "Chevron", "Home Depot",
    "Disney", "Oracle", "Salesforce", "IBM", "Goldman Sachs", "Morgan Stanley", "Boeing",
    "Caterpillar", "Ford", "General Motors", "Uber", "SAP", "Siemens", "Allianz", "BASF", "Bayer",
    "BMW", "Volkswagen", "Adidas", "Deutsche Bank", "Airbus", "LVMH", "TotalEnergies", "Sanofi",
    "ASML", "ING", "Heineken", "Shell", "AstraZeneca", "HSBC", "Unilever", "BP", "Barclays",
    "Vodafone", "Nestle", "Novartis", "Roche", "UBS", "Ferrari", "Santander", "Volvo", "Ericsson",
    "Novo Nordisk", "Nokia", "Equinor", "Toyota", "Sony", "SoftBank", "Nintendo", "Honda",
    "Tencent", "Alibaba", "Xiaomi", "BYD", "BHP", "Samsung", "Infosys", "TSMC",
]
GROUPS = [
    "Chipmakers", "Big banks", "Oil majors", "Carmakers", "Airlines", "Retailers", "Drugmakers",
    "Regional lenders", "Luxury groups", "Miners", "Homebuilders", "Utilities", "Insurers",
    "Tech stocks", "European shares", "Asian markets", "Wall Street", "The S&P 500", "The Nasdaq",
    "The FTSE 100", "The DAX", "Bitcoin", "Ether", "Crypto stocks", "Gold", "Crude oil",
    "Treasury yields", "The dollar", "The euro", "The yen", "Emerging markets", "Small caps",
]

# (predicate, subject kind): "c" a company, "g" a group or market, "*" either.
POSITIVE = [
    ("beats quarterly earnings forecasts", "c"), ("raises its full-year outlook", "c"),
    ("shares surge after strong results", "c"), ("wins a multibillion-dollar contract", "c"),
    ("posts record revenue", "c"), ("announces a larger share buyback", "c"),
    ("is upgraded to buy by analysts", "c"), ("hits an all-time high", "*"),
    ("profit jumps on robust demand", "c"), ("expands margins as costs ease", "c"),
    ("rallies on an upbeat outlook", "*"), ("lifts its dividend", "c"),
    ("climbs after regulators approve its deal", "c"), ("gains as sales top estimates", "c"),
    ("soars on a breakthrough drug trial", "c"), ("rebounds strongly from last week's losses", "*"),
    ("extends its winning streak", "*"), ("secures fresh funding at a higher valuation", "c"),
    ("reports better-than-expected growth", "c"), ("jumps as orders accelerate", "c"),
    ("advances as investors cheer the results", "*"), ("outperforms as demand booms", "*"),
    ("recovers as fears ease", "*"), ("rises after a bullish analyst note", "*"),
    ("wins approval for its new product", "c"), ("returns to profit ahead of schedule", "c"),
    ("sees strong holiday sales", "c"), ("raises guidance after a blowout quarter", "c"),
    ("posts its best month since 2020", "*"), ("climbs to a record close", "*"),
    ("upgrades its margin target", "c"), ("cuts debt faster than planned", "c"),
]
NEGATIVE = [
    ("misses revenue estimates", "c"), ("cuts its outlook", "c"),
    ("shares tumble after weak guidance", "c"), ("faces a regulatory probe", "c"),
    ("announces thousands of layoffs", "c"), ("recalls vehicles over a safety defect", "c"),
    ("is downgraded to sell", "c"), ("posts a surprise loss", "c"),
    ("warns of slowing demand", "*"), ("suspends its dividend", "c"),
    ("is hit by a major data breach", "c"), ("is sued by shareholders", "c"),
    ("slumps to a two-year low", "*"), ("plunges as profit falls short", "c"),
    ("slides on recession fears", "*"), ("drops after a profit warning", "c"),
    ("sinks as sales disappoint", "c"), ("loses a key customer", "c"),
    ("is fined by regulators", "c"), ("falls as costs soar", "*"),
    ("tumbles as investors flee", "*"), ("suffers its worst week in a year", "*"),
    ("writes down billions in bad loans", "c"), ("halts production after a fire", "c"),
    ("struggles as margins shrink", "*"), ("crashes after the fraud allegations", "c"),
    ("declines amid weak orders", "*"), ("slashes its forecast", "c"),
    ("faces a strike at its main plant", "c"), ("misses targets again", "c"),
    ("extends its losing streak", "*"), ("retreats as the selloff deepens", "*"),
]
NEUTRAL = [
    ("names a new chief financial officer", "c"), ("to report results next week", "c"),
    ("schedules an investor day", "c"), ("holds its annual meeting", "c"),
    ("files its quarterly report", "c"), ("moves its headquarters", "c"),
    ("shares little changed", "*"), ("unveils a new logo", "c"),
    ("trades flat ahead of the data", "*"), ("confirms the date of its earnings call", "c"),
    ("appoints a new board member", "c"), ("opens an office in Singapore", "c"),
    ("changes its ticker symbol", "c"), ("completes a planned reorganisation", "c"),
    ("holds steady in quiet trading", "*"), ("publishes its sustainability report", "c"),
    ("is unchanged at the open", "*"), ("hosts a conference for developers", "c"),
    ("renames its cloud division", "c"), ("to present at an industry conference", "c"),
    ("is mixed as investors wait for the central bank", "*"), ("ends the session near flat", "*"),
    ("updates its website for customers", "c"), ("reshuffles its management team", "c"),
    ("confirms talks with a supplier", "c"), ("to hold a capital markets day", "c"),
    ("is steady in thin holiday trading", "*"), ("edges sideways before the jobs report", "*"),
    ("completes its annual audit", "c"), ("lists bonds in Luxembourg", "c"),
    ("keeps its guidance unchanged", "c"), ("marks its 50th anniversary", "c"),
]
# A move and its reason, composed: a rise for a good reason is positive, a fall for a bad one
# negative, a move in quiet trading takes the move's sign. Mixed ones ("rises despite ...") are not made.
UP = ["rises", "climbs", "jumps", "gains", "surges", "soars", "rallies", "advances", "rebounds", "edges higher", "spikes higher", "pops"]
DOWN = ["falls", "drops", "slides", "sinks", "tumbles", "plunges", "slumps", "declines", "retreats", "edges lower", "sheds ground", "dives"]
GOOD = [
    "after strong results", "as sales top estimates", "on upbeat guidance", "after an analyst upgrade",
    "on record demand", "as profit beats forecasts", "after a takeover offer", "on hopes of rate cuts",
    "as margins improve", "after a bumper quarter", "on robust orders", "as costs fall",
]
BAD = [
    "after weak results", "as sales miss estimates", "on a gloomy outlook", "after an analyst downgrade",
    "on falling demand", "as profit disappoints", "after a profit warning", "on fears of higher rates",
    "as margins shrink", "after a dismal quarter", "on weak orders", "as costs rise",
]
QUIET = ["in quiet trading", "ahead of the results", "before the central bank decision", "at the open", "in late trading", "as traders wait for data"]
PER_MOVE = 2

# Whole macro headlines, labelled directly (some subjects would be odd in front of them).
MACRO = {
    "positive": [
        "Inflation cools more than expected", "Unemployment falls to a record low",
        "Economy grows faster than forecast", "Consumer confidence rises to a three-year high",
        "Factory output rebounds sharply", "Retail sales beat expectations",
        "Mortgage rates fall to the lowest in a year", "Exports surge as demand recovers",
        "Markets cheer a trade deal", "Home sales climb as rates ease",
    ],
    "negative": [
        "Recession fears grow as orders collapse", "Inflation accelerates again",
        "Unemployment rises for a third month", "Consumer spending falls sharply",
        "Factory activity shrinks at the fastest pace since 2020", "Home prices drop as mortgage costs bite",
        "Bank failures rattle investors", "Trade war escalates as tariffs rise",
        "Oil spikes as supply fears mount", "Bond markets sell off on debt worries",
    ],
    "neutral": [
        "Central bank holds rates steady as expected", "Fed minutes due on Wednesday",
        "Jobs report scheduled for Friday", "Finance ministers meet in Brussels",
        "Statistics office publishes revised GDP figures", "Treasury auctions ten-year notes",
        "Central bank governor to speak on Thursday", "Markets closed for the holiday",
        "Inflation in line with forecasts", "Housing starts unchanged in November",
    ],
}
CODAS = ["", "", "", "", " in early trading", " on Tuesday", " as markets open", " in Europe", " in Asia", " after the bell"]

# Whole headlines written by hand, never generated, never trained on: a second held-out check.
HANDWRITTEN = {
    "positive": [
        "Apple smashes expectations with blowout iPhone quarter",
        "Nvidia stock soars as AI chip demand keeps booming",
        "Ford profit beats forecasts, shares rally",
        "Airbus lifts delivery target after record orders",
        "Banks rally as bond yields stabilise",
        "Pfizer wins approval for its new vaccine",
        "Stocks climb to record highs on strong jobs data",
        "Microsoft cloud growth tops estimates, shares jump",
        "Toyota raises profit forecast on a weaker yen",
        "Shopify surges after upbeat holiday sales",
        "Unilever margins improve as price rises stick",
        "Bitcoin rebounds above 100,000 as inflows return",
        "Coinbase gains after a surprise quarterly profit",
        "Inflation eases, lifting hopes for rate cuts",
        "Samsung earnings jump on memory chip recovery",
    ],
    "negative": [
        "Tesla shares slump after deliveries disappoint",
        "Intel cuts jobs as losses deepen",
        "Boeing faces new probe after a safety failure",
        "Stocks sink as recession worries spread",
        "Deutsche Bank hit with a record fine",
        "Oil prices crash on a glut of supply",
        "Netflix loses subscribers for the first time in a decade",
        "Chipmaker warns of a sharp drop in orders",
        "Crypto exchange halts withdrawals, bitcoin tumbles",
        "Volkswagen slashes outlook as China sales slide",
        "Home prices fall for a sixth straight month",
        "Bayer shares plunge after a court loss",
        "Retailer files for bankruptcy protection",
        "Layoffs mount as the tech slump drags on",
        "Nike misses estimates and cuts guidance",
    ],
    "neutral": [
        "Amazon to hold its annual shareholder meeting in May",
        "Siemens names a new head of its rail unit",
        "ECB publishes the account of its October meeting",
        "Alphabet schedules its third-quarter earnings call",
        "Oracle moves its annual conference to Las Vegas",
        "Markets flat ahead of the Fed decision",
        "HSBC appoints a new chair",
        "Nestle completes its planned board rotation",
        "BMW to present its new model at the Munich show",
        "Visa files its annual report",
        "SAP hosts its developer conference in Berlin",
        "Treasury to publish borrowing estimates on Monday",
        "Sony reorganises its gaming division",
        "Gold steady in quiet trading",
        "Rio Tinto confirms the date of its investor seminar",
    ],
}


def headline(subject: str, predicate: str, coda: str) -> str:
    # "shares little changed" reads as "Apple shares little changed"; "to report" as "Apple to report".
    return f"{subject} {predicate}{coda}"


def build():
    rng = random.Random(SEED)
    rows = []
    for label, predicates in (("positive", POSITIVE), ("negative", NEGATIVE), ("neutral", NEUTRAL)):
        for n, (predicate, kind) in enumerate(predicates):
            split = "test" if n % 4 == 3 else "train"
            subjects = COMPANIES if kind == "c" else GROUPS if kind == "g" else COMPANIES + GROUPS
            seen = set()
            for _ in range(PER_PREDICATE):
                text = headline(rng.choice(subjects), predicate, rng.choice(CODAS))
                if text in seen:
                    continue
                seen.add(text)
                rows.append({"text": text, "label": label, "split": split, "group": f"{label}:{n}"})
    for moves, sign in ((UP, "positive"), (DOWN, "negative")):
        for m, move in enumerate(moves):
            for reasons, label in ((GOOD if sign == "positive" else BAD, sign), (QUIET, sign)):
                for r, reason in enumerate(reasons):
                    split = "test" if m % 4 == 3 or r % 4 == 3 else "train"
                    for _ in range(PER_MOVE if reasons is not QUIET else 1):
                        subject = rng.choice(COMPANIES + GROUPS)
                        rows.append({"text": f"{subject} {move} {reason}", "label": label, "split": split, "group": f"move-{sign}:{m}:{r}"})
    for label, texts in MACRO.items():
        for n, text in enumerate(texts):
            rows.append({"text": text, "label": label, "split": "test" if n % 4 == 3 else "train", "group": f"macro-{label}:{n}"})
    for label, texts in HANDWRITTEN.items():
        for n, text in enumerate(texts):
            rows.append({"text": text, "label": label, "split": "handwritten", "group": f"hand-{label}:{n}"})
    return rows


def write(rows) -> str:
    os.makedirs(os.path.dirname(CORPUS), exist_ok=True)
    body = "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
    with open(CORPUS, "w", encoding="utf-8") as f:
        f.write(body)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


if __name__ == "__main__":
    rows = build()
    digest = write(rows)
    print(f"{len(rows)} headlines, sha256 {digest[:16]} -> {os.path.relpath(CORPUS, ROOT)}")
