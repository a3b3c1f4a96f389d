"""Tests for the plain BM25 baseline: python3 -m unittest discover -s bench"""
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bm25 import BM25, STOPWORDS, tokenize  # noqa: E402


class Tokenize(unittest.TestCase):
    def test_lower_cases_splits_on_punctuation_and_drops_stop_words(self):
        self.assertEqual(tokenize("The FortiGate's SSL-VPN, for the Sales team!"),
                         ["fortigate", "ssl", "vpn", "sales", "team"])

    def test_keeps_digits_and_does_not_stem(self):
        self.assertEqual(tokenize("Printers on VLAN 30 were printing"), ["printers", "vlan", "30", "printing"])

    def test_stop_list_is_the_179_word_english_list(self):
        self.assertEqual(len(STOPWORDS), 179)
        self.assertIn("the", STOPWORDS)
        # Words that carry meaning in MSP language are not stop words.
        for w in ("time", "system", "call", "back", "user"):
            self.assertNotIn(w, STOPWORDS)


class Scoring(unittest.TestCase):
    def test_matches_the_bm25_formula_by_hand(self):
        texts = ["vpn vpn server", "printer toner", "vpn printer queue jam"]
        idx = BM25(texts)
        avgdl = (3 + 2 + 4) / 3
        idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # "vpn" is in 2 of 3 documents

        def term(tf, dl):
            return idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * dl / avgdl))

        s = idx.scores("VPN")
        self.assertAlmostEqual(s[0], term(2, 3))
        self.assertAlmostEqual(s[2], term(1, 4))
        self.assertNotIn(1, s)

    def test_ranks_rarer_terms_higher_and_breaks_ties_by_index(self):
        idx = BM25(["printer toner", "printer jam", "printer toner cyan", "scanner"])
        self.assertEqual(idx.top("toner", 10), [0, 2])
        self.assertEqual(idx.top("printer", 2), [0, 1])
        self.assertEqual(idx.top("the of and", 5), [])
        self.assertEqual(idx.top("unknownword", 5), [])

    def test_idf_is_never_negative(self):
        idx = BM25(["vpn"] * 5)
        self.assertGreater(idx.scores("vpn")[0], 0)


if __name__ == "__main__":
    unittest.main()
