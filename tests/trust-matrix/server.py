"""The loopback HTTPS server the clients connect to: https://localhost:PORT/ answers this
run's random token, with the certificate a test CA issued (and no chain: a client must
trust the CA itself). It listens on 127.0.0.1 and, when the machine has it, ::1, since
clients differ in which address of localhost they try first.

Clients that speak a protocol of their own over HTTPS get the token in that protocol's
form (`answer`): git's dumb HTTP ref list, a PEP 503 simple index page for pip, a script
for `uv run`, an S3 ListBuckets answer for the AWS CLI; every other path is the token."""

import hashlib
import secrets
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def answer(path, token):
    """(content type, body) of GET PATH."""
    path = path.split("?", 1)[0]
    if path == "/repo.git/info/refs":  # git ls-remote over the dumb protocol
        return "text/plain", f"{hashlib.sha1(token.encode()).hexdigest()}\trefs/tags/{token}\n"
    if path == "/simple/probe/":  # pip index versions probe: the token as a local version label
        name = f"probe-1.0+{token}.tar.gz"
        return "text/html", f'<!DOCTYPE html><html><body><a href="/files/{name}">{name}</a></body></html>\n'
    if path == "/probe.py":  # uv run URL
        return "text/x-python", f"print({token!r}, end='')\n"
    if path.startswith("/aws"):  # aws s3api list-buckets: the token as a bucket's name
        return "application/xml", ('<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult '
                                   'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>1</ID></Owner>'
                                   f'<Buckets><Bucket><Name>{token}</Name><CreationDate>2024-01-01T00:00:00.000Z'
                                   '</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>')
    return "text/plain", token


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        content_type, text = answer(self.path, self.server.token)
        body = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def finish_request(self, request, client_address):
        request.settimeout(10)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except OSError:  # the client refused the certificate, or went away
            return
        self.RequestHandlerClass(tls, client_address, self)
        try:
            tls.unwrap()  # close_notify: OpenSSL 3 clients take a bare close as an error
        except OSError:
            pass


class _Tls6Server(_TlsServer):
    address_family = socket.AF_INET6


class Server:
    def __init__(self, cert, key):
        self.token = secrets.token_hex(16)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.servers = []

    def __enter__(self):
        self.servers.append(self._serve(_TlsServer, "127.0.0.1", 0))
        self.port = self.servers[0].server_address[1]
        if socket.has_ipv6:
            try:
                self.servers.append(self._serve(_Tls6Server, "::1", self.port))
            except OSError:  # no ::1 here: clients then only find 127.0.0.1
                pass
        self.url = f"https://localhost:{self.port}/"
        return self

    def _serve(self, cls, host, port):
        server = cls((host, port), _Handler)
        server.context, server.token = self.context, self.token
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def __exit__(self, *exc):
        for server in self.servers:
            server.shutdown()
            server.server_close()
