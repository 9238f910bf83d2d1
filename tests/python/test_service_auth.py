"""docvec.service.auth with real keys and tokens: API keys, HS256/RS256/ES256 JWTs signed by PyJWT
with keys generated here, the server-side group mapping, the attacks a verifier must refuse (alg
none, key confusion, the other algorithm, a foreign signature) and every config error."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from docvec.service.auth import (
    API_KEY_PREFIX,
    MAX_API_KEY_CHARS,
    MAX_TOKEN_CHARS,
    AuthConfigError,
    Authenticator,
    AuthError,
    Principal,
    generate_api_key,
    hash_api_key,
    load_auth_config,
)

pytestmark = pytest.mark.unit

ISSUER = "https://idp.example.com"
AUDIENCE = "docvec"
SECRET_ENV = "DOCVEC_TEST_JWT_SECRET"
SECRET = "hs256-test-secret-" + "q7Wz" * 8  # over the 32-byte minimum
BOT_KEY = generate_api_key()
SPARE_KEY = generate_api_key()  # a second key of the same principal (rotation)
NOBODY_KEY = generate_api_key()  # a principal the config does not map


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An RSA and an EC P-256 key pair (and a foreign RSA key), the public halves as PEM files."""
    folder = tmp_path_factory.mktemp("keys")
    made: dict[str, Any] = {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
        "foreign": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }
    for name in ("rsa", "ec"):
        pem = (
            made[name]
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        (folder / f"{name}.pem").write_bytes(pem)
        made[f"{name}_pem"] = pem
    private = made["rsa"].private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (folder / "private.pem").write_bytes(private)
    (folder / "garbage.pem").write_text("-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n")
    made["folder"] = folder
    return made


def base_config(algorithm: str = "RS256", keys_folder: Path | None = None) -> dict[str, Any]:
    """A valid config: two API keys of support-bot, one unmapped key and a JWT section with a groups claim."""
    section: dict[str, Any] = {
        "algorithm": algorithm,
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "groups_claim": "roles",
    }
    if algorithm == "HS256":
        section["secret_env"] = SECRET_ENV
    else:
        pem = "rsa.pem" if algorithm == "RS256" else "ec.pem"
        section["public_key_file"] = str(keys_folder / pem) if keys_folder else pem
    return {
        "api_keys": [
            {"principal": "support-bot", "key_sha256": hash_api_key(BOT_KEY)},
            {"principal": "support-bot", "key_sha256": hash_api_key(SPARE_KEY).removeprefix("sha256:").upper()},
            {"principal": "nobody", "key_sha256": hash_api_key(NOBODY_KEY)},
        ],
        "jwt": section,
        "principals": {"support-bot": ["public"], "alice@example.com": ["staff", "public", "staff"]},
        "claims": {"hr-team": ["hr"], "eng": ["staff", "eng"]},
    }


def write_config(folder: Path, data: Any, name: str = "auth.yaml") -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def authenticator(folder: Path, data: dict[str, Any]) -> Authenticator:
    return Authenticator(load_auth_config(write_config(folder, data)))


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims for alice; an override of None drops that claim."""
    now = int(time.time())
    payload: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice@example.com", "exp": now + 300}
    payload.update(overrides)
    return {name: value for name, value in payload.items() if value is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def rejects(auth: Authenticator, credential: str, reason: str, *, header: str = "Bearer") -> str:
    """Assert the credential is refused for `reason`, without the credential in the message."""
    with pytest.raises(AuthError) as caught:
        auth.authenticate(f"{header} {credential}")
    message = str(caught.value)
    assert reason in message
    assert credential not in message
    assert caught.value.status == 401
    return message


@pytest.fixture(scope="module")
def rs256(keys: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Authenticator:
    return authenticator(tmp_path_factory.mktemp("rs256"), base_config("RS256", keys["folder"]))


@pytest.fixture(scope="module")
def es256(keys: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Authenticator:
    return authenticator(tmp_path_factory.mktemp("es256"), base_config("ES256", keys["folder"]))


@pytest.fixture
def hs256(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Authenticator:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return authenticator(tmp_path, base_config("HS256"))


# --- API keys -----------------------------------------------------------------------------


def test_generated_keys_are_prefixed_random_and_hashed_as_sha256_hex() -> None:
    key = generate_api_key()
    assert key.startswith(API_KEY_PREFIX) and len(key) == len(API_KEY_PREFIX) + 43
    assert key != generate_api_key()
    assert hash_api_key(key) == "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()
    assert hash_api_key("clé") == "sha256:" + hashlib.sha256("clé".encode()).hexdigest()


def test_api_key_in_either_header_maps_to_its_principal(rs256: Authenticator) -> None:
    expected = Principal("support-bot", ("public",), "api_key")
    assert rs256.authenticate(None, BOT_KEY) == expected
    assert rs256.authenticate(f"Bearer {BOT_KEY}") == expected
    assert rs256.authenticate(f"bearer   {BOT_KEY} ") == expected
    # The same key in both headers is not ambiguous.
    assert rs256.authenticate(f"Bearer {BOT_KEY}", BOT_KEY) == expected


def test_bare_uppercase_hex_hash_and_a_second_key_of_one_principal(rs256: Authenticator) -> None:
    assert rs256.authenticate(None, SPARE_KEY) == Principal("support-bot", ("public",), "api_key")


def test_unmapped_principal_is_authenticated_with_no_groups(rs256: Authenticator) -> None:
    assert rs256.authenticate(None, NOBODY_KEY) == Principal("nobody", (), "api_key")


def test_unknown_and_overlong_api_keys_are_refused(rs256: Authenticator) -> None:
    stranger = generate_api_key()
    rejects(rs256, stranger, "unknown API key")
    with pytest.raises(AuthError, match="unknown API key") as caught:
        rs256.authenticate(None, stranger)
    assert stranger not in str(caught.value)
    # Case matters: a key is its exact bytes.
    with pytest.raises(AuthError, match="unknown API key"):
        rs256.authenticate(None, BOT_KEY.upper())
    overlong = API_KEY_PREFIX + "a" * MAX_API_KEY_CHARS
    rejects(rs256, overlong, "unknown API key")


def test_a_key_hashed_in_the_config_is_accepted_without_the_prefix(tmp_path: Path) -> None:
    data = {"api_keys": [{"principal": "legacy", "key_sha256": hash_api_key("an-old-style-key")}]}
    auth = authenticator(tmp_path, data)
    assert auth.authenticate(None, "an-old-style-key") == Principal("legacy", (), "api_key")
    # In `Authorization: Bearer` only the prefix marks an API key; without a jwt section the rest is refused.
    rejects(auth, "an-old-style-key", "bearer tokens are not accepted")


def test_different_credentials_in_both_headers_are_ambiguous(rs256: Authenticator, keys: dict[str, Any]) -> None:
    with pytest.raises(AuthError, match="ambiguous credentials") as caught:
        rs256.authenticate(f"Bearer {BOT_KEY}", NOBODY_KEY)
    assert BOT_KEY not in str(caught.value) and NOBODY_KEY not in str(caught.value)
    token = jwt.encode(claims(), keys["rsa"], algorithm="RS256")
    with pytest.raises(AuthError, match="ambiguous credentials"):
        rs256.authenticate(f"Bearer {token}", BOT_KEY)


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (f"Basic {base64.b64encode(b'support-bot:' + BOT_KEY.encode()).decode()}", "unsupported Authorization scheme"),
        (f"Token {BOT_KEY}", "unsupported Authorization scheme"),
        (BOT_KEY, "unsupported Authorization scheme"),
        ("", "empty Authorization header"),
        ("   ", "empty Authorization header"),
        ("Bearer", "malformed Authorization header"),
        (f"Bearer {BOT_KEY} extra", "malformed Authorization header"),
    ],
    ids=["basic", "token-scheme", "no-scheme", "empty", "blank", "bearer-alone", "two-values"],
)
def test_malformed_authorization_headers_are_refused(rs256: Authenticator, authorization: str, reason: str) -> None:
    with pytest.raises(AuthError, match=reason) as caught:
        rs256.authenticate(authorization)
    assert BOT_KEY not in str(caught.value)


def test_missing_or_empty_credentials_are_refused(rs256: Authenticator) -> None:
    with pytest.raises(AuthError, match="missing credentials"):
        rs256.authenticate(None, None)
    with pytest.raises(AuthError, match="empty X-API-Key header"):
        rs256.authenticate(None, "  ")


# --- group mapping ------------------------------------------------------------------------


def test_groups_are_the_sorted_union_of_principal_and_mapped_claims(rs256: Authenticator) -> None:
    assert rs256.groups_for("alice@example.com") == ("public", "staff")
    assert rs256.groups_for("alice@example.com", {"roles": ["eng", "hr-team", "eng"]}) == (
        "eng",
        "hr",
        "public",
        "staff",
    )
    assert rs256.groups_for("alice@example.com", {"roles": "hr-team"}) == ("hr", "public", "staff")
    assert rs256.groups_for("stranger", {"roles": ["hr-team"]}) == ("hr",)
    assert rs256.groups_for("stranger") == ()
    assert rs256.groups_for("stranger", {"roles": ["unmapped-role"]}) == ()


def test_claim_values_are_never_used_as_groups(rs256: Authenticator, keys: dict[str, Any]) -> None:
    # "public", "hr" and "admin" are group names, not keys of `claims`: a token naming them gains nothing.
    token = jwt.encode(claims(sub="mallory", roles=["public", "hr", "admin"]), keys["rsa"], algorithm="RS256")
    assert rs256.authenticate(f"Bearer {token}") == Principal("mallory", (), "jwt")


def test_a_groups_claim_of_the_wrong_type_is_refused(rs256: Authenticator, keys: dict[str, Any]) -> None:
    for roles in ({"hr-team": True}, ["hr-team", 7], 42):
        token = jwt.encode(claims(roles=roles), keys["rsa"], algorithm="RS256")
        rejects(rs256, token, "the roles claim is not a string or a list of strings")


def test_claims_are_ignored_without_a_groups_claim(tmp_path: Path, keys: dict[str, Any]) -> None:
    data = base_config("RS256", keys["folder"])
    del data["jwt"]["groups_claim"], data["claims"]
    auth = authenticator(tmp_path, data)
    token = jwt.encode(claims(roles=["hr-team"]), keys["rsa"], algorithm="RS256")
    assert auth.authenticate(f"Bearer {token}").groups == ("public", "staff")


# --- JWTs accepted ------------------------------------------------------------------------


def test_hs256_token_is_accepted(hs256: Authenticator) -> None:
    token = jwt.encode(claims(roles=["hr-team"]), SECRET, algorithm="HS256")
    assert hs256.authenticate(f"Bearer {token}") == Principal("alice@example.com", ("hr", "public", "staff"), "jwt")


def test_rs256_token_is_accepted(rs256: Authenticator, keys: dict[str, Any]) -> None:
    token = jwt.encode(claims(roles="eng"), keys["rsa"], algorithm="RS256")
    assert rs256.authenticate(f"Bearer {token}") == Principal("alice@example.com", ("eng", "public", "staff"), "jwt")


def test_es256_token_is_accepted(es256: Authenticator, keys: dict[str, Any]) -> None:
    token = jwt.encode(claims(), keys["ec"], algorithm="ES256")
    assert es256.authenticate(f"Bearer {token}") == Principal("alice@example.com", ("public", "staff"), "jwt")


def test_custom_principal_claim_and_an_audience_list(tmp_path: Path, keys: dict[str, Any]) -> None:
    data = base_config("RS256", keys["folder"])
    data["jwt"]["principal_claim"] = "email"
    auth = authenticator(tmp_path, data)
    token = jwt.encode(claims(sub="uid-1", email="alice@example.com", aud=["other", AUDIENCE]), keys["rsa"], "RS256")
    assert auth.authenticate(f"Bearer {token}").name == "alice@example.com"
    rejects(auth, jwt.encode(claims(), keys["rsa"], algorithm="RS256"), "the email claim is missing")
    rejects(auth, jwt.encode(claims(email=7), keys["rsa"], algorithm="RS256"), "email claim is not a non-blank string")
    rejects(auth, jwt.encode(claims(email=" "), keys["rsa"], algorithm="RS256"), "email claim is not a non-blank")


# --- JWTs refused -------------------------------------------------------------------------


def test_expiry_is_checked_with_the_configured_leeway(rs256: Authenticator, keys: dict[str, Any]) -> None:
    now = int(time.time())
    within = jwt.encode(claims(exp=now - 10), keys["rsa"], algorithm="RS256")  # default leeway 30 s
    assert rs256.authenticate(f"Bearer {within}").name == "alice@example.com"
    rejects(rs256, jwt.encode(claims(exp=now - 120), keys["rsa"], algorithm="RS256"), "token expired")


def test_not_yet_valid_tokens_are_refused(rs256: Authenticator, keys: dict[str, Any]) -> None:
    now = int(time.time())
    rejects(rs256, jwt.encode(claims(nbf=now + 600), keys["rsa"], algorithm="RS256"), "token not yet valid")
    rejects(rs256, jwt.encode(claims(iat=now + 600), keys["rsa"], algorithm="RS256"), "token not yet valid")


def test_wrong_audience_and_issuer_are_refused(rs256: Authenticator, keys: dict[str, Any]) -> None:
    rejects(rs256, jwt.encode(claims(aud="another-service"), keys["rsa"], algorithm="RS256"), "wrong audience")
    rejects(rs256, jwt.encode(claims(iss="https://evil.example.com"), keys["rsa"], algorithm="RS256"), "wrong issuer")


def test_a_signature_by_another_key_is_refused(
    rs256: Authenticator, hs256: Authenticator, keys: dict[str, Any]
) -> None:
    rejects(rs256, jwt.encode(claims(), keys["foreign"], algorithm="RS256"), "bad signature")
    rejects(hs256, jwt.encode(claims(), "another-secret-" + "x" * 32, algorithm="HS256"), "bad signature")
    genuine = jwt.encode(claims(), keys["rsa"], algorithm="RS256")
    header, payload, signature = genuine.split(".")
    elevated = b64(json.dumps(claims(sub="support-bot")).encode())
    rejects(rs256, f"{header}.{elevated}.{signature}", "bad signature")


def test_alg_none_is_refused(rs256: Authenticator, hs256: Authenticator) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    unsigned = f"{header}.{b64(json.dumps(claims(sub='support-bot')).encode())}."
    rejects(rs256, unsigned, "token algorithm not accepted")
    rejects(hs256, unsigned, "token algorithm not accepted")


def test_key_confusion_hs256_signed_with_the_rsa_public_key_is_refused(
    rs256: Authenticator, keys: dict[str, Any]
) -> None:
    # The classic attack: the public key's PEM, which anyone may have, used as an HMAC secret.
    # PyJWT will not sign it (it refuses PEM HMAC keys), so the token is built by hand.
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims(sub="support-bot")).encode())
    signature = hmac.new(keys["rsa_pem"], f"{header}.{payload}".encode(), hashlib.sha256).digest()
    rejects(rs256, f"{header}.{payload}.{b64(signature)}", "token algorithm not accepted")


def test_a_token_of_the_other_algorithm_is_refused(
    rs256: Authenticator, es256: Authenticator, hs256: Authenticator, keys: dict[str, Any]
) -> None:
    rejects(rs256, jwt.encode(claims(), keys["ec"], algorithm="ES256"), "token algorithm not accepted")
    rejects(es256, jwt.encode(claims(), keys["rsa"], algorithm="RS256"), "token algorithm not accepted")
    rejects(hs256, jwt.encode(claims(), keys["rsa"], algorithm="RS256"), "token algorithm not accepted")
    rejects(rs256, jwt.encode(claims(), keys["rsa"], algorithm="RS512"), "token algorithm not accepted")


@pytest.mark.parametrize("claim", ["exp", "iss", "aud", "sub"])
def test_a_required_claim_missing_is_refused(rs256: Authenticator, keys: dict[str, Any], claim: str) -> None:
    rejects(rs256, jwt.encode(claims(**{claim: None}), keys["rsa"], algorithm="RS256"), f"the {claim} claim is missing")


def test_a_non_string_sub_is_refused(rs256: Authenticator, keys: dict[str, Any]) -> None:
    rejects(rs256, jwt.encode(claims(sub=12345), keys["rsa"], algorithm="RS256"), "the sub claim is not a string")


def test_malformed_and_overlong_tokens_are_refused(rs256: Authenticator, keys: dict[str, Any]) -> None:
    rejects(rs256, "not-a-token", "malformed token")
    rejects(rs256, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln.extra", "malformed token")
    rejects(rs256, jwt.encode(claims(exp="tomorrow"), keys["rsa"], algorithm="RS256"), "malformed token")
    padded = jwt.encode(claims(pad="x" * MAX_TOKEN_CHARS), keys["rsa"], algorithm="RS256")
    rejects(rs256, padded, f"over {MAX_TOKEN_CHARS} characters")


def test_the_secret_never_appears_in_errors_or_reprs(hs256: Authenticator, keys: dict[str, Any]) -> None:
    messages = [
        rejects(hs256, jwt.encode(claims(exp=int(time.time()) - 600), SECRET, algorithm="HS256"), "token expired"),
        rejects(hs256, jwt.encode(claims(aud="x"), SECRET, algorithm="HS256"), "wrong audience"),
        rejects(hs256, jwt.encode(claims(sub=None), SECRET, algorithm="HS256"), "sub claim is missing"),
        rejects(hs256, "a.b.c", "malformed token"),
        rejects(hs256, generate_api_key(), "unknown API key"),
    ]
    assert all(SECRET not in message for message in messages)
    assert SECRET not in repr(hs256._config)


# --- the config ---------------------------------------------------------------------------


def test_relative_key_files_resolve_against_the_config_folder(
    tmp_path: Path, keys: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "ec.pem").write_bytes(keys["ec_pem"])
    path = write_config(folder, base_config("ES256"))  # public_key_file: ec.pem, relative
    monkeypatch.chdir(tmp_path)  # not the config's folder
    auth = Authenticator(load_auth_config(path))
    assert auth.authenticate(f"Bearer {jwt.encode(claims(), keys['ec'], algorithm='ES256')}").method == "jwt"


def test_api_keys_only_config_and_an_empty_principals_map(tmp_path: Path) -> None:
    data = {"api_keys": [{"principal": "bot", "key_sha256": hash_api_key(BOT_KEY)}], "principals": {}}
    assert authenticator(tmp_path, data).authenticate(None, BOT_KEY) == Principal("bot", (), "api_key")


def _drop(*path: str | int) -> Any:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


def _set(value: Any, *path: str | int) -> Any:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


CONFIG_ERRORS = {
    "unknown-top-key": (_set(["x"], "groups"), "unknown key(s) groups"),
    "unknown-api-key-key": (_set("k", "api_keys", 0, "key"), "api_keys[0]: unknown key(s) key"),
    "unknown-jwt-key": (_set("HS512", "jwt", "algorithms"), "jwt: unknown key(s) algorithms"),
    "api-keys-not-list": (_set({"bot": "x"}, "api_keys"), "api_keys: must be a list"),
    "api-key-entry-not-mapping": (_set("sha256:abc", "api_keys", 0), "api_keys[0]: must be a mapping"),
    "api-key-missing-hash": (_drop("api_keys", 1, "key_sha256"), "api_keys[1]: missing key_sha256"),
    "blank-principal": (_set("  ", "api_keys", 0, "principal"), "api_keys[0].principal: must not be blank"),
    "padded-principal": (_set(" bot", "api_keys", 0, "principal"), "must not start or end with spaces"),
    "blank-group": (_set(["public", ""], "principals", "support-bot"), "principals.support-bot[1]: must not be blank"),
    "group-not-string": (_set([3], "claims", "eng"), "claims.eng[0]: must be a string, not int"),
    "groups-not-list": (_set("public", "principals", "support-bot"), "principals.support-bot: must be a list"),
    "principals-not-mapping": (_set(["support-bot"], "principals"), "principals: must be a mapping"),
    "hash-not-hex": (_set("sha256:" + "g" * 64, "api_keys", 0, "key_sha256"), "not a SHA-256 key hash"),
    "hash-too-short": (_set("abc123", "api_keys", 0, "key_sha256"), "not a SHA-256 key hash"),
    "hash-raw-key-pasted": (_set(BOT_KEY, "api_keys", 0, "key_sha256"), "api_keys[0].key_sha256: not a SHA-256"),
    "hash-not-string": (_set(123, "api_keys", 0, "key_sha256"), "must be a string (sha256:<64 hex>)"),
    "duplicate-hash": (
        _set(hash_api_key(BOT_KEY).removeprefix("sha256:").upper(), "api_keys", 2, "key_sha256"),
        "api_keys[2].key_sha256: the same key hash as api_keys[0]",
    ),
    "algorithm-hs512": (_set("HS512", "jwt", "algorithm"), "jwt.algorithm: must be one of HS256, RS256, ES256"),
    "algorithm-none": (_set("none", "jwt", "algorithm"), "(got 'none')"),
    "algorithm-missing": (_drop("jwt", "algorithm"), "jwt.algorithm: must be one of"),
    "rs256-with-secret-env": (_set(SECRET_ENV, "jwt", "secret_env"), "jwt.secret_env: not used with RS256"),
    "rs256-without-key-file": (_drop("jwt", "public_key_file"), "jwt.public_key_file: required with RS256"),
    "key-file-missing": (_set("absent.pem", "jwt", "public_key_file"), "cannot read it (FileNotFoundError)"),
    "key-file-garbage": (_set("garbage.pem", "jwt", "public_key_file"), "not a PEM public key"),
    "key-file-private": (_set("private.pem", "jwt", "public_key_file"), "not a PEM public key"),
    "ec-key-for-rs256": (
        _set("ec.pem", "jwt", "public_key_file"),
        "RS256 needs an RSA public key, not an EC secp256r1",
    ),
    "issuer-missing": (_drop("jwt", "issuer"), "jwt.issuer: required"),
    "audience-missing": (_drop("jwt", "audience"), "jwt.audience: required"),
    "audience-blank": (_set("", "jwt", "audience"), "jwt.audience: must not be blank"),
    "leeway-too-big": (_set(301, "jwt", "leeway_seconds"), "jwt.leeway_seconds: must be an integer from 0 to 300"),
    "leeway-negative": (_set(-1, "jwt", "leeway_seconds"), "jwt.leeway_seconds"),
    "leeway-bool": (_set(True, "jwt", "leeway_seconds"), "jwt.leeway_seconds"),
    "jwt-not-mapping": (_set("RS256", "jwt"), "jwt: must be a mapping"),
    "claims-without-groups-claim": (_drop("jwt", "groups_claim"), "claims: needs jwt.groups_claim"),
    "neither-api-keys-nor-jwt": (lambda data: [data.pop("api_keys"), data.pop("jwt")], "no way to authenticate"),
    "empty-api-keys-no-jwt": (lambda data: [data.update(api_keys=[]), data.pop("jwt")], "no way to authenticate"),
}


@pytest.mark.parametrize("case", list(CONFIG_ERRORS), ids=list(CONFIG_ERRORS))
def test_config_errors_name_the_file_and_the_key(case: str, keys: dict[str, Any]) -> None:
    change, fragment = CONFIG_ERRORS[case]
    data = copy.deepcopy(base_config("RS256"))  # key files relative to the keys folder
    change(data)
    path = write_config(keys["folder"], data, f"{case}.yaml")
    with pytest.raises(AuthConfigError) as caught:
        load_auth_config(path)
    message = str(caught.value)
    assert fragment in message
    assert str(path) in message
    assert BOT_KEY not in message  # a raw key pasted as a hash is not echoed


def test_rsa_key_for_es256_is_refused(keys: dict[str, Any]) -> None:
    data = base_config("ES256")
    data["jwt"]["public_key_file"] = "rsa.pem"
    with pytest.raises(AuthConfigError, match="ES256 needs an EC P-256 public key, not an RSA key"):
        load_auth_config(write_config(keys["folder"], data, "es256-rsa.yaml"))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (_drop("jwt", "secret_env"), "jwt.secret_env: required with HS256"),
        (_set("idp.pem", "jwt", "public_key_file"), "jwt.public_key_file: not used with HS256"),
        (_set("DOCVEC_TEST_UNSET_SECRET", "jwt", "secret_env"), "DOCVEC_TEST_UNSET_SECRET is not set or empty"),
    ],
    ids=["no-secret-env", "with-key-file", "env-unset"],
)
def test_hs256_config_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Any, fragment: str) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.delenv("DOCVEC_TEST_UNSET_SECRET", raising=False)
    data = base_config("HS256")
    change(data)
    with pytest.raises(AuthConfigError, match=fragment) as caught:
        load_auth_config(write_config(tmp_path, data))
    assert SECRET not in str(caught.value)


def test_hs256_secret_empty_or_short_is_refused_without_echoing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, base_config("HS256"))
    monkeypatch.setenv(SECRET_ENV, "")
    with pytest.raises(AuthConfigError, match="is not set or empty"):
        load_auth_config(path)
    short = "tiny-secret-9f3k"
    monkeypatch.setenv(SECRET_ENV, short)
    with pytest.raises(AuthConfigError, match="under 32 bytes") as caught:
        load_auth_config(path)
    assert short not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the auth config is empty"),
        ("# only a comment\n", "the auth config is empty"),
        ("- api_keys\n", "must be a mapping"),
        ("principals:\n  alice: [a]\n  alice: [b]\n", "found the key 'alice' twice"),
        (f"api_keys:\n  - principal: bot\n    key_sha256: {BOT_KEY}: x\n", "not valid YAML"),
    ],
    ids=["empty", "comment-only", "list", "duplicate-yaml-key", "broken-yaml"],
)
def test_unusable_config_files(tmp_path: Path, text: str, fragment: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(AuthConfigError, match=fragment) as caught:
        load_auth_config(path)
    assert str(path) in str(caught.value)
    assert BOT_KEY[-16:] not in str(caught.value)  # nor a snippet of the line holding it


def test_a_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigError, match="cannot read the auth config"):
        load_auth_config(tmp_path / "absent.yaml")
