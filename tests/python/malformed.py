"""Malformed requests, sent raw: each gets AWS's status and error code, none
makes the server hang (every socket has a timeout) or die, and it answers a
normal call after each."""

import select
import socket
import time

import rc
from rc import ACCOUNT_ID, eq

MIB = 1024 * 1024


def still_answers(after):
    arn = rc.client("sts").get_caller_identity()["Arn"]
    eq(arn, f"arn:aws:iam::{ACCOUNT_ID}:root", f"a normal call after {after}")


def expect(service, body, status, code, what):
    got_status, _, text = rc.send(*rc.signed(service, body))
    eq((got_status, rc.error_code(text)), (status, code), what)
    still_answers(what)


def test_unknown_action():
    expect("iam", "Action=NoSuchThing&Version=2010-05-08", 400, "InvalidAction", "unknown IAM Action")
    expect("sts", "Action=GetSessionTokens&Version=2011-06-15", 400, "InvalidAction", "unknown STS Action")
    expect("ec2", "Action=DescribeVolumes&Version=2016-11-15", 400, "InvalidAction", "unknown EC2 Action")


def test_missing_action():
    expect("iam", "Version=2010-05-08&RoleName=web", 400, "MissingAction", "IAM without Action")
    expect("iam", "", 400, "MissingAction", "empty body")


def test_bad_percent_encoding():
    expect("iam", "Action=GetRole&Version=2010-05-08&RoleName=%zz", 400, "MalformedQueryString", "%zz")
    expect("iam", "Action=GetRole&Version=2010-05-08&RoleName=web%", 400, "MalformedQueryString", "a lone %")


def test_invalid_utf8():
    body = b"Action=GetRole&Version=2010-05-08&RoleName=w\xff\xfeb"
    expect("iam", body, 400, "MalformedQueryString", "invalid UTF-8 in the body")
    # The same bytes percent-encoded: refused, whatever the code, never a crash.
    status, _, text = rc.send(*rc.signed("iam", "Action=GetRole&Version=2010-05-08&RoleName=w%FF%FEb"))
    assert 400 <= status < 500, f"percent-encoded invalid UTF-8: status {status}: {text[:300]}"
    still_answers("percent-encoded invalid UTF-8")


def read_response(sock, deadline):
    """Reads an HTTP response's head (and what of the body came with it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        assert left > 0, f"no complete response within the timeout: {data[:300]!r}"
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_oversized_body():
    body = b"Action=ListRoles&Version=2010-05-08&PathPrefix=%2F" + b"a" * (MIB + 1)
    headers, _ = rc.signed("iam", body)
    host, port = rc.endpoint()
    deadline = time.monotonic() + rc.SOCKET_TIMEOUT
    with socket.create_connection((host, port), timeout=rc.SOCKET_TIMEOUT) as sock:
        head = "POST / HTTP/1.1\r\nHost: {}:{}\r\n".format(host, port)
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "host")
        head += f"Content-Length: {len(body)}\r\n\r\n"
        sock.sendall(head.encode())
        # Send the body a piece at a time, stopping as soon as the server
        # answers (it may refuse on Content-Length alone).
        sent = 0
        try:
            while sent < len(body):
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(body[sent : sent + 65536])
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = read_response(sock, deadline)
    status_line = response.split(b"\r\n", 1)[0].decode("latin-1")
    assert status_line.startswith("HTTP/1.1 413"), f"a body over 1 MiB: {status_line!r} ({response[:500]!r})"
    text = response.decode("utf-8", "replace")
    if "<Code>" in text:
        eq(rc.error_code(text), "RequestEntityTooLarge", "code of 413")
    still_answers("a body over 1 MiB")
    # Exactly at the limit is not refused for its size.
    body = "Action=ListRoles&Version=2010-05-08&PathPrefix=%2F&Padding="
    body += "a" * (MIB - len(body))
    status, _, text = rc.send(*rc.signed("iam", body))
    assert status != 413, f"a body of exactly 1 MiB was refused: {text[:300]}"
    still_answers("a body of 1 MiB")


def test_broken_connections():
    host, port = rc.endpoint()
    # Not HTTP at all.
    with socket.create_connection((host, port), timeout=rc.SOCKET_TIMEOUT) as sock:
        sock.sendall(b"\x00\x01\x02 hello\r\n\r\n")
        try:
            sock.recv(1024)
        except (ConnectionResetError, socket.timeout):
            pass
    still_answers("bytes that are not HTTP")
    # A request cut off in its body, then the connection closed.
    headers, body = rc.signed("iam", "Action=ListRoles&Version=2010-05-08")
    with socket.create_connection((host, port), timeout=rc.SOCKET_TIMEOUT) as sock:
        head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += "Content-Length: 1000\r\n\r\n"
        sock.sendall(head.encode() + body.encode()[:10])
    still_answers("a request cut off")
    # A connection opened and left idle does not block others.
    idle = socket.create_connection((host, port), timeout=rc.SOCKET_TIMEOUT)
    try:
        still_answers("an idle connection")
    finally:
        idle.close()
    # Not POST.
    status, _, text = rc.send({}, b"", method="GET", path="/")
    assert 400 <= status < 500, f"GET /: {status} {text[:300]}"
    still_answers("GET /")


if __name__ == "__main__":
    rc.main(
        {
            "unknown_action": test_unknown_action,
            "missing_action": test_missing_action,
            "bad_percent_encoding": test_bad_percent_encoding,
            "invalid_utf8": test_invalid_utf8,
            "oversized_body": test_oversized_body,
            "broken_connections": test_broken_connections,
        }
    )
