"""Who is calling, and which access groups the server gives them.

The caller proves who they are with an API key or a JWT; the access groups come only from the
server's auth config, never from the request (a client that names its own groups is refused
elsewhere, in docvec.service.guard). The auth config is YAML:

    api_keys:                          # hashed keys only, never the key itself
      - principal: support-bot
        key_sha256: "sha256:3f5a..."   # `docvec serve --hash-key KEY` prints it; bare 64-hex accepted too
    jwt:                               # optional
      algorithm: RS256                 # exactly one of HS256, RS256, ES256; the token's own alg is never trusted
      public_key_file: idp.pem         # RS256/ES256: a PEM public key, relative to this file
      # secret_env: DOCVEC_JWT_SECRET  # HS256 instead: the secret (>= 32 bytes) comes from this env var
      issuer: https://idp.example.com  # required
      audience: docvec                 # required
      principal_claim: sub             # default sub
      groups_claim: roles              # optional: a string or list of strings, each mapped through `claims`
      leeway_seconds: 30               # default 30, 0..300 (clock skew for exp, nbf, iat)
    principals:                        # principal -> access groups
      support-bot: [public]
      alice@example.com: [public, staff]
    claims:                            # value of groups_claim -> access groups (needs jwt.groups_claim)
      hr-team: [hr]

A principal's groups are the sorted, unique union of `principals[name]` and `claims[value]` for
each value of the token's groups claim. Claim values are only ever mapped, never used as groups,
so an identity provider cannot grant what the config does not say. A caller the config does not
map is authenticated with no groups: it can read nothing. The config is checked strictly at load
(AuthConfigError naming the file and the key) so that a typo fails the start, not a request.

Requests carry `X-API-Key: <key>` or `Authorization: Bearer <key or JWT>`; a bearer value that
starts with API_KEY_PREFIX is an API key, anything else a JWT. Error messages (AuthError) are
safe to show the client: they never contain the key, the token or the HS256 secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jwt
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

API_KEY_PREFIX = "dvk_"  # generated keys start with it: tells an API key from a JWT in `Authorization: Bearer`
AUTH_CONFIG_ENV = "DOCVEC_AUTH_CONFIG"  # path of the YAML config when --auth is not given

METHOD_API_KEY = "api_key"
METHOD_JWT = "jwt"
HASH_PREFIX = "sha256:"
MAX_API_KEY_CHARS = 512  # longer is no key we issued; bounds the hashing work per request
MAX_TOKEN_CHARS = 8192  # a JWT with a few claims is well under 2 KiB; bounds the parsing work
ALGORITHMS = ("HS256", "RS256", "ES256")
MIN_HMAC_SECRET_BYTES = 32  # RFC 7518 3.2: an HS256 key at least as long as the hash output
MIN_RSA_BITS = 2048
DEFAULT_PRINCIPAL_CLAIM = "sub"
DEFAULT_LEEWAY_SECONDS = 30
MAX_LEEWAY_SECONDS = 300

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TOP_KEYS = frozenset({"api_keys", "jwt", "principals", "claims"})
_API_KEY_KEYS = frozenset({"principal", "key_sha256"})
_JWT_KEYS = frozenset(
    {
        "algorithm",
        "secret_env",
        "public_key_file",
        "issuer",
        "audience",
        "principal_claim",
        "groups_claim",
        "leeway_seconds",
    }
)
# PyJWT's failures, most specific first (several are subclasses of others), as client-safe reasons.
_JWT_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidIssuedAtError, "bad iat claim"),
    (jwt.exceptions.InvalidSubjectError, "the sub claim is not a string"),
    (jwt.InvalidAlgorithmError, "token algorithm not accepted"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.DecodeError, "malformed token"),
)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its name and the access groups the server maps it to."""

    name: str  # the API key's principal, or the JWT's principal claim
    groups: tuple[str, ...]  # from the server-side mapping only; () = may read nothing
    method: str  # METHOD_API_KEY or METHOD_JWT


class AuthError(Exception):
    """Authentication failed; `str(error)` is safe to show a client (never echoes the secret/token)."""

    status: int = 401


