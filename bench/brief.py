#!/usr/bin/env python3
"""What a new Claude session is briefed with, on a store of MSP work.

Builds the store bench/recall.py builds (the paraphrase fixture's clients,
decisions, facts and notes, plus routine-ticket noise per client), with its
dates moved so that the fixture's last day is yesterday. Then it fires the
SessionStart hook (msp-recall) in each client's project directory, as Claude
Code does, and counts what the briefing holds: the project's decisions and
facts, its other notes, and routine tickets listed one by one.

    python3 bench/brief.py [--bin target/release] [--before DIR] [--out bench/results/brief.md]

--before DIR measures the hook binaries in DIR as well (an older msp), on the
same store, for a before/after table.
"""
import argparse
import collections
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from recall import load_fixture, run  # noqa: E402

FIXTURE_NOW = dt.datetime(2026, 1, 15, tzinfo=dt.timezone.utc)


def shifted(iso, delta):
    t = dt.datetime.fromisoformat(iso.replace("Z", "+00:00")) + delta
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def session_start(hook, env, cwd, sid):
    event = {"hook_event_name": "SessionStart", "session_id": sid, "cwd": cwd, "source": "startup",
             "transcript_path": ""}
    p = subprocess.run([hook], input=json.dumps(event), env=env, capture_output=True, text=True, cwd=cwd)
    if not p.stdout.strip():
        return ""
    out = json.loads(p.stdout)
    return out.get("hookSpecificOutput", {}).get("additionalContext", "")


def entries(text):
    """The memory entries of a briefing: lines `- <day> · <title>`."""
    return [line.split(" · ", 1)[1].strip() for line in text.splitlines()
            if line.startswith("- ") and " · " in line]


def build_store(msp, data, args):
    """The bench store in a new temp HOME: (env, project dirs, kind of each title)."""
    tmp = tempfile.mkdtemp(prefix="msp-brief-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSP_")}
    env.update(HOME=tmp, MSP_DATA_DIR=os.path.join(tmp, "data"), MSP_CONFIG_DIR=os.path.join(tmp, "cfg"),
               MSP_MEMORY_MODEL_URL="")  # no encoder download at setup: words only
    run(msp, env, "setup", "--no-hooks")
    today = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    delta = today - dt.timedelta(days=1) - FIXTURE_NOW
    workdir, noise_of = load_fixture(msp, env, data, tmp, args.noise, args.seed,
                                     when=lambda iso: shifted(iso, delta))
    # (client, title) -> "decision" | "fact" | "note" | "routine"
    kind_of = {(m["client"], m["title"]): m["kind"] for m in data["memories"]}
    for slug, noise in noise_of.items():
        kind_of.update({(slug, m["title"]): "routine" for m in noise})
    return env, workdir, kind_of


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release", help="directory of msp and msp-recall")
    ap.add_argument("--before", help="directory of an older msp-recall, measured on the same store")
    ap.add_argument("--out", default="bench/results/brief.md")
    ap.add_argument("--noise", type=int, default=150)
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()

    data = json.load(open(os.path.join(HERE, "data", "paraphrase.json")))
    systems = [("after", os.path.abspath(args.bin))]
    if args.before:
        systems.insert(0, ("before", os.path.abspath(args.before)))
    results = {}
    samples = {}
    for name, bindir in systems:
        # Each msp builds its own store (a hook never migrates one).
        msp = os.path.join(bindir, "msp")
        env, workdir, kind_of = build_store(msp, data, args)
        rows = []
        for i, c in enumerate(data["clients"]):
            slug = c["slug"]
            text = session_start(os.path.join(bindir, "msp-recall"), env, workdir[slug], f"brief-{name}-{i}")
            got = entries(text)
            kinds = collections.Counter(kind_of.get((slug, t), "other") for t in got)
            have = collections.Counter(v for (s, _), v in kind_of.items() if s == slug)
            routine_line = next((ln for ln in text.splitlines() if ln.startswith("Routine work")), "")
            rows.append({"slug": slug, "entries": len(got), "kinds": kinds, "have": have,
                         "tokens": len(text) // 4, "routine_line": routine_line})
            if slug == data["clients"][0]["slug"]:
                samples[name] = text
        results[name] = rows

    version = run(os.path.join(os.path.abspath(args.bin), "msp"), dict(os.environ), "--version").strip()
    n = len(data["clients"])
    lines = [
        "# The SessionStart briefing on a store of MSP work",
        "",
        f"- {version}; `python3 bench/brief.py{' --before DIR' if args.before else ''}`",
        f"- store: {len(data['memories'])} fixture memories (decisions, facts, notes of {n} clients, "
        f"bench/data/paraphrase.json) + {args.noise} routine tickets per client (seed {args.seed}), "
        f"{len(data['memories']) + args.noise * n} in all; dates moved so the fixture's last day is yesterday",
        "- each client's project briefed once by the SessionStart hook, default budget (600 tokens)",
        "",
        "| briefing | entries | decisions | facts | notes | routine tickets listed | routine line | ~tokens |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for name, rows in results.items():
        tot = lambda k: sum(r["kinds"][k] for r in rows)  # noqa: E731
        have = lambda k: sum(r["have"][k] for r in rows)  # noqa: E731
        lines.append(
            f"| {name} | {sum(r['entries'] for r in rows) / n:.1f} per project | "
            f"{tot('decision')} of {have('decision')} | {tot('fact')} of {have('fact')} | "
            f"{tot('note')} of {have('note')} | {tot('routine')} | "
            f"{sum(1 for r in rows if r['routine_line'])} of {n} | {sum(r['tokens'] for r in rows) / n:.0f} |")
    lines += ["", "Counts are summed over the projects; \"of N\" is how many the store holds."]
    for name, text in samples.items():
        lines += ["", f"## {name}: the briefing of {data['clients'][0]['slug']}", "", "```", text.strip(), "```"]
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
