#!/usr/bin/env python3
"""Check the e2e suite against a real Postgres (the oracle for everything not marked as
RisingWave-specific). See README.md, "Differences from Postgres".

Usage: run_on_postgres.py [--host H] [--port P] [--user U] [--db D] [--sqllogictest BIN] [files...]
Without files, every *.slt under this folder is checked.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WHOLE_FILE = re.compile(r"^#\s*tributary: differs from postgres \(whole file\)", re.M)
RECORD_MARK = re.compile(r"^#\s*tributary: differs from postgres", re.M)
RW_ONLY_SQL = re.compile(
    r"^\s*(set\s+(session\s+)?(rw_)?implicit_flush\b|flush\s*;|alter\s+system\b)", re.I | re.M
)


def strip_for_postgres(text):
    """Drop blank-line separated blocks that are marked or that hold RisingWave-only SQL."""
    blocks = re.split(r"\n\s*\n", text)
    kept = []
    for block in blocks:
        lines = block.strip("\n").split("\n")
        body = [l for l in lines if not l.lstrip().startswith("#")]
        if not body:
            continue
        if RECORD_MARK.search(block):
            continue
        sql = "\n".join(body[1:])
        if RW_ONLY_SQL.search(sql.split("----")[0]):
            continue
        kept.append(block.strip("\n"))
    return "\n\n".join(kept) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", default="5432")
    ap.add_argument("--user", default="root")
    ap.add_argument("--db", default="dev")
    ap.add_argument(
        "--sqllogictest",
        default=os.path.expanduser("~/.cache/tributary-tools/bin/sqllogictest"),
    )
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()

    files = args.files
    if not files:
        files = sorted(
            os.path.join(d, f)
            for d, _, fs in os.walk(HERE)
            for f in fs
            if f.endswith(".slt")
        )
    passed, failed, skipped = [], [], []
    for path in files:
        text = open(path).read()
        rel = os.path.relpath(path, HERE)
        if WHOLE_FILE.search(text):
            skipped.append(rel)
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".slt", delete=False) as tmp:
            tmp.write(strip_for_postgres(text))
        res = subprocess.run(
            [args.sqllogictest, "--host", args.host, "--port", args.port, "--user", args.user,
             "--db", args.db, "--engine", "postgres", tmp.name],
            capture_output=True, text=True, env=dict(os.environ, RUST_BACKTRACE="0"),
        )
        os.unlink(tmp.name)
        if res.returncode == 0:
            passed.append(rel)
        else:
            failed.append(rel)
            print(f"---- {rel}\n{res.stdout}{res.stderr}")
    for rel in skipped:
        print(f"skipped (whole file differs from postgres): {rel}")
    print(f"{len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
