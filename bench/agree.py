"""Checks that several assignments files hold the same (type, customer, segment) rows.

usage: agree.py FILE [FILE ...]   (exit status 1 and the first differences when they differ)
"""
import csv
import sys


def rows(path):
    """The set of (segment_type, customer_id, segment) rows of a CSV file with a header."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        return {(r[0], r[1], r[2]) for r in reader}


def main(reference_path, *others):
    reference = rows(reference_path)
    ok = True
    for path in others:
        other = rows(path)
        if other != reference:
            ok = False
            missing = sorted(reference - other)[:5]
            extra = sorted(other - reference)[:5]
            print(f"{path} differs from {reference_path}: {len(reference - other)} rows missing, e.g. {missing}; "
                  f"{len(other - reference)} extra, e.g. {extra}")
    print(f"{len(reference)} rows" + (" agree" if ok else ""))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