class AuthConfigError(ValueError):
    """The auth config file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class JwtSettings:
    """How tokens are verified: one algorithm and key fixed by the server, the claims required."""

    algorithm: str
    key: Any = field(repr=False)  # the HS256 secret (bytes) or a cryptography public key; never printed
    issuer: str
    audience: str
    principal_claim: str
    groups_claim: str | None
    leeway_seconds: int


@dataclass(frozen=True)
class AuthConfig:
    """The parsed auth config; built only by load_auth_config / parse_auth_config."""

    api_keys: tuple[tuple[str, str], ...]  # (normalised "sha256:<hex>", principal)
    jwt: JwtSettings | None
    principals: Mapping[str, tuple[str, ...]]
    claims: Mapping[str, tuple[str, ...]]


def hash_api_key(key: str) -> str:
    """The form an API key is stored in: "sha256:" + the hex SHA-256 of its UTF-8 bytes."""
    return HASH_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_api_key() -> str:
    """A new random API key (256 bits), recognisable by its prefix."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key given twice (YAML would silently keep the last one)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key: construct_mapping reports it
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def load_auth_config(path: str | os.PathLike[str]) -> AuthConfig:
    """Read and check the YAML auth config; relative key files are resolved against its folder."""
    config_path = Path(path)
    try:
        text = config_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AuthConfigError(f"{config_path}: cannot read the auth config ({type(error).__name__})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: builds only plain data
    except yaml.YAMLError as error:
        raise AuthConfigError(f"{config_path}: not valid YAML: {_yaml_problem(error)}") from None
    if data is None:
        raise AuthConfigError(f"{config_path}: the auth config is empty")
    return parse_auth_config(data, config_path.parent, str(config_path))


def _yaml_problem(error: yaml.YAMLError) -> str:
    """The YAML error without its snippet of the file (the line might hold a key pasted by mistake)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem} at line {mark.line + 1}, column {mark.column + 1}"
    return type(error).__name__


def parse_auth_config(data: Mapping[str, Any], base_dir: Path, source: str = "<config>") -> AuthConfig:
    """Check a loaded auth config and build it; every problem is an AuthConfigError naming the key."""
    if not isinstance(data, Mapping):
        raise AuthConfigError(f"{source}: the auth config must be a mapping with api_keys and/or jwt")
    _no_unknown_keys(data, _TOP_KEYS, "", source)
    api_keys = _parse_api_keys(data.get("api_keys"), source)
    jwt_settings = None if data.get("jwt") is None else _parse_jwt(data["jwt"], base_dir, source)
    if not api_keys and jwt_settings is None:
        raise AuthConfigError(f"{source}: no way to authenticate: give api_keys, a jwt section or both")
    principals = _parse_group_map(data.get("principals"), "principals", source)
    claims = _parse_group_map(data.get("claims"), "claims", source)
    if claims and (jwt_settings is None or jwt_settings.groups_claim is None):
        raise AuthConfigError(f"{source}: claims: needs jwt.groups_claim, the token claim whose values it maps")
    return AuthConfig(api_keys, jwt_settings, MappingProxyType(principals), MappingProxyType(claims))


def _no_unknown_keys(section: Mapping[str, Any], allowed: frozenset[str], where: str, source: str) -> None:
    unknown = sorted(str(key) for key in section if key not in allowed)
    if unknown:
        place = f"{where}: " if where else ""
        raise AuthConfigError(
            f"{source}: {place}unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )


def _name(value: Any, where: str, source: str) -> str:
    """A principal, group, claim or setting name: a non-blank string without surrounding spaces."""
    if not isinstance(value, str):
        raise AuthConfigError(f"{source}: {where}: must be a string, not {type(value).__name__}")
    if not value.strip():
        raise AuthConfigError(f"{source}: {where}: must not be blank")
    if value != value.strip():
        raise AuthConfigError(f"{source}: {where}: must not start or end with spaces")
    return value


def _mapping(value: Any, where: str, source: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AuthConfigError(f"{source}: {where}: must be a mapping, not {type(value).__name__}")
    return value


def _parse_api_keys(value: Any, source: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise AuthConfigError(f"{source}: api_keys: must be a list of {{principal, key_sha256}}")
    entries: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(value):
        where = f"api_keys[{index}]"
        entry = _mapping(item, where, source)
        _no_unknown_keys(entry, _API_KEY_KEYS, where, source)
        for required in sorted(_API_KEY_KEYS):
            if required not in entry:
                raise AuthConfigError(f"{source}: {where}: missing {required}")
        principal = _name(entry["principal"], f"{where}.principal", source)
        digest = _parse_hash(entry["key_sha256"], f"{where}.key_sha256", source)
        if digest in seen:
            raise AuthConfigError(f"{source}: {where}.key_sha256: the same key hash as api_keys[{seen[digest]}]")
        seen[digest] = index
        entries.append((digest, principal))
    return tuple(entries)


def _parse_hash(value: Any, where: str, source: str) -> str:
    """The normalised stored hash. The value is never echoed: a raw key pasted here by mistake stays out of logs."""
    if not isinstance(value, str):
        raise AuthConfigError(f"{source}: {where}: must be a string (sha256:<64 hex>)")
    digest = value.strip().lower().removeprefix(HASH_PREFIX)
    if not _HEX64.fullmatch(digest):
        raise AuthConfigError(
            f"{source}: {where}: not a SHA-256 key hash (expected sha256:<64 hex>, from `docvec serve --hash-key KEY`)"
        )
    return HASH_PREFIX + digest


def _parse_group_map(value: Any, where: str, source: str) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    mapping = _mapping(value, where, source)
    parsed: dict[str, tuple[str, ...]] = {}
    for key, groups in mapping.items():
        name = _name(key, f"{where}: key {key!r}", source)
        if not isinstance(groups, list):
            raise AuthConfigError(f"{source}: {where}.{name}: must be a list of group names")
        names = {_name(group, f"{where}.{name}[{index}]", source) for index, group in enumerate(groups)}
        parsed[name] = tuple(sorted(names))
    return parsed


def _parse_jwt(value: Any, base_dir: Path, source: str) -> JwtSettings:
    section = _mapping(value, "jwt", source)
    _no_unknown_keys(section, _JWT_KEYS, "jwt", source)
    algorithm = section.get("algorithm")
    if algorithm not in ALGORITHMS:
        raise AuthConfigError(f"{source}: jwt.algorithm: must be one of {', '.join(ALGORITHMS)} (got {algorithm!r})")
    for required in ("issuer", "audience"):
        if required not in section:
            raise AuthConfigError(f"{source}: jwt.{required}: required")
    groups_claim = section.get("groups_claim")
    return JwtSettings(
        algorithm=algorithm,
        key=_jwt_key(section, algorithm, base_dir, source),
        issuer=_name(section["issuer"], "jwt.issuer", source),
        audience=_name(section["audience"], "jwt.audience", source),
        principal_claim=_name(section.get("principal_claim", DEFAULT_PRINCIPAL_CLAIM), "jwt.principal_claim", source),
        groups_claim=None if groups_claim is None else _name(groups_claim, "jwt.groups_claim", source),
        leeway_seconds=_leeway(section.get("leeway_seconds", DEFAULT_LEEWAY_SECONDS), source),
    )


def _leeway(value: Any, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LEEWAY_SECONDS:
        raise AuthConfigError(f"{source}: jwt.leeway_seconds: must be an integer from 0 to {MAX_LEEWAY_SECONDS}")
    return value


def _jwt_key(section: Mapping[str, Any], algorithm: str, base_dir: Path, source: str) -> Any:
    """The verification key. HS256's secret comes from the environment so that it is never in the file."""
    if algorithm == "HS256":
        if "public_key_file" in section:
            raise AuthConfigError(f"{source}: jwt.public_key_file: not used with HS256 (give secret_env)")
        if "secret_env" not in section:
            raise AuthConfigError(f"{source}: jwt.secret_env: required with HS256 (the env var holding the secret)")
        env = _name(section["secret_env"], "jwt.secret_env", source)
        secret = os.environ.get(env, "").encode("utf-8")
        if not secret:
            raise AuthConfigError(f"{source}: jwt.secret_env: the environment variable {env} is not set or empty")
        if len(secret) < MIN_HMAC_SECRET_BYTES:
            raise AuthConfigError(
                f"{source}: jwt.secret_env: the secret in {env} is under {MIN_HMAC_SECRET_BYTES} bytes (RFC 7518 3.2)"
            )
        return secret
    if "secret_env" in section:
        raise AuthConfigError(f"{source}: jwt.secret_env: not used with {algorithm} (give public_key_file)")
    if "public_key_file" not in section:
        raise AuthConfigError(f"{source}: jwt.public_key_file: required with {algorithm} (a PEM public key)")
    return _public_key(_name(section["public_key_file"], "jwt.public_key_file", source), algorithm, base_dir, source)


def _public_key(file: str, algorithm: str, base_dir: Path, source: str) -> Any:
    path = Path(file) if Path(file).is_absolute() else base_dir / file
    where = f"{source}: jwt.public_key_file ({path})"
    try:
        pem = path.read_bytes()
    except OSError as error:
        raise AuthConfigError(f"{where}: cannot read it ({type(error).__name__})") from None
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise AuthConfigError(f"{where}: not a PEM public key") from None
    if algorithm == "RS256":
        if not isinstance(key, rsa.RSAPublicKey):
            raise AuthConfigError(f"{where}: RS256 needs an RSA public key, not {_key_kind(key)}")
        if key.key_size < MIN_RSA_BITS:
            raise AuthConfigError(f"{where}: the RSA key has {key.key_size} bits, under {MIN_RSA_BITS}")
    elif not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise AuthConfigError(f"{where}: ES256 needs an EC P-256 public key, not {_key_kind(key)}")
    return key


def _key_kind(key: Any) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "an RSA key"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"an EC {key.curve.name} key"
    return type(key).__name__


class Authenticator:
    """Turns the request's credential headers into a Principal with server-side groups, or an AuthError."""

    def __init__(self, config: AuthConfig) -> None:
        self._config = config
        # Stored hashes as bytes, for hmac.compare_digest.
        self._keys = tuple((digest.encode("ascii"), principal) for digest, principal in config.api_keys)

    def authenticate(self, authorization: str | None, api_key: str | None = None) -> Principal:
        """The caller of a request, from its raw `Authorization` and `X-API-Key` header values."""
        bearer = None if authorization is None else _bearer(authorization)
        key = None if api_key is None else api_key.strip()
        if key == "":
            raise AuthError("empty X-API-Key header")
        if bearer is not None and key is not None and bearer != key:
            raise AuthError("ambiguous credentials: Authorization and X-API-Key differ; send one of them")
        if key is not None:
            return self._api_key(key)
        if bearer is None:
            raise AuthError("missing credentials: send X-API-Key: <key> or Authorization: Bearer <key or token>")
        if bearer.startswith(API_KEY_PREFIX):
            return self._api_key(bearer)
        return self._jwt(bearer)

    def groups_for(self, principal: str, claims: Mapping[str, Any] | None = None) -> tuple[str, ...]:
        """The sorted union of the principal's groups and those its token's groups claim maps to."""
        groups = set(self._config.principals.get(principal, ()))
        settings = self._config.jwt
        if claims is not None and settings is not None and settings.groups_claim is not None:
            for value in _claim_values(claims.get(settings.groups_claim), settings.groups_claim):
                groups.update(self._config.claims.get(value, ()))
        return tuple(sorted(groups))

    def _api_key(self, key: str) -> Principal:
        if len(key) > MAX_API_KEY_CHARS:
            raise AuthError(f"unknown API key (over {MAX_API_KEY_CHARS} characters)")
        presented = hash_api_key(key).encode("ascii")
        found: str | None = None
        for digest, principal in self._keys:  # every hash compared: the time does not tell which matched
            if hmac.compare_digest(presented, digest):
                found = principal
        if found is None:
            raise AuthError("unknown API key")
        return Principal(found, self.groups_for(found), METHOD_API_KEY)

    def _jwt(self, token: str) -> Principal:
        settings = self._config.jwt
        if settings is None:
            raise AuthError("bearer tokens are not accepted: this server takes API keys only")
        if len(token) > MAX_TOKEN_CHARS:
            raise AuthError(f"invalid token: over {MAX_TOKEN_CHARS} characters")
        claim = settings.principal_claim
        try:
            claims = jwt.decode(
                token,
                settings.key,
                algorithms=[settings.algorithm],
                audience=settings.audience,
                issuer=settings.issuer,
                leeway=settings.leeway_seconds,
                options={"require": ["exp", "iss", "aud", claim]},
            )
        except jwt.MissingRequiredClaimError as error:
            raise AuthError(f"invalid token: the {error.claim} claim is missing") from None
        except jwt.PyJWTError as error:
            raise AuthError(f"invalid token: {_jwt_reason(error)}") from None
        name = claims.get(claim)
        if not isinstance(name, str) or not name.strip():
            raise AuthError(f"invalid token: the {claim} claim is not a non-blank string")
        return Principal(name, self.groups_for(name, claims), METHOD_JWT)


def _bearer(authorization: str) -> str:
    """The credential of `Authorization: Bearer <credential>`; any other form is an AuthError."""
    value = authorization.strip()
    if not value:
        raise AuthError("empty Authorization header")
    parts = value.split()
    if parts[0].lower() != "bearer":
        raise AuthError("unsupported Authorization scheme: use Bearer <key or token>")
    if len(parts) != 2:
        raise AuthError("malformed Authorization header: expected Bearer <key or token>")
    return parts[1]


def _jwt_reason(error: jwt.PyJWTError) -> str:
    for kind, reason in _JWT_REASONS:
        if isinstance(error, kind):
            return reason
    return "rejected"


def _claim_values(value: Any, claim: str) -> tuple[str, ...]:
    """The values of the groups claim: absent, one string or a list of strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise AuthError(f"invalid token: the {claim} claim is not a string or a list of strings")
