"""Slow clients against a running server: how long a normal request waits while N connections
trickle their headers, their bodies (a 4,000-byte form) or half and half (--kind), one byte
every half second. Run it against bare gunicorn, then against nginx in front (README, "Production"):

    .venv/bin/python bench/slow_clients.py --port 8000 --clients 8
    .venv/bin/python bench/slow_clients.py --port 443 --tls --host-name reemploi.example.org

Prints the normal request's time before the slow clients start and while they trickle.
"""

import argparse
import http.client
import socket
import ssl
import threading
import time

TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE  # a bench, against a test certificate as well


def _socket(args) -> socket.socket:
    sock = socket.create_connection((args.address, args.port), timeout=120)
    return TLS.wrap_socket(sock, server_hostname=args.host_name) if args.tls else sock


def normal_request(args) -> tuple[int, float]:
    started = time.monotonic()
    sock = _socket(args)
    connection = http.client.HTTPConnection(args.address, args.port, timeout=120)
    connection.sock = sock
    connection.request("GET", args.path, headers={"Host": args.host_name})
    status = connection.getresponse().status
    connection.close()
    return status, time.monotonic() - started


def trickle(args, first: bytes, drip: bytes, until: float) -> None:
    try:
        with _socket(args) as sock:
            sock.sendall(first)
            for byte in drip:
                if time.monotonic() > until:
                    return
                sock.sendall(bytes([byte]))
                time.sleep(0.5)
    except OSError:
        return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--host-name", default="127.0.0.1", help="Host header and TLS name")
    parser.add_argument("--path", default="/login/")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20, help="how long the clients trickle")
    parser.add_argument("--requests", type=int, default=3)
    parser.add_argument("--kind", choices=["mixed", "headers", "bodies"], default="mixed")
    args = parser.parse_args()

    baseline = [normal_request(args) for _ in range(args.requests)]
    until = time.monotonic() + args.seconds
    head = f"GET {args.path} HTTP/1.1\r\nHost: {args.host_name}\r\n".encode()
    body = (
        f"POST {args.path} HTTP/1.1\r\nHost: {args.host_name}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n"
    ).encode()
    slow = [
        threading.Thread(
            target=trickle,
            args=(args, head, b"X-Slow: " + b"a" * 1000, until)
            if args.kind == "headers" or (args.kind == "mixed" and i % 2 == 0)
            else (args, body, b"a" * 4000, until),
            daemon=True,
        )
        for i in range(args.clients)
    ]
    for thread in slow:
        thread.start()
    time.sleep(2)
    during = [normal_request(args) for _ in range(args.requests)]

    def show(replies):
        return ", ".join(f"{status} in {seconds:.2f} s" for status, seconds in replies)

    print(f"{args.address}:{args.port}{' (TLS)' if args.tls else ''}, {args.clients} slow clients")
    print(f"  before they start: {show(baseline)}")
    print(f"  while they trickle: {show(during)}")


if __name__ == "__main__":
    main()
