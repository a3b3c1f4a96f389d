#!/usr/bin/env python3
"""When a fact changes, is the newer one what Claude is given?

bench/data/restated.json holds pairs of facts (an older one, a newer one that
restates it with a new value, a question about it) and near misses (a newer
fact about another host, user or setting). Each msp measured imports the
older facts, then the newer ones two months later, as a technician's store
grows; then asks each question through `msp context recall` (what the hook
injects) and counts which of the two facts reach the prompt. Near misses
count the older facts wrongly retired.

    python3 bench/supersede.py [--bin target/release] [--before DIR] [--out bench/results/supersede.md]
"""
import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from recall import run  # noqa: E402
OLD_AT, NEW_AT, NOW = "2026-01-10T10:00:00Z", "2026-03-10T10:00:00Z", "2026-03-20T00:00:00Z"


def measure(bindir, data):
    msp = os.path.join(bindir, "msp")
    tmp = tempfile.mkdtemp(prefix="msp-supersede-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSP_")}
    env.update(HOME=tmp, MSP_DATA_DIR=os.path.join(tmp, "data"), MSP_CONFIG_DIR=os.path.join(tmp, "cfg"),
               MSP_MEMORY_MODEL_URL="")  # no encoder download at setup: words only
    run(msp, env, "setup", "--no-hooks")
    # The near misses belong to another client: recall in the pairs' project
    # never reaches them.
    dirs = {}
    for slug, client in (("site", "Acme"), ("near", "Globex")):
        run(msp, env, "client", "add", client)
        dirs[slug] = os.path.join(tmp, "work", slug)
        os.makedirs(dirs[slug])
        run(msp, env, "project", "add", slug, "--client", client.lower(), "--path", dirs[slug])

    def load(slug, titles, at):
        path = os.path.join(tmp, f"{slug}-{at[:10]}.jsonl")
        with open(path, "w") as f:
            for t in titles:
                f.write(json.dumps({"title": t, "kind": "fact", "project": slug, "created_at": at}) + "\n")
        run(msp, env, "context", "import", path, "--format", "jsonl")

    load("site", [p["old"] for p in data["pairs"]], OLD_AT)
    load("near", [p["old"] for p in data["near_misses"]], OLD_AT)
    load("site", [p["new"] for p in data["pairs"]], NEW_AT)
    load("near", [p["new"] for p in data["near_misses"]], NEW_AT)

    rows = []
    for p in data["pairs"]:
        r = json.loads(run(msp, env, "--json", "context", "recall", "--prompt", p["question"],
                           "--cwd", dirs["site"], "--now", NOW))
        titles = [m["title"] for m in r["memories"]]
        rows.append({"new": p["new"] in titles, "old": p["old"] in titles,
                     "new_first": bool(titles) and titles.index(p["new"]) < titles.index(p["old"])
                     if p["new"] in titles and p["old"] in titles else p["new"] in titles})
    near = json.loads(run(msp, env, "--json", "context", "list", "--project", "near", "--limit", "0"))
    olds = {p["old"] for p in data["near_misses"]}
    wrongly = sum(1 for m in near if m["title"] in olds and m.get("superseded_by"))
    site = json.loads(run(msp, env, "--json", "context", "list", "--project", "site", "--limit", "0"))
    retired = sum(1 for m in site if m.get("superseded_by"))
    version = run(msp, env, "--version").strip()
    return {"rows": rows, "wrongly": wrongly, "retired": retired, "version": version}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release")
    ap.add_argument("--before", help="directory of an older msp, measured the same way")
    ap.add_argument("--out", default="bench/results/supersede.md")
    args = ap.parse_args()
    data = json.load(open(os.path.join(HERE, "data", "restated.json")))
    systems = [("after", os.path.abspath(args.bin))]
    if args.before:
        systems.insert(0, ("before", os.path.abspath(args.before)))
    results = [(name, measure(d, data)) for name, d in systems]
    n, k = len(data["pairs"]), len(data["near_misses"])
    pct = lambda xs: f"{100 * sum(xs) / len(xs):.0f}%"  # noqa: E731
    lines = [
        "# Changed facts: is the newer one injected?",
        "",
        f"- {results[-1][1]['version']}; `python3 bench/supersede.py{' --before DIR' if args.before else ''}`, "
        f"bench/data/restated.json: {n} restated facts with a question each, {k} near misses",
        "- older facts imported first, the newer ones two months later (`context import`); each question "
        "through `msp context recall` (the injection of the prompt hook), words only",
        "",
        "| msp | newer injected | newer alone (older not injected) | older injected | newer above older | "
        "older retired | near misses wrongly retired |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results:
        rows = r["rows"]
        lines.append(f"| {name} | {pct([x['new'] for x in rows])} | {pct([x['new'] and not x['old'] for x in rows])} | "
                     f"{pct([x['old'] for x in rows])} | {pct([x['new_first'] for x in rows])} | "
                     f"{r['retired']} of {n} | {r['wrongly']} of {k} |")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
