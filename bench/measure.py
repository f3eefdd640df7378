"""Times Strata, DuckDB, Polars and the floor on the same files, interleaved.

usage: measure.py DATA_DIR AS_OF ROUNDS

DATA_DIR holds transactions.csv, duckdb.parquet and pyarrow.parquet (see
run.sh). Every tool first runs each job once on each input (the warm-up) and
the outputs must agree row for row; then ROUNDS rounds run every command once
each, in the same order, so that a slow moment of the machine hits every tool
alike. Prints a Markdown table: per input and job the median wall time with
min-max and the peak memory (largest maximum RSS) of each tool, and the ratios.
"""
import os
import statistics
import subprocess
import sys
import time

from agree import rows

BENCH = os.path.dirname(os.path.abspath(__file__))
STRATA = os.path.join(BENCH, "..", "target", "release", "strata")
PYTHON = sys.executable
INPUTS = [("CSV", "transactions.csv"), ("Parquet by DuckDB", "duckdb.parquet"), ("Parquet by pyarrow", "pyarrow.parquet")]
JOBS = ["abc_rfm", "abc_rfm_rules"]


def run(command, memory_file):
    """Runs a command; returns (seconds, peak memory in MiB). Fails loudly.

    Memory comes from GNU time, a small process, because a child forked from
    this interpreter would count the interpreter's pages in its own peak.
    """
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", memory_file, *command],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr.decode(errors='replace')}")
    with open(memory_file, encoding="utf-8") as f:
        return seconds, int(f.read().split()[-1]) / 1024


def commands(data, as_of):
    """Every timed command: (input, job, tool) -> (argv, output file or None)."""
    out = os.path.join(data, "out")
    os.makedirs(out, exist_ok=True)
    table = {}
    for label, name in INPUTS:
        path = os.path.join(data, name)
        stem = name.split(".")[0]
        for job in JOBS:
            strata_out = os.path.join(out, f"strata-{stem}-{job}")
            table[label, job, "Strata"] = (
                [STRATA, "segment", "--quiet", "--no-report", "--columns", "segments", "--transactions", path,
                 "--config", os.path.join(BENCH, f"{job}.toml"), "--as-of", as_of, "--out", strata_out],
                os.path.join(strata_out, "assignments.csv"),
            )
            for tool, script in [("DuckDB", "duckdb_job.py"), ("Polars", "polars_job.py")]:
                result = os.path.join(out, f"{tool.lower()}-{stem}-{job}.csv")
                table[label, job, tool] = ([PYTHON, os.path.join(BENCH, script), path, as_of, job, result], result)
        table[label, None, "floor"] = ([PYTHON, os.path.join(BENCH, "floor.py"), path], None)
        table[label, None, "cat"] = (["sh", "-c", f"cat '{path}' > /dev/null"], None)
    table[None, None, "python -c 'import duckdb'"] = ([PYTHON, "-c", "import duckdb"], None)
    table[None, None, "python -c 'import polars'"] = ([PYTHON, "-c", "import polars"], None)
    return table


def cell(samples):
    """`median s (min-max), peak MiB` of a command's samples."""
    times = [s for s, _ in samples]
    peak = max(m for _, m in samples)
    return f"{statistics.median(times):.2f} s ({min(times):.2f}-{max(times):.2f}), {peak:.0f} MiB"


def median(samples):
    return statistics.median(s for s, _ in samples)


def main(data, as_of, rounds):
    table = commands(data, as_of)
    memory_file = os.path.join(data, "out", "memory.txt")
    # Warm-up, and every output checked against Strata's before anything is timed.
    for argv, _ in table.values():
        run(argv, memory_file)
    for label, _ in INPUTS:
        for job in JOBS:
            reference = rows(table[label, job, "Strata"][1])
            for tool in ["DuckDB", "Polars"]:
                if rows(table[label, job, tool][1]) != reference:
                    sys.exit(f"{tool} disagrees with Strata on {label}, {job}: run agree.py on the files in {data}/out")
            print(f"{label}, {job}: {len(reference)} rows, the three tools agree", file=sys.stderr)
            del reference
    samples = {key: [] for key in table}
    for round_number in range(rounds):
        for key, (argv, _) in table.items():
            samples[key].append(run(argv, memory_file))
        print(f"round {round_number + 1} of {rounds} done", file=sys.stderr)

    start_up = {
        "DuckDB": median(samples[None, None, "python -c 'import duckdb'"]),
        "Polars": median(samples[None, None, "python -c 'import polars'"]),
    }
    start_up["floor"] = start_up["DuckDB"]

    def ratios(label, job, less_start_up):
        strata = median(samples[label, job, "Strata"])
        peers = [(label, job, "DuckDB"), (label, job, "Polars"), (label, None, "floor")]
        return " | ".join(
            f"{strata / (median(samples[key]) - (start_up[key[2]] if less_start_up else 0)):.2f}" for key in peers)

    print("| input | job | Strata | DuckDB | Polars | floor (DuckDB) | Strata / DuckDB | Strata / Polars | Strata / floor |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, _ in INPUTS:
        for job in JOBS:
            cells = [cell(samples[label, job, tool]) for tool in ["Strata", "DuckDB", "Polars"]]
            print(f"| {label} | {job} | {' | '.join(cells)} | {cell(samples[label, None, 'floor'])} | {ratios(label, job, False)} |")
    print()
    print("The same ratios with the interpreter's start-up (the median of `python -c 'import duckdb'` or")
    print("`python -c 'import polars'`) taken off each peer's time:")
    print()
    print("| input | job | Strata / DuckDB | Strata / Polars | Strata / floor |")
    print("|---|---|---|---|---|")
    for label, _ in INPUTS:
        for job in JOBS:
            print(f"| {label} | {job} | {ratios(label, job, True)} |")
    print()
    print("For information: " + "; ".join(
        f"`{key[2]}`{' ' + key[0] if key[0] else ''} {cell(samples[key])}"
        for key in table if key[2] == "cat" or key[0] is None))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
