"""Plain BM25, the baseline the recall benchmarks compare msp with.

Deliberately the strongest *simple* baseline, not a weak one: lower-cased
`[a-z0-9]+` word tokens, English stop words removed (NLTK's list, in
bench/data/stopwords-en.txt), no stemming, k1 = 1.2, b = 0.75, and the
non-negative Robertson/Sparck Jones idf, log(1 + (N - n + 0.5) / (n + 0.5)).
Ties keep index order, so results are deterministic. Pure Python: no
dependency to install. Tested by bench/test_bm25.py.
"""
import collections
import math
import os
import re

_STOPWORDS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "stopwords-en.txt")
_TOKEN = re.compile(r"[a-z0-9]+")


def load_stopwords(path=_STOPWORDS_PATH):
    with open(path, encoding="utf-8") as f:
        return frozenset(w.strip() for w in f if w.strip() and not w.startswith("#"))


STOPWORDS = load_stopwords()


def tokenize(text, stopwords=STOPWORDS):
    """Lower-cased word tokens, stop words removed, no stemming."""
    return [w for w in _TOKEN.findall(text.lower()) if w not in stopwords]


class BM25:
    """An in-memory BM25 index over a list of texts."""

    def __init__(self, texts, k1=1.2, b=0.75, stopwords=STOPWORDS):
        self.k1, self.b, self.stopwords = k1, b, stopwords
        docs = [tokenize(t, stopwords) for t in texts]
        self.n = len(docs)
        self.lengths = [len(d) for d in docs]
        self.avgdl = (sum(self.lengths) / self.n) if self.n else 0.0
        self.postings = collections.defaultdict(list)  # term -> [(doc, tf)]
        for i, d in enumerate(docs):
            for term, tf in collections.Counter(d).items():
                self.postings[term].append((i, tf))
        self.idf = {t: math.log(1 + (self.n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}

    def scores(self, query):
        """{doc index: score} for the documents sharing a term with `query`."""
        out = collections.defaultdict(float)
        k1, b, avgdl = self.k1, self.b, self.avgdl or 1.0
        for term in set(tokenize(query, self.stopwords)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i, tf in self.postings[term]:
                norm = k1 * (1 - b + b * self.lengths[i] / avgdl)
                out[i] += idf * tf * (k1 + 1) / (tf + norm)
        return out

    def top(self, query, k):
        """Indices of the k best documents, best first; ties in index order."""
        s = self.scores(query)
        return sorted(s, key=lambda i: (-s[i], i))[:k]
