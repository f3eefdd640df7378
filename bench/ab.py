"""Interleaved A/B timing of two Strata builds on the same file: checks that a
change does not slow the engine down. Runs each job ROUNDS times per build,
alternating which build goes first, and prints the medians and B/A.

    python3 bench/ab.py STRATA_A STRATA_B TRANSACTIONS.csv [ROUNDS]

Build A and B in release mode from two commits (git worktree add, then
cargo build --release); generate the file with
`strata generate --shape skewed --customers 500000 --seed 42 --end 2024-12-31`.
"""
import os
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
JOBS = ["abc_rfm", "abc_rfm_rules"]


def main():
    a, b, data = sys.argv[1:4]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    builds = [("A", a), ("B", b)]
    samples = {}
    for job in JOBS:
        for r in range(rounds):
            for label, exe in builds if r % 2 == 0 else builds[::-1]:
                start = time.perf_counter()
                subprocess.run(
                    [exe, "segment", "--quiet", "--no-report", "--columns", "segments", "--force",
                     "--transactions", data, "--config", os.path.join(BENCH, f"{job}.toml"),
                     "--as-of", "2024-12-31", "--out", f"/tmp/strata-ab-{label}-{job}"],
                    check=True)
                samples.setdefault((job, label), []).append(time.perf_counter() - start)
        with open(f"/tmp/strata-ab-A-{job}/assignments.csv", "rb") as fa, \
                open(f"/tmp/strata-ab-B-{job}/assignments.csv", "rb") as fb:
            if fa.read() != fb.read():
                sys.exit(f"{job}: A and B disagree")
    print("| job | A median (s) | B median (s) | B / A |")
    print("|---|---|---|---|")
    for job in JOBS:
        ma, mb = statistics.median(samples[job, "A"]), statistics.median(samples[job, "B"])
        print(f"| {job} | {ma:.2f} | {mb:.2f} | {mb / ma:.3f} |")


if __name__ == "__main__":
    main()
