"""Reads every ConfigMap of a namespace page by page (limit, continue) over one keep-alive
HTTPS connection, as client-go's pager does, several times; prints the item count and the
median time of a whole traversal.

Usage: api_paged_list.py SERVER_URL TOKEN CA_FILE NAMESPACE LIMIT ROUNDS [ACCEPT_ENCODING]
Prints "items N median_ms X pages P".
"""
import gzip
import http.client
import json
import ssl
import statistics
import sys
import time
import urllib.parse

url, token, ca, namespace = sys.argv[1:5]
limit, rounds = int(sys.argv[5]), int(sys.argv[6])
encoding = sys.argv[7] if len(sys.argv) > 7 else ""
parsed = urllib.parse.urlparse(url)
context = ssl.create_default_context(cafile=ca)
context.check_hostname = False
connection = http.client.HTTPSConnection(parsed.hostname, parsed.port, context=context, timeout=60)
headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
if encoding:
    headers["Accept-Encoding"] = encoding
times, items, pages = [], 0, 0
for _ in range(rounds):
    started = time.monotonic()
    token_continue, items, pages = "", 0, 0
    while True:
        query = {"limit": str(limit)}
        if token_continue:
            query["continue"] = token_continue
        connection.request("GET", "/api/v1/namespaces/%s/configmaps?%s" % (namespace, urllib.parse.urlencode(query)),
                           headers=headers)
        response = connection.getresponse()
        raw = response.read()
        if response.status != 200:
            sys.exit("LIST answered %d: %s" % (response.status, raw[:300]))
        if response.getheader("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        page = json.loads(raw)
        items += len(page["items"])
        pages += 1
        token_continue = page["metadata"].get("continue", "")
        if not token_continue:
            break
    times.append((time.monotonic() - started) * 1000)
print("items %d median_ms %.1f pages %d" % (items, statistics.median(times), pages))
