"""A small OpenID Connect provider for the single sign-on tests, on a free loopback port.

Discovery, JWKS, an authorization endpoint that signs in whoever the test names
(`next_user`) and redirects straight back with a code, and a token endpoint that
trades the code for an RS256 ID token (joserfc) carrying the nonce it was given.
A test can make it misbehave: a wrong nonce, a key the JWKS does not hold.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


class FakeIssuer:
    """Start with `with FakeIssuer() as issuer:`; `issuer.url` is its issuer URL."""

    def __init__(self, client_id: str = "voting", client_secret: str = "sso-secret"):
        self.client_id, self.client_secret = client_id, client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "signing"})
        self.next_user = {"email": "ada@example.org", "email_verified": True}
        self.wrong_nonce = False
        self.foreign_key = False
        self.discovery_reads = 0
        self._codes: dict[str, dict] = {}
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> FakeIssuer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def endpoints(self) -> dict[str, str]:
        return {"authorize": f"{self.url}/authorize", "token": f"{self.url}/token",
                "jwks": f"{self.url}/jwks"}  # fmt: skip

    @Request.application
    def _app(self, request: Request) -> Response:
        if request.path == "/.well-known/openid-configuration":
            self.discovery_reads += 1
            return _json({
                "issuer": self.url, "authorization_endpoint": self.endpoints["authorize"],
                "token_endpoint": self.endpoints["token"], "jwks_uri": self.endpoints["jwks"],
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            })  # fmt: skip
        if request.path == "/jwks":
            return _json(KeySet([self.key]).as_dict(private=False))
        if request.path == "/authorize":
            return self._authorize(request)
        if request.path == "/token" and request.method == "POST":
            return self._token(request)
        return Response("not found", status=404)

    def _authorize(self, request: Request) -> Response:
        args = request.args
        if args.get("client_id") != self.client_id or args.get("response_type") != "code":
            return Response("bad authorization request", status=400)
        code = secrets.token_urlsafe(16)
        self._codes[code] = {"nonce": args.get("nonce"), "user": dict(self.next_user),
                             "redirect_uri": args["redirect_uri"]}  # fmt: skip
        query = urlencode({"code": code, "state": args.get("state", "")})
        return Response(status=302, headers={"Location": f"{args['redirect_uri']}?{query}"})

    def _token(self, request: Request) -> Response:
        auth = request.authorization
        if not auth or (auth.username, auth.password) != (self.client_id, self.client_secret):
            return _json({"error": "invalid_client"}, 401)
        grant = self._codes.pop(request.form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != request.form.get("redirect_uri"):
            return _json({"error": "invalid_grant"}, 400)
        now = int(time.time())
        claims = {"iss": self.url, "sub": f"sub-{code_owner(grant)}", "aud": self.client_id,
                  "iat": now, "exp": now + 300, "nonce": grant["nonce"],
                  **grant["user"]}  # fmt: skip
        if self.wrong_nonce:
            claims["nonce"] = "not-the-nonce"
        key = RSAKey.generate_key(2048, parameters={"kid": "signing"}) if self.foreign_key \
            else self.key  # fmt: skip
        id_token = jwt.encode({"alg": "RS256", "kid": "signing"}, claims, key)
        return _json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                      "expires_in": 300, "id_token": id_token})  # fmt: skip


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def code_owner(grant: dict) -> str:
    """A stable subject for the person the grant signs in."""
    return grant["user"].get("email") or "no-email"
