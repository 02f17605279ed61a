"""Runs the relevance set against a server: python3 search_eval.py URL set.tsv MIN_PERCENT."""
import json
import sys
import urllib.parse
import urllib.request

url, path, minimum = sys.argv[1], sys.argv[2], float(sys.argv[3])
cases = []
for line in open(path, encoding="utf-8"):
    if line.startswith("#") or not line.strip() or line.startswith("query\t"):
        continue
    query, expected = line.rstrip("\n").split("\t")
    cases.append((query, [] if expected == "-" else expected.split(",")))


def search(query):
    q = urllib.parse.urlencode({"q": query, "per_page": 3})
    with urllib.request.urlopen(f"{url}/api/v1/procedures?{q}") as res:
        return json.load(res)


found = wanted = empty = nothing = 0
for query, expected in cases:
    page = search(query)
    codes = [item["code"] for item in page["items"]]
    if expected:
        wanted += 1
        if any(code in codes for code in expected):
            found += 1
        else:
            hint = f"  did_you_mean: {page['did_you_mean']}" if page.get("did_you_mean") else ""
            print(f"  miss  {query!r}: wanted {','.join(expected)}, got {codes or 'nothing'}{hint}")
    else:
        nothing += 1
        if page["total"] == 0:
            empty += 1
        else:
            print(f"  found {query!r} is about nothing here, yet found {page['total']}: {codes}")
share = 100 * found / wanted if wanted else 0
print(f"  {found}/{wanted} queries ({share:.1f}%) put the procedure in the first three; "
      f"{empty}/{nothing} queries about nothing here found nothing")
sys.exit(0 if share >= minimum and empty == nothing else 1)
