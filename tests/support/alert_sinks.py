#!/usr/bin/python3
"""Local receivers for kepu-server's alerts (tests/integration/server_alerts.sh).

    alert_sinks.py DIR

starts an SMTP sink (python3-aiosmtpd) and a webhook receiver on 127.0.0.1, writes
"SMTP_PORT HTTP_PORT" to DIR/ports once both listen, and keeps every message it gets:
DIR/mail/N.eml (the mail as received, with the envelope in X-Envelope-* lines) and
DIR/hook/N.json (the body; the path, such as /ok, in DIR/hook/N.path). The webhook's
answer depends on its path: /fail answers 500, /hang answers after 60 s, anything else 200.
"""
import http.server
import os
import socket
import sys
import threading
import time

from aiosmtpd.controller import Controller

out = sys.argv[1]
os.makedirs(os.path.join(out, "mail"), exist_ok=True)
os.makedirs(os.path.join(out, "hook"), exist_ok=True)
lock = threading.Lock()
count = {"mail": 0, "hook": 0}


def keep(kind, data, extra=None):
    with lock:
        count[kind] += 1
        n = count[kind]
    base = os.path.join(out, kind, "%d" % n)
    if extra is not None:
        with open(base + ".path", "w") as f:
            f.write(extra)
    tmp = base + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, base + (".eml" if kind == "mail" else ".json"))


class Mail:
    async def handle_DATA(self, server, session, envelope):
        head = "X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (
            envelope.mail_from, ",".join(envelope.rcpt_tos))
        keep("mail", head.encode() + envelope.original_content)
        return "250 OK"


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if self.path.startswith("/hang"):
            time.sleep(60)
        keep("hook", body, self.path)
        code = 500 if self.path.startswith("/fail") else 200
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode":0}')

    def log_message(self, *args):
        pass


# aiosmtpd's Controller cannot take port 0 (it connects to its port to start): a free one.
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
smtp_port = probe.getsockname()[1]
probe.close()
smtp = Controller(Mail(), hostname="127.0.0.1", port=smtp_port)
smtp.start()
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
httpd.daemon_threads = True
with open(os.path.join(out, "ports.tmp"), "w") as f:
    f.write("%d %d\n" % (smtp_port, httpd.server_address[1]))
os.rename(os.path.join(out, "ports.tmp"), os.path.join(out, "ports"))
try:
    httpd.serve_forever()
finally:
    smtp.stop()
