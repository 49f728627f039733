"""Reads a Shopcast sales CSV with Python's csv module and with pandas, and prints what each
saw as JSON, so the Rust test can compare both with the ledger. Amounts are summed as
Decimal (csv) and from strings (pandas, dtype=str): no float ever touches money.

usage: read_csv.py FILE.csv
"""
import csv
import json
import sys
from decimal import Decimal

import pandas


def main(path: str) -> None:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    frame = pandas.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")

    def sums(records):
        out = {}
        for row in records:
            entry = out.setdefault(row["currency"], {"gross": Decimal(0), "refunded": Decimal(0), "net": Decimal(0)})
            for key in entry:
                entry[key] += Decimal(row[key])
        return {c: {k: str(v) for k, v in e.items()} for c, e in out.items()}

    print(json.dumps({
        "csv": {
            "columns": list(rows[0].keys()) if rows else [],
            "rows": len(rows),
            "products": [row["product"] for row in rows],
            "sums": sums(rows),
        },
        "pandas": {
            "columns": list(frame.columns),
            "rows": int(len(frame)),
            "products": frame["product"].tolist(),
            "sums": sums(frame.to_dict("records")),
        },
    }, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
