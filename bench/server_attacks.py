"""The review server attacked from the network, as in issue 15, with figures.

    python bench/server_attacks.py [--big-mb 200] [--upload-mb 1536]

Starts ``councilreg review`` on a fresh SQLite store in a scratch folder (its own data,
upload and temporary folders) with two users, then:

1. an unsigned-in POST of ``--big-mb`` to ``/login``, declared and then chunked: how
   soon it is refused, how much the client sent, and the server's memory before and after;
2. a signed-in chunked upload of ``--upload-mb``: how much was sent before the refusal
   and what is left in the upload and temporary folders afterwards;
3. 30 wrong passwords for one user, then the other user signs in from the same address;
4. the session cookie replayed after logout;
5. the security headers on each kind of page.

Each line says what was measured and whether it met the goal; the exit status is 1 if any
did not.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

MB = 1024 * 1024
HEADERS = {
    "content-security-policy": "frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
failures: list[str] = []


def verdict(ok: bool, line: str) -> None:
    print(f"{'ok  ' if ok else 'FAIL'}  {line}")
    if not ok:
        failures.append(line)


def councilreg() -> list[str]:
    script = Path(sys.executable).with_name("councilreg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ingest.cli"]


def rss_mb(pid: int) -> float:
    """Resident memory of the process and its children (uvicorn runs in the child)."""
    total = 0
    for task in [pid, *children(pid)]:
        status = Path(f"/proc/{task}/status").read_text()
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return total / 1024


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(scratch: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], dict[str, Path]]]:
    folders = {name: scratch / name for name in ("data", "uploads", "tmp")}
    for folder in folders.values():
        folder.mkdir()
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(folders["data"]),
        "TMPDIR": str(folders["tmp"]),
        "COUNCILREG_DATABASE_URL": f"sqlite:///{scratch / 'store.sqlite3'}",
    }
    for name in ("alice", "bob"):
        subprocess.run(
            [
                *councilreg(),
                "users",
                "add",
                name,
                "--role",
                "admin",
                "--password",
                f"{name}-password-1",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
    port = free_port()
    server = subprocess.Popen(
        [*councilreg(), "review", "--port", str(port), "--upload-dir", str(folders["uploads"])],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, server, folders
    finally:
        server.terminate()
        server.wait(10)


def sign_in(base: str, name: str, password: str) -> tuple[httpx.Client, httpx.Response]:
    client = httpx.Client(base_url=base, follow_redirects=False)
    token = form_token(client.get("/login").text)
    response = client.post("/login", data={"name": name, "password": password, "csrftoken": token})
    return client, response


def form_token(page: str) -> str:
    match = re.search(r'name="csrftoken" value="([^"]+)"', page)
    assert match, "no form token on the page"
    return match.group(1)


def stream_body(
    base: str, path: str, headers: dict[str, str], total: int, chunked: bool, boundary: bytes = b""
) -> tuple[float, int, str]:
    """Send `total` bytes as fast as the server takes them; stop when it answers.
    Returns (seconds to the answer, bytes sent, status line)."""
    host, port = base.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Origin: " + base]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    sock = socket.create_connection((host, int(port)))
    sock.setblocking(False)
    start = time.perf_counter()
    if chunked and boundary:
        boundary = f"{len(boundary):x}\r\n".encode() + boundary + b"\r\n"
    pending = ("\r\n".join(lines) + "\r\n\r\n").encode() + boundary
    sent, answer = 0, b""
    block = b"x" * MB
    while True:
        readable, writable, _ = select.select([sock], [sock], [], 5)
        if readable:
            try:
                answer = sock.recv(4096)
            except ConnectionResetError:
                answer = b"connection reset"
            break
        if not writable:
            answer = b"server stopped reading and did not answer"
            break
        if not pending:
            if sent >= total:
                pending = b"0\r\n\r\n" if chunked else b""
                if not pending:
                    continue
            else:
                pending = f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block
                sent += len(block)
        try:
            pending = pending[sock.send(pending) :]
        except (BrokenPipeError, ConnectionResetError):
            answer = b"connection closed by the server"
            break
    seconds = time.perf_counter() - start
    sock.close()
    return seconds, sent, answer.split(b"\r\n", 1)[0].decode(errors="replace")


def big_unauthenticated_posts(base: str, server: subprocess.Popen[bytes], size_mb: int) -> None:
    before = rss_mb(server.pid)
    for chunked in (False, True):
        seconds, sent, status = stream_body(
            base,
            "/login",
            {
                "Cookie": "councilreg_session=anything",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            size_mb * MB,
            chunked,
        )
        how = "chunked" if chunked else "declared"
        verdict(
            "413" in status and seconds < 1,
            f"{size_mb} MB {how} POST /login without signing in: '{status}' after "
            f"{seconds * 1000:.0f} ms, {sent / MB:.0f} MB sent",
        )
    after = rss_mb(server.pid)
    verdict(
        after - before < 64,
        f"server memory {before:.0f} MB before, {after:.0f} MB after (+{after - before:.0f} MB)",
    )


def chunked_upload(base: str, folders: dict[str, Path], size_mb: int) -> None:
    client, _ = sign_in(base, "alice", "alice-password-1")
    token = form_token(client.get("/upload").text)
    boundary = "councilregbench"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrftoken"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="pack.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    ).encode()
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    seconds, sent, status = stream_body(
        base,
        "/upload",
        {"Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        size_mb * MB,
        chunked=True,
        boundary=head,
    )
    time.sleep(1)
    left = sum(
        f.stat().st_size for d in ("uploads", "tmp") for f in folders[d].rglob("*") if f.is_file()
    )
    verdict(
        "413" in status and sent < size_mb * MB,
        f"{size_mb} MB chunked upload: '{status}' after {seconds:.1f} s, {sent / MB:.0f} MB sent",
    )
    verdict(left == 0, f"left in the upload and temporary folders afterwards: {left} bytes")


def guessing(base: str) -> None:
    codes = []
    for _ in range(30):
        _, response = sign_in(base, "alice", "wrong")
        codes.append(response.status_code)
    refused = codes.count(429)
    first = codes.index(429) + 1 if refused else None
    verdict(
        refused >= 25,
        f"30 wrong passwords for one user: {codes.count(400)} answered 400, {refused} refused "
        f"429 from attempt {first}",
    )
    _, response = sign_in(base, "bob", "bob-password-1")
    verdict(
        response.status_code == 303,
        f"another user signs in from the same address meanwhile: {response.status_code}",
    )


def replay_after_logout(base: str) -> None:
    client, _ = sign_in(base, "bob", "bob-password-1")
    cookies = dict(client.cookies.items())
    token = form_token(client.get("/upload").text)
    client.post("/logout", data={"csrftoken": token})
    replayed = httpx.get(f"{base}/queue", cookies=cookies, follow_redirects=False)
    as_json = httpx.get(f"{base}/queue.json", cookies=cookies, follow_redirects=False)
    verdict(
        replayed.status_code in (302, 303, 307) and as_json.status_code == 401,
        f"cookie replayed after logout: /queue {replayed.status_code} "
        f"to {replayed.headers.get('location')}, /queue.json {as_json.status_code}",
    )


def headers_everywhere(base: str) -> None:
    client, _ = sign_in(base, "bob", "bob-password-1")
    pages = {
        "sign-in page": httpx.get(f"{base}/login"),
        "page": client.get("/queue"),
        "JSON twin": client.get("/queue.json"),
        "CSV export": client.get("/export/register.csv"),
        "static file": client.get("/static/app.css"),
        "not found": client.get("/items/999999"),
        "refused body": httpx.post(f"{base}/login", content=b"x" * (128 * 1024)),
        "cross-origin": httpx.post(f"{base}/logout", headers={"Origin": "http://evil.example"}),
    }
    for name, response in pages.items():
        missing = [
            header
            for header, value in HEADERS.items()
            if value not in response.headers.get(header, "")
        ]
        leaked = response.headers.get("server")
        verdict(
            not missing and leaked is None,
            f"headers on {name} ({response.status_code}): "
            + (f"missing {', '.join(missing)}" if missing else "all present")
            + (f"; server: {leaked}" if leaked else ""),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mb", type=int, default=200)
    parser.add_argument("--upload-mb", type=int, default=1536)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as scratch,
        running_server(Path(scratch)) as (base, server, folders),
    ):
        big_unauthenticated_posts(base, server, args.big_mb)
        chunked_upload(base, folders, args.upload_mb)
        guessing(base)
        replay_after_logout(base)
        headers_everywhere(base)
    print(f"{len(failures)} goal(s) missed" if failures else "every goal met")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
