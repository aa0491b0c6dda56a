"""A stand-in for Twilio's Messages API (Twilio cannot be reached from here), on a free
loopback port, for the SMS tests. Python's standard library only.

Usage:
  server.py --requests DIR [--fault MODE] [--final STATUS] [--error-code N]

It prints "PORT <n>" on its first stdout line once it listens, writes every request it gets
to DIR as <n>.json (method, path, headers, the form fields and the raw body, and the HTTP
status it answered), and exits when its standard input closes, so it never outlives the test
that started it.

It checks each request as Twilio documents it and answers as Twilio does:
  POST /2010-04-01/Accounts/{AccountSid}/Messages.json   send (201 + the Message resource)
  GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json   status
with HTTP basic auth (account SID and auth token below), form fields To, From or
MessagingServiceSid (exactly one), Body. Errors have Twilio's JSON body
{"code", "message", "more_info", "status"}. Anything OTP Desk must never send (another
method or path, a form field Twilio does not know, both senders, a form that is not
form-encoded) is answered as Twilio would and also listed as a "violation" in the record.

Accepted: account ACCOUNT_SID with token AUTH_TOKEN, sender FROM_NUMBER or the Messaging
Service MESSAGING_SERVICE_SID.

Fault modes:
  none             every message is accepted
  reject-CODE      every message is refused with Twilio's documented answer for CODE:
                   21211, 21608, 21610, 21614, 20003 or 20429
  error-500-once   the first message gets HTTP 500 (Twilio 20500), later ones are accepted
  rate-limit-once  the first message gets HTTP 429 (Twilio 20429), later ones are accepted
  stall            takes the request and never answers
  drop             takes the request and closes the connection without an answer
  status-error     messages are accepted; every status question gets HTTP 500
  status-drop      messages are accepted; every status question has its connection closed

--final says where each accepted message ends up, one step per status question:
  delivered (default)   sent, then delivered
  undelivered           sent, then undelivered with --error-code (default 30003)
  failed                failed with --error-code (default 30008)
  sent                  sent, and never anything more
"""

import argparse
import base64
import json
import os
import re
import socket
import sys
import threading
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "ACa1b2c3d4e5f60718293a4b5c6d7e8f90"
AUTH_TOKEN = "5f2b8c1e9a7d4f3b6e0c2a8d1f9b7e4c"
FROM_NUMBER = "+15017122661"
MESSAGING_SERVICE_SID = "MG9752274e9e519418a7406176694466fa"

SEND_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")
STATUS_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages/(SM[0-9a-f]{32})\.json$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
KNOWN_FIELDS = {"To", "From", "MessagingServiceSid", "Body"}


def twilio_error(code, message, status):
    more = "https://www.twilio.com/docs/errors/%d" % code if code else None
    return status, {"code": code, "message": message, "more_info": more, "status": status}


# Twilio's documented answers for the errors OTP Desk names.
REJECTIONS = {
    "21211": lambda to: twilio_error(21211, "The 'To' number %s is not a valid phone number." % to, 400),
    "21608": lambda to: twilio_error(
        21608,
        "The number %s is unverified. Trial accounts cannot send messages to unverified "
        "numbers; verify %s at twilio.com/user/account/phone-numbers/verified, or purchase "
        "a Twilio number to send messages to unverified numbers." % (to, to),
        400,
    ),
    "21610": lambda to: twilio_error(21610, "Attempt to send to unsubscribed recipient", 400),
    "21614": lambda to: twilio_error(21614, "'To' number is not a valid mobile number", 400),
    "20003": lambda to: twilio_error(20003, "Authenticate", 401),
    "20429": lambda to: twilio_error(20429, "Too Many Requests", 429),
}


class State:
    def __init__(self, requests, fault, final, error_code):
        self.requests = requests
        self.fault = fault
        self.final = final
        self.error_code = error_code
        self.lock = threading.Lock()
        self.count = 0
        self.first_done = False
        self.messages = {}  # sid -> dict(resource, steps left)
        self.stop = threading.Event()

    def record(self, entry):
        with self.lock:
            self.count += 1
            n = self.count
        path = os.path.join(self.requests, "%d.json" % n)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(entry, f, ensure_ascii=False, indent=1)
        # Renamed into place so a reader never sees half a record.
        os.replace(tmp, path)

    def steps(self):
        code = self.error_code
        if self.final == "delivered":
            return [("sent", None), ("delivered", None)]
        if self.final == "undelivered":
            return [("sent", None), ("undelivered", code or 30003)]
        if self.final == "failed":
            return [("failed", code or 30008)]
        return [("sent", None)]


def resource(sid, to, sender, service, body, status, error_code):
    now = formatdate(usegmt=True).replace("GMT", "+0000")
    return {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": error_code,
        "error_message": None,
        "from": sender,
        "messaging_service_sid": service,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": status,
        "subresource_uris": {
            "media": "/2010-04-01/Accounts/%s/Messages/%s/Media.json" % (ACCOUNT_SID, sid)
        },
        "to": to,
        "uri": "/2010-04-01/Accounts/%s/Messages/%s.json" % (ACCOUNT_SID, sid),
    }


