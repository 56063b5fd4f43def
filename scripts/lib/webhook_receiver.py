"""A webhook receiver for Candor's tests that checks every request's signature with the PyPI
package `standardwebhooks` (the Standard Webhooks reference implementation for Python), so the
signing is verified by code that is not Candor's.

    python3 scripts/lib/webhook_receiver.py DIR

Listens on 127.0.0.1 (any free port), prints `ready PORT` once listening, and exits when its
standard input closes (the test that started it is gone).

For each POST it writes DIR/NNNN.json (to a temporary name, then renamed), with the status it
answered, the webhook headers, the body, and whether the body verified against the secret in
DIR/secret (`whsec_...`; absent: not verified). While DIR/plan holds status codes separated by
spaces, each request takes (and removes) the first as its answer; with no plan it answers 204.
"""

import http.server
import json
import os
import sys
import threading

from standardwebhooks.webhooks import Webhook

LOCK = threading.Lock()


def next_status(folder):
    plan = os.path.join(folder, "plan")
    if not os.path.exists(plan):
        return 204
    with open(plan) as f:
        codes = f.read().split()
    if not codes:
        return 204
    with open(plan, "w") as f:
        f.write(" ".join(codes[1:]))
    return int(codes[0])


def handler(folder):
    class Handler(http.server.BaseHTTPRequestHandler):
        count = 0

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified, error = False, None
            try:
                with open(os.path.join(folder, "secret")) as f:
                    Webhook(f.read().strip()).verify(body, headers)
                verified = True
            except Exception as e:  # every failure is reported to the test, which fails on it
                error = f"{type(e).__name__}: {e}"
            with LOCK:
                status = next_status(folder)
                Handler.count += 1
                record = {
                    "status": status,
                    "verified": verified,
                    "error": error,
                    "path": self.path,
                    "headers": {k: headers.get(k) for k in ("webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "user-agent")},
                    "body": body,
                }
                name = os.path.join(folder, f"{Handler.count:04d}.json")
                with open(name + ".tmp", "w") as f:
                    json.dump(record, f)
                os.rename(name + ".tmp", name)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


def main():
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"ready {server.server_address[1]}", flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
