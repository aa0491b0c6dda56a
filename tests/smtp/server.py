"""A real SMTP server (aiosmtpd) for the delivery tests, on a free loopback port.

Usage:
  server.py --cert C --key K --maildir DIR [--tls starttls|implicit] [--fault MODE]

It prints "PORT <n>" on its first stdout line once it listens, writes every accepted
message to DIR as <n>.eml (exactly the bytes the client sent), and exits when its standard
input closes, so it never outlives the test that started it.

Accepted credentials: user "desk@example.com" with password "s3cret-app-pass" (PLAIN,
LOGIN), and the XOAUTH2 bearer token "ya29.test-access-token" for the same user.

Fault modes (each imitates a reply real servers give; the texts are Microsoft 365's):
  reject-password   535 5.7.8 for every password
  tenant-disabled   535 5.7.139 SmtpClientAuthentication is disabled for the Tenant
  basic-removed     550 5.7.30 Basic authentication is not supported
  transient-421     421 on the first message, then accepted
  transient-451     451 on the first message, then accepted
  permanent         550 5.1.1 for every recipient
  drop-data         closes the connection after the message data, before replying
  stall             accepts the TCP connection and never says anything
  stall-data        takes the message data and never replies
  login-only        offers AUTH LOGIN but not PLAIN (and accepts the password)
"""

import argparse
import asyncio
import logging
import warnings
import base64
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USER = b"desk@example.com"
PASSWORD = b"s3cret-app-pass"
TOKEN = "ya29.test-access-token"

TENANT_DISABLED = (
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled "
    "for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
)
BASIC_REMOVED = "550 5.7.30 Basic authentication is not supported for Client Submission."


class Handler:
    def __init__(self, maildir, fault):
        self.maildir = maildir
        self.fault = fault
        self.count = 0
        self.transient_done = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.fault == "permanent":
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fault == "drop-data":
            server.transport.abort()
            return "250 never sent"
        if self.fault == "stall-data":
            await asyncio.sleep(3600)
        if self.fault in ("transient-421", "transient-451") and not self.transient_done:
            self.transient_done = True
            if self.fault == "transient-421":
                return "421 4.7.0 Too many connections, try again later"
            return "451 4.3.0 Temporary server error, try again later"
        self.count += 1
        path = os.path.join(self.maildir, "%d.eml" % self.count)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        # Renamed into place so a reader never sees half a message.
        os.replace(tmp, path)
        return "250 2.0.0 OK queued as %d" % self.count

    async def auth_XOAUTH2(self, server, args):
        # The client sends base64("user=U\x01auth=Bearer T\x01\x01") as its initial response.
        if len(args) != 2:
            return AuthResult(success=False, handled=False, message="501 5.5.2 Syntax error")
        try:
            raw = base64.b64decode(args[1], validate=True).decode()
        except Exception:
            return AuthResult(success=False, handled=False, message="501 5.5.2 Can't decode")
        fields = dict(p.split("=", 1) for p in raw.split("\x01") if "=" in p)
        ok = fields.get("user") == USER.decode() and fields.get("auth") == "Bearer " + TOKEN
        if ok and self.fault not in ("reject-password",):
            return AuthResult(success=True, auth_data=fields.get("user"))
        return AuthResult(
            success=False, handled=False, message="535 5.7.3 Authentication unsuccessful"
        )


def authenticator(fault):
    def check(server, session, envelope, mechanism, auth_data):
        if fault == "tenant-disabled":
            return AuthResult(success=False, handled=False, message=TENANT_DISABLED)
        if fault == "basic-removed":
            return AuthResult(success=False, handled=False, message=BASIC_REMOVED)
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == USER
            and auth_data.password == PASSWORD
            and fault != "reject-password"
        )
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(
            success=False,
            handled=False,
            message="535 5.7.8 Username and Password not accepted",
        )

    return check


async def stall(reader, writer):
    # Holds the connection open and says nothing, like a server behind a broken proxy.
    await reader.read()
    writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--tls", choices=["starttls", "implicit"], default="starttls")
    parser.add_argument(
        "--fault",
        choices=[
            "none",
            "reject-password",
            "tenant-disabled",
            "basic-removed",
            "transient-421",
            "transient-451",
            "permanent",
            "drop-data",
            "stall",
            "stall-data",
            "login-only",
        ],
        default="none",
    )
    args = parser.parse_args()
    # aiosmtpd logs every session (and a deprecation notice per AUTH) on stderr.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="aiosmtpd")

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    handler = Handler(args.maildir, args.fault)
    loop = asyncio.get_running_loop()

    if args.fault == "stall":
        server = await asyncio.start_server(stall, "127.0.0.1", 0)
    else:
        implicit = args.tls == "implicit"

        def factory():
            return SMTP(
                handler,
                hostname="mail.test",
                # STARTTLS is offered and required on the plain listener; on the implicit
                # listener the connection is already encrypted.
                tls_context=None if implicit else ctx,
                require_starttls=not implicit,
                auth_required=True,
                # aiosmtpd only knows about TLS it negotiated itself (STARTTLS); on the
                # implicit listener every connection is TLS before the first byte.
                auth_require_tls=not implicit,
                authenticator=authenticator(args.fault),
                auth_exclude_mechanism=["PLAIN"] if args.fault == "login-only" else None,
                timeout=30,
                loop=loop,
            )

        server = await loop.create_server(
            factory, "127.0.0.1", 0, ssl=ctx if implicit else None
        )

    port = server.sockets[0].getsockname()[1]
    print("PORT %d" % port, flush=True)

    # Ends the server when the test closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
