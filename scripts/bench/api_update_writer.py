"""Updates ConfigMaps at a fixed rate over one keep-alive HTTPS connection and prints each
update's round trip. Every update carries its send time (CLOCK_MONOTONIC ns) as
data.stamp, so that watchers can time its event.

Usage: api_update_writer.py SERVER_URL TOKEN CA_FILE NAMESPACE RATE SECONDS [OBJECTS]
Prints "rtt_ms" per update, then "errors N".
"""
import http.client
import json
import ssl
import sys
import time
import urllib.parse

url, token, ca, namespace = sys.argv[1:5]
rate, seconds = int(sys.argv[5]), int(sys.argv[6])
objects = int(sys.argv[7]) if len(sys.argv) > 7 else 10
parsed = urllib.parse.urlparse(url)
context = ssl.create_default_context(cafile=ca)
context.check_hostname = False
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/merge-patch+json", "Accept": "application/json"}


def connect():
    return http.client.HTTPSConnection(parsed.hostname, parsed.port, context=context, timeout=30)


connection = connect()
base = "/api/v1/namespaces/%s/configmaps/" % namespace
for i in range(objects):
    body = json.dumps({"metadata": {"name": "upd-%d" % i}, "data": {"stamp": "0"}})
    connection.request("POST", "/api/v1/namespaces/%s/configmaps" % namespace, body,
                       dict(headers, **{"Content-Type": "application/json"}))
    connection.getresponse().read()
print("ready", flush=True)
sys.stdin.readline()  # the watchers are in place
errors = 0
out = []
start = time.monotonic()
for n in range(rate * seconds):
    due = start + n / rate
    delay = due - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    sent = time.monotonic_ns()
    body = json.dumps({"data": {"stamp": str(sent)}})
    try:
        connection.request("PATCH", base + "upd-%d" % (n % objects), body, headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            errors += 1
    except Exception:
        errors += 1
        connection = connect()
        continue
    out.append("%.3f" % ((time.monotonic_ns() - sent) / 1e6))
print("\n".join(out))
print("errors %d" % errors, flush=True)
