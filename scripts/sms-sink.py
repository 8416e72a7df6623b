#!/usr/bin/env python3
"""A tiny fake SMS gateway for local runs of Klucznik.

Accepts POST (any path, JSON or form-urlencoded or anything else), appends one
JSON line per request to a JSONL file and answers 200
{"status": "queued", "id": "<uuid>"}. GET / lists how many messages arrived.

    python3 scripts/sms-sink.py [--host 127.0.0.1] [--port 9090] [--out .local/sms/messages.jsonl]
"""

import argparse
import json
import os
import sys
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

KEPT_HEADERS = ("content-type", "authorization", "user-agent", "x-request-id", "traceparent")
LOCK = threading.Lock()


def parse_body(raw: bytes, content_type: str):
    text = raw.decode("utf-8", errors="replace")
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/json" or (not ctype and text.lstrip().startswith(("{", "["))):
        try:
            return json.loads(text)
        except ValueError:
            return text
    if ctype == "application/x-www-form-urlencoded":
        form = parse_qs(text, keep_blank_values=True)
        return {k: v[0] if len(v) == 1 else v for k, v in form.items()}
    return text


class Handler(BaseHTTPRequestHandler):
    server_version = "klucznik-sms-sink/1"
    out_path = ""

    def _reply(self, code: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        msg_id = str(uuid.uuid4())
        headers = {}
        for name in KEPT_HEADERS:
            value = self.headers.get(name)
            if value is not None:
                headers[name] = "<redacted>" if name == "authorization" else value
        record = {
            "time": datetime.now(timezone.utc).isoformat(),
            "id": msg_id,
            "path": self.path,
            "headers": headers,
            "body": parse_body(raw, self.headers.get("Content-Type", "")),
        }
        with LOCK, open(self.out_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._reply(200, {"status": "queued", "id": msg_id})

    do_PUT = do_POST

    def do_GET(self) -> None:  # noqa: N802
        try:
            with open(self.out_path, encoding="utf-8") as f:
                count = sum(1 for _ in f)
        except FileNotFoundError:
            count = 0
        self._reply(200, {"status": "ok", "messages": count, "file": self.out_path})

    def log_message(self, fmt: str, *args) -> None:
        sys.stderr.write("[sms-sink] %s %s\n" % (self.address_string(), fmt % args))


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9090)
    ap.add_argument("--out", default=os.path.join(root, ".local", "sms", "messages.jsonl"))
    args = ap.parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    Handler.out_path = os.path.abspath(args.out)
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    sys.stderr.write(f"[sms-sink] listening on http://{args.host}:{args.port}/, writing {Handler.out_path}\n")
    sys.stderr.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
