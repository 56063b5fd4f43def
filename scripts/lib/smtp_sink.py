"""A real SMTP server for Candor's tests (aiosmtpd): accepts every message and writes each one,
as received, to DIR/NNNN.eml (written to a temporary name, then renamed, so a reader never sees
half a message).

    python3 scripts/lib/smtp_sink.py DIR [PORT]

Listens on 127.0.0.1 (PORT 0 or absent: any free port), prints `ready PORT` once listening, and
exits when its standard input closes (the test that started it is gone) or on SIGTERM.

While a file named `refuse` exists in DIR, every recipient is refused for good (550), as a
server refuses an address that does not exist.
"""

import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if os.path.exists(os.path.join(self.folder, "refuse")):
            return "550 5.1.1 <%s>: no such mailbox here (the test sink refuses)" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = os.path.join(self.folder, f"{self.count:04d}.eml")
        head = f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        with open(name + ".tmp", "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(name + ".tmp", name)
        return "250 Message accepted for delivery"


async def main():
    folder = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    os.makedirs(folder, exist_ok=True)
    loop = asyncio.get_running_loop()
    sink = Sink(folder)
    server = await loop.create_server(lambda: SMTP(sink, hostname="sink.test"), "127.0.0.1", port)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    # Standard input closing means whoever started us is gone.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