def expected_auth():
    pair = ("%s:%s" % (ACCOUNT_SID, AUTH_TOKEN)).encode()
    return "Basic " + base64.b64encode(pair).decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "twilio-stand-in"
    sys_version = ""

    def log_message(self, fmt, *args):
        sys.stderr.write("twilio: " + (fmt % args) + "\n")

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def handle_any(self, method):
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        violations = []
        entry = {
            "method": method,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": raw.decode("utf-8", "replace"),
            "form": {},
            "violations": violations,
        }
        status, answer, action = self.answer(state, method, raw, entry, violations)
        entry["answered"] = status if action == "answer" else action
        state.record(entry)
        if action == "stall":
            state.stop.wait()
            return
        if action == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def answer(self, state, method, raw, entry, violations):
        send = SEND_PATH.match(self.path)
        status_q = STATUS_PATH.match(self.path)
        if not send and not status_q:
            violations.append("unknown path %s" % self.path)
            s, a = twilio_error(20404, "The requested resource %s was not found" % self.path, 404)
            return s, a, "answer"
        if send and method != "POST" or status_q and method != "GET":
            violations.append("%s is not how OTP Desk uses %s" % (method, self.path))
            s, a = twilio_error(20004, "Method not allowed", 405)
            return s, a, "answer"
        if self.headers.get("Authorization") != expected_auth() or (send or status_q).group(1) != ACCOUNT_SID:
            s, a = twilio_error(20003, "Authenticate", 401)
            return s, a, "answer"
        if status_q:
            return self.status(state, status_q.group(2))
        return self.create(state, raw, entry, violations)

    def status(self, state, sid):
        if state.fault == "status-error":
            s, a = twilio_error(20500, "An internal server error has occurred", 500)
            return s, a, "answer"
        if state.fault == "status-drop":
            return 0, None, "drop"
        with state.lock:
            msg = state.messages.get(sid)
            if msg is None:
                s, a = twilio_error(
                    20404, "The requested resource %s was not found" % self.path, 404
                )
                return s, a, "answer"
            if msg["steps"]:
                st, code = msg["steps"].pop(0)
                msg["resource"]["status"] = st
                msg["resource"]["error_code"] = code
            return 200, dict(msg["resource"]), "answer"

    def create(self, state, raw, entry, violations):
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            violations.append("Content-Type %r is not a form" % content_type)
            s, a = twilio_error(None, "The request body must be form-encoded", 400)
            return s, a, "answer"
        try:
            fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
        except (UnicodeDecodeError, ValueError) as e:
            violations.append("the form does not parse: %s" % e)
            s, a = twilio_error(None, "The request body does not parse", 400)
            return s, a, "answer"
        for k, v in fields.items():
            if len(v) != 1:
                violations.append("field %s given %d times" % (k, len(v)))
            if k not in KNOWN_FIELDS:
                violations.append("field %s is not one OTP Desk sends" % k)
        form = {k: v[0] for k, v in fields.items()}
        entry["form"] = form
        to = form.get("To", "")
        sender = form.get("From")
        service = form.get("MessagingServiceSid")
        if not to:
            s, a = twilio_error(21604, "A 'To' phone number is required.", 400)
            return s, a, "answer"
        if not form.get("Body"):
            s, a = twilio_error(21602, "Message body is required.", 400)
            return s, a, "answer"
        if sender is None and service is None:
            s, a = twilio_error(21603, "A 'From' phone number is required.", 400)
            return s, a, "answer"
        if sender is not None and service is not None:
            violations.append("both From and MessagingServiceSid")
            s, a = twilio_error(None, "Give From or MessagingServiceSid, not both.", 400)
            return s, a, "answer"
        if not E164.match(to):
            s, a = REJECTIONS["21211"](to)
            return s, a, "answer"
        if sender is not None and sender != FROM_NUMBER:
            s, a = twilio_error(
                21606,
                "The From phone number %s is not a valid, SMS-capable inbound phone number "
                "or short code for your account." % sender,
                400,
            )
            return s, a, "answer"
        if service is not None and service != MESSAGING_SERVICE_SID:
            s, a = twilio_error(21705, "The Messaging Service Sid %s is invalid." % service, 400)
            return s, a, "answer"

        fault = state.fault
        if fault.startswith("reject-"):
            s, a = REJECTIONS[fault[len("reject-"):]](to)
            return s, a, "answer"
        if fault in ("error-500-once", "rate-limit-once"):
            with state.lock:
                first = not state.first_done
                state.first_done = True
            if first and fault == "error-500-once":
                s, a = twilio_error(20500, "An internal server error has occurred", 500)
                return s, a, "answer"
            if first:
                s, a = REJECTIONS["20429"](to)
                return s, a, "answer"
        if fault == "stall":
            return 0, None, "stall"
        if fault == "drop":
            return 0, None, "drop"

        sid = "SM" + uuid.uuid4().hex
        first_status = "accepted" if service else "queued"
        res = resource(sid, to, sender, service, form["Body"], first_status, None)
        with state.lock:
            state.messages[sid] = {"resource": dict(res), "steps": state.steps()}
        return 201, res, "answer"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", required=True)
    faults = ["none", "error-500-once", "rate-limit-once", "stall", "drop", "status-error", "status-drop"]
    faults += ["reject-" + c for c in REJECTIONS]
    parser.add_argument("--fault", choices=faults, default="none")
    parser.add_argument("--final", choices=["delivered", "undelivered", "failed", "sent"], default="delivered")
    parser.add_argument("--error-code", type=int, default=None)
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.state = State(args.requests, args.fault, args.final, args.error_code)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("PORT %d" % server.server_address[1], flush=True)

    # Ends the server when the test closes our stdin (or dies).
    sys.stdin.buffer.read()
    server.state.stop.set()
    server.shutdown()


if __name__ == "__main__":
    main()
