"""Writes the search and suggest paths of `make bench` from the catalogue's names:
python3 bench_queries.py names.txt search.txt suggest.txt. Seeded, so every run asks the same."""
import random
import sys
import unicodedata
import urllib.parse

names = [line.strip() for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
rng = random.Random(2026)


def unmarked(text):
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def typo(word):
    if len(word) < 5:
        return word
    i = rng.randrange(len(word) - 1)
    kind = rng.choice(["swap", "drop", "double"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


search, suggest = set(), set()
while len(search) < 20000:
    words = rng.choice(names).lower().replace(",", " ").split()
    n = rng.randint(2, min(4, len(words)))
    start = rng.randrange(len(words) - n + 1)
    query = words[start:start + n]
    if rng.random() < 0.7:
        query = [unmarked(w) for w in query]
    if rng.random() < 0.2:
        k = rng.randrange(len(query))
        query[k] = typo(query[k])
    q = urllib.parse.quote(" ".join(query))
    tier = "&tier=province" if rng.random() < 0.33 else ""
    search.add(f"/api/v1/procedures?q={q}{tier}&page={rng.randint(1, 3)}")
while len(suggest) < 5000:
    name = rng.choice(names).lower()
    if rng.random() < 0.7:
        name = unmarked(name)
    cut = rng.randint(2, min(len(name), 30))
    suggest.add("/api/v1/procedures/suggest?q=" + urllib.parse.quote(name[:cut]))
open(sys.argv[2], "w").write("\n".join(sorted(search)) + "\n")
open(sys.argv[3], "w").write("\n".join(sorted(suggest)) + "\n")
