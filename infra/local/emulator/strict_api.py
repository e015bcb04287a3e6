"""Strict API: each request to the emulator checked against the AWS API model of its service.

moto accepts many requests AWS refuses: a name longer than the API allows, a member the API does
not have, a value outside its enum or range. This module checks every request against the
service models that ship with botocore (moto depends on it) before moto sees it, and answers a
violation as AWS does: `ValidationError` (query protocol: Auto Scaling, ELBv2, STS, IAM),
`ValidationException` (JSON protocols: DynamoDB, EventBridge, SSM, SQS, CloudWatch, Scheduler),
`InvalidParameterValue` / `MissingParameter` / `UnknownParameter` (EC2), with the member named.

Checked, read from the model of the operation's input shape (never copied by hand):
  required members, unknown members, value types, string/blob/list/map length (`min`/`max`),
  numeric range (`min`/`max`), `enum`, `pattern`.
Plus DOCUMENTED_CONSTRAINTS: limits AWS documents but the public models do not carry (each one
cites where AWS documents it), applied as if the model had them.

Patterns are Java regular expressions. They are translated for Python's `re` (surrogate pairs
to code points, `\\p{L}`-style classes to explicit ranges, `\\z`); one that still does not
compile is not checked and is listed in the stats (`skippedPatterns`). A pattern without
anchors must match the whole value (AWS's Coral services match that way); an anchored one is
searched, its anchors doing the anchoring (Smithy's rule).

Unknown members: AWS refuses them on EC2 (`UnknownParameter`); other services may ignore one
instead. Either way the caller believed it set something it did not, so they are refused here.

Not checked: services outside SERVICES, REST-XML services, Smithy RPC v2 CBOR bodies (moto does
not serve that protocol), unknown query-string parameters of REST operations, and moto's own
endpoints; each request of that kind is counted in `unchecked` instead.
"""

import base64
import binascii
import json
import re
import sys
import threading
import unicodedata
from collections import deque
from urllib.parse import parse_qsl, unquote

import botocore.session

# The services Deployomat (handlers, CLI, seed, tests) calls, by botocore name.
SERVICES = ("autoscaling", "cloudwatch", "dynamodb", "ec2", "elbv2", "events", "iam", "scheduler", "sqs", "ssm", "sts")

# Query parameters that are the protocol's, not the operation's (action, version, SigV2/SigV4 query auth).
QUERY_PROTOCOL_PARAMS = {
    "Action", "Version", "AWSAccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "Timestamp",
    "Expires", "SecurityToken", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
    "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Security-Token",
}

# Limits AWS documents for an input member whose public model has no such trait. Keyed by
# (service, shape name); `operations` limits an entry to some operations; `messages` replaces the
# standard message of a constraint with the one AWS sends for it.
DOCUMENTED_CONSTRAINTS = {
    ("elbv2", "TargetGroupWeight"): {
        "traits": {"min": 0, "max": 999},
        "source": "ELBv2 API reference, TargetGroupTuple.Weight: 'The range is 0 to 999.'",
    },
    ("elbv2", "TargetGroupList"): {
        "traits": {"max": 5},
        "source": "Quotas for your Application Load Balancers: target groups per action, 5 (not adjustable)",
    },
    ("elbv2", "TargetGroupName"): {
        "traits": {"max": 32},
        "operations": {"CreateTargetGroup"},
        "messages": {"max": "Target group name '{value}' cannot be longer than '32' characters"},
        "source": "ELBv2 API reference, CreateTargetGroup.Name: 'can have a maximum of 32 characters'",
    },
}

MAX_LISTED_ERRORS = 10
RECENT_VIOLATIONS = 100

_CREDENTIAL_SCOPE_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_RPC_V2_PATH_RE = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")


class Problem:
    """One violation: `kind` is missing | unknown | type | constraint | operation."""

    __slots__ = ("kind", "path", "wire", "text", "custom")

    def __init__(self, kind, path, text, wire=None, custom=False):
        self.kind, self.path, self.text, self.wire, self.custom = kind, path, text, wire, custom


class Verdict:
    """The outcome of checking one request. `refusal` is (code, message) when it is refused."""

    __slots__ = ("service", "operation", "protocol", "problems", "refusal")

    def __init__(self, service, operation, protocol, problems):
        self.service, self.operation, self.protocol, self.problems = service, operation, protocol, problems
        self.refusal = None


# --- Java regular expressions in Python --------------------------------------------------------

_SURROGATE_PAIR_RE = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)
# Java's POSIX classes are ASCII-only (without UNICODE_CHARACTER_CLASS).
_POSIX_CLASSES = {
    "Lower": "a-z", "Upper": "A-Z", "ASCII": "\\x00-\\x7f", "Alpha": "a-zA-Z", "Digit": "0-9",
    "Alnum": "a-zA-Z0-9", "Punct": "!-/:-@\\[-`{-~", "Graph": "\\x21-\\x7e", "Print": "\\x20-\\x7e",
    "Blank": " \\t", "Cntrl": "\\x00-\\x1f\\x7f", "XDigit": "0-9a-fA-F", "Space": " \\t\\n\\x0b\\f\\r",
}
_category_runs = []  # [(first code point, last code point, general category)], built once
_category_classes = {}
_category_lock = threading.Lock()


def _category_class(name):
    """Character class body (ranges, no brackets) for a Unicode general category such as L or Lu."""
    with _category_lock:
        if not _category_runs:
            start, current = 0, unicodedata.category("\x00")
            for cp in range(1, 0x110000):
                category = "Cs" if 0xD800 <= cp <= 0xDFFF else unicodedata.category(chr(cp))
                if category != current:
                    _category_runs.append((start, cp - 1, current))
                    start, current = cp, category
            _category_runs.append((start, 0x10FFFF, current))
        if name not in _category_classes:
            ranges = []
            for first, last, category in _category_runs:
                if not category.startswith(name) or category == "Cs":
                    continue
                if ranges and ranges[-1][1] == first - 1:
                    ranges[-1][1] = last
                else:
                    ranges.append([first, last])
            _category_classes[name] = "".join(
                f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges
            )
        return _category_classes[name]


def _property_class(name):
    """Class body for `\\p{name}`, or None if not supported."""
    if name in _POSIX_CLASSES:
        return _POSIX_CLASSES[name]
    if name.startswith("Is"):
        name = name[2:]
    if re.fullmatch(r"[LMNPSZC][a-z]?", name):
        return _category_class(name)
    return None


def translate_java_pattern(pattern):
    """The Python `re` source for a Java regex, or None if it uses what cannot be translated."""
    text = _SURROGATE_PAIR_RE.sub(
        lambda m: f"\\U{0x10000 + ((int(m[1], 16) - 0xD800) << 10) + (int(m[2], 16) - 0xDC00):08x}", pattern
    )
    out, i, in_class = [], 0, False
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            prop = re.match(r"\\([pP])\{(\w+)\}", text[i:]) if nxt in "pP" else None
            if prop:
                body = _property_class(prop[2])
                if body is None or (prop[1] == "P" and in_class):
                    return None
                out.append(body if in_class else f"[{'^' if prop[1] == 'P' else ''}{body}]")
                i += prop.end()
                continue
            if nxt in "pPQEh":
                return None  # \p without braces, \Q...\E quoting, \h: not translated
            out.append("\\Z" if nxt == "z" else "(?=\\n?\\Z)" if nxt == "Z" else text[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "[" or text.startswith("&&", i):
                return None  # Java's nested classes and intersections
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            if i < len(text) and text[i] == "^":
                out.append("^")
                i += 1
            if i < len(text) and text[i] == "]":  # a leading ] is a literal in both
                out.append("\\]")
                i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


# --- the checker ---------------------------------------------------------------------------------


def _lower_first(name):
    return name[:1].lower() + name[1:]


def _render(value, limit=200):
    """A value as AWS's messages show it (Java's toString of the value), clipped."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = "[" + ", ".join(_render(v, limit) for v in value[:20]) + (", ..." if len(value) > 20 else "") + "]"
    elif isinstance(value, dict):
        items = list(value.items())[:20]
        text = "{" + ", ".join(f"{k}={_render(v, limit)}" for k, v in items) + (", ..." if len(value) > 20 else "") + "}"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class StrictApi:
    """Loads the models of SERVICES, checks requests, and keeps the counts."""

    def __init__(self, enabled=True, log=None):
        self.enabled = enabled
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._lock = threading.Lock()
        self._patterns = {}
        self._member_names = {}
        self._quotas = {}
        self.validated = 0
        self.rejected = 0
        self.quota_rejected = 0
        self.by_operation = {}
        self.unchecked = {}
        self.skipped_patterns = set()
        self.violations = deque(maxlen=RECENT_VIOLATIONS)
        self._by_target_prefix = {}
        self._by_query_service = {}
        self._rest_routes = {}
        self._loaded = False

    def _load(self):
        """Reads the models of SERVICES (once, at the first request: ~0.2 s)."""
        with self._lock:
            if self._loaded:
                return
            session = botocore.session.get_session()
            for name in SERVICES:
                model = session.get_service_model(name)
                meta = model.metadata
                protocols = meta.get("protocols") or [model.protocol]
                if "json" in protocols and meta.get("targetPrefix"):
                    self._by_target_prefix[meta["targetPrefix"]] = (name, model)
                for proto in ("query", "ec2"):
                    if proto in protocols:
                        self._by_query_service[(model.signing_name, model.api_version)] = (name, model, proto)
                if model.protocol == "rest-json":
                    self._rest_routes[model.signing_name] = (name, model, self._routes_of(model))
            self._loaded = True

    # --- quotas: checks registered by the emulator for limits that need moto's state ---

    def quota(self, service, operation):
        """Decorator: fn(value, environ) -> (code, message) | None, run after a request passed the model."""

        def register(fn):
            self._quotas.setdefault((service, operation), []).append(fn)
            return fn

        return register

    # --- request identification ---

    @staticmethod
    def _routes_of(model):
        routes = []
        for op_name in model.operation_names:
            op = model.operation_model(op_name)
            uri = op.http.get("requestUri", "/").split("?", 1)[0]
            regex, labels = "", []
            for part in re.split(r"(\{[^}]+\})", uri):
                if part.startswith("{"):
                    label = part[1:-1]
                    greedy = label.endswith("+")
                    labels.append(label.rstrip("+"))
                    regex += "(.+)" if greedy else "([^/]+)"
                elif part:
                    regex += re.escape(part)
            routes.append((op.http.get("method", "POST"), re.compile(f"^{regex}/?$"), labels, op_name))
        # Literal paths before templated ones of the same shape.
        routes.sort(key=lambda r: -len(r[1].pattern.replace("([^/]+)", "").replace("(.+)", "")))
        return routes

    def identify(self, environ, body):
        """(service, model, operation, protocol, value source) or (None, reason)."""
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            prefix, _, operation = target.rpartition(".")
            found = self._by_target_prefix.get(prefix)
            if not found:
                return None, f"json:{prefix}"
            return found[0], found[1], operation, "json", body
        path = environ.get("PATH_INFO", "")
        if path.startswith("/moto-api"):
            return None, "moto-api"
        if _RPC_V2_PATH_RE.match(path):
            return None, "rpc-v2-cbor"
        scope = _CREDENTIAL_SCOPE_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if not scope:
            return None, "unsigned"
        signing_name = scope.group(2)
        if signing_name in self._rest_routes:
            name, model, routes = self._rest_routes[signing_name]
            raw_path = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or path).split("?", 1)[0]
            method = environ.get("REQUEST_METHOD", "GET")
            for route_method, regex, labels, operation in routes:
                match = regex.match(raw_path) if route_method == method else None
                if match:
                    return name, model, operation, "rest-json", (labels, match, body)
            return None, f"{signing_name}:no-route"
        content_type = environ.get("CONTENT_TYPE", "")
        params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if content_type.startswith("application/x-www-form-urlencoded"):
            params += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        flat = dict(params)
        action, version = flat.get("Action"), flat.get("Version")
        if not action:
            return None, f"{signing_name}:no-action"
        found = self._by_query_service.get((signing_name, version))
        if not found:
            return None, f"{signing_name}:{version}"
        return found[0], found[1], action, found[2], flat

    # --- checking ---

    def check(self, environ, body):
        """The Verdict for a request, or None if it is not one this checker knows (counted)."""
        if not self._loaded:
            self._load()
        found = self.identify(environ, body)
        if found[0] is None:
            with self._lock:
                self.unchecked[found[1]] = self.unchecked.get(found[1], 0) + 1
            return None
        service, model, operation, protocol, source = found
        problems = []
        try:
            op = model.operation_model(operation)
        except Exception:  # botocore's OperationNotFoundError
            problems.append(Problem("operation", operation, f"The action {operation} is not valid for this web service."))
            return self._record(Verdict(service, operation, protocol, problems))
        shape = op.input_shape
        value = None
        if protocol in ("query", "ec2"):
            used = set()
            prefixes = set()
            for key in source:
                parts = key.split(".")
                for n in range(1, len(parts) + 1):
                    prefixes.add(".".join(parts[:n]))
            value = {}
            if shape is not None:
                value = self._from_query(shape, "", source, prefixes, used, protocol == "ec2", "", problems)
                value = value if value is not None else {}
            for key in sorted(set(source) - used - QUERY_PROTOCOL_PARAMS):
                problems.append(Problem("unknown", key, f"The parameter {key} is not recognized", wire=key))
        elif protocol == "json":
            try:
                value = json.loads(source or b"{}")
            except ValueError:
                problems.append(Problem("type", "", "Start of structure or map found where not expected." if source else "Malformed JSON"))
                return self._record(Verdict(service, operation, protocol, problems))
        else:  # rest-json
            value = self._from_rest(shape, source, environ, problems)
        if shape is not None and value is not None and not any(p.kind == "type" and p.path == "" for p in problems):
            self._validate(service, operation, shape, value, "", problems, protocol, protocol == "json" or protocol == "rest-json")
        verdict = Verdict(service, operation, protocol, problems)
        if not problems:
            for quota in self._quotas.get((service, operation), ()):
                refused = quota(value, environ)
                if refused:
                    return self._record(verdict, quota=refused)
        return self._record(verdict)

    def _record(self, verdict, quota=None):
        key = f"{verdict.service}.{verdict.operation}"
        with self._lock:
            self.validated += 1
            self.by_operation[key] = self.by_operation.get(key, 0) + 1
        if quota is None and not verdict.problems:
            return verdict
        code, message = quota or self.error_of(verdict)
        verdict.refusal = (code, message)
        with self._lock:
            if quota:
                self.quota_rejected += 1
            else:
                self.rejected += 1
            self.violations.append({"service": verdict.service, "operation": verdict.operation, "code": code, "message": message})
        self._log(f"deployomat emulator strict API: refused {verdict.service} {verdict.operation}: {code}: {message}")
        return verdict

    # --- wire formats to values ---

    def _query_name(self, member_shape, member_name, ec2):
        serialization = member_shape.serialization
        if ec2:
            if "queryName" in serialization:
                return serialization["queryName"]
            if "name" in serialization:
                name = serialization["name"]
                return name[:1].upper() + name[1:]
            return member_name
        return serialization.get("name", member_name)

    def _from_query(self, shape, prefix, params, prefixes, used, ec2, path, problems):
        """The value of `shape` at `prefix` in flattened query params, or None if absent."""
        kind = shape.type_name
        if kind == "structure":
            if shape.metadata.get("document"):
                return None
            out = {}
            for name, member in shape.members.items():
                key = self._query_name(member, name, ec2)
                key = f"{prefix}.{key}" if prefix else key
                if key in prefixes:
                    value = self._from_query(member, key, params, prefixes, used, ec2, self._join(path, name), problems)
                    if value is not None:
                        out[name] = value
            return out if out or prefix == "" else None
        if kind == "list":
            if prefix in params and params[prefix] == "":
                used.add(prefix)
                return []
            member = shape.member
            if ec2 or shape.serialization.get("flattened"):
                bases = [prefix]
                if not ec2 and member.serialization.get("name"):
                    bases.append(".".join(prefix.split(".")[:-1] + [member.serialization["name"]]))
            else:
                bases = [f"{prefix}.{member.serialization.get('name', 'member')}"]
            items = []
            for base in bases:
                i = 1
                while f"{base}.{i}" in prefixes:
                    items.append(self._from_query(member, f"{base}.{i}", params, prefixes, used, ec2, f"{path}.{i}.member", problems))
                    i += 1
                if items:
                    break
            return items if items else None
        if kind == "map":
            if prefix in params and params[prefix] == "":
                used.add(prefix)
                return {}
            base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
            key_name = shape.key.serialization.get("name", "key")
            value_name = shape.value.serialization.get("name", "value")
            out, i = {}, 1
            while f"{base}.{i}" in prefixes:
                k = self._from_query(shape.key, f"{base}.{i}.{key_name}", params, prefixes, used, ec2, path, problems)
                v = self._from_query(shape.value, f"{base}.{i}.{value_name}", params, prefixes, used, ec2, f"{path}.{k}", problems)
                if k is not None:
                    out[k] = v
                i += 1
            return out if out else None
        if prefix not in params:
            return None
        used.add(prefix)
        raw = params[prefix]
        try:
            if kind in ("integer", "long"):
                return int(raw)
            if kind in ("float", "double"):
                return float(raw)
            if kind == "boolean":
                if raw not in ("true", "false"):
                    raise ValueError(raw)
                return raw == "true"
            if kind == "blob":
                return base64.b64decode(raw, validate=True)
        except (ValueError, binascii.Error):
            problems.append(Problem("type", path, f"Value '{_render(raw)}' at '{path}' failed to satisfy constraint: Member must be a valid {kind}", wire=prefix))
            return None
        return raw

    def _from_rest(self, shape, source, environ, problems):
        labels, match, body = source
        value = {}
        if shape is None:
            return value
        query = {}
        for key, val in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
            query.setdefault(key, []).append(val)
        payload = shape.serialization.get("payload")
        for name, member in shape.members.items():
            where = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if where == "uri":
                if wire in labels:
                    value[name] = unquote(match.group(labels.index(wire) + 1))
            elif where == "querystring":
                if wire in query:
                    raw = query[wire]
                    value[name] = raw if member.type_name == "list" else self._scalar(member, raw[0], name, problems)
            elif where == "header":
                header = environ.get("HTTP_" + wire.upper().replace("-", "_"))
                if header is not None:
                    value[name] = self._scalar(member, header, name, problems)
            elif where in ("headers", "statusCode"):
                continue
        if payload:
            if body:
                payload_shape = shape.members[payload]
                try:
                    value[payload] = json.loads(body) if payload_shape.type_name == "structure" else body
                except ValueError:
                    problems.append(Problem("type", "", "Malformed JSON"))
            return value
        if body:
            try:
                document = json.loads(body)
            except ValueError:
                problems.append(Problem("type", "", "Malformed JSON"))
                return value
            if not isinstance(document, dict):
                problems.append(Problem("type", "", "Start of structure or map found where not expected."))
                return value
            value.update(document)  # wire names, mapped to members (or reported) by _validate
        return value

    def _scalar(self, shape, raw, path, problems):
        try:
            if shape.type_name in ("integer", "long"):
                return int(raw)
            if shape.type_name in ("float", "double"):
                return float(raw)
            if shape.type_name == "boolean":
                return raw == "true"
        except ValueError:
            problems.append(Problem("type", path, f"Value '{_render(raw)}' at '{_lower_first(path)}' failed to satisfy constraint: Member must be a valid {shape.type_name}"))
            return None
        return raw

    # --- validation against the shape ---

    @staticmethod
    def _join(path, member_name):
        name = _lower_first(member_name)
        return f"{path}.{name}" if path else name

    def _traits(self, service, operation, shape):
        traits = shape.metadata
        extra = DOCUMENTED_CONSTRAINTS.get((service, shape.name))
        if extra and ("operations" not in extra or operation in extra["operations"]):
            return {**traits, **extra["traits"]}, extra.get("messages", {})
        return traits, {}

    def _names(self, shape):
        """{wire name in JSON: member name} for a structure (JSON uses `locationName` if set)."""
        names = self._member_names.get(id(shape))
        if names is None:
            names = {m.serialization.get("name", n): n for n, m in shape.members.items()}
            self._member_names[id(shape)] = names
        return names

    def _pattern(self, service, pattern):
        compiled = self._patterns.get(pattern, False)
        if compiled is False:
            source = translate_java_pattern(pattern)
            compiled = None
            if source is not None:
                try:
                    regex = re.compile(source)
                    anchored = pattern.startswith("^") or pattern.endswith("$")
                    compiled = regex.search if anchored else regex.fullmatch
                except re.error:
                    compiled = None
            if compiled is None:
                with self._lock:
                    self.skipped_patterns.add(f"{service}: {pattern}")
            self._patterns[pattern] = compiled
        return compiled

    def _validate(self, service, operation, shape, value, path, problems, protocol, from_json):
        kind = shape.type_name
        traits, messages = self._traits(service, operation, shape)
        where = path or _lower_first(shape.name)

        def constraint(name, text):
            custom = messages.get(name)
            if custom:
                problems.append(Problem("constraint", where, custom.format(value=_render(value, 1000)), custom=True))
            else:
                problems.append(
                    Problem("constraint", where, f"Value '{_render(value)}' at '{where}' failed to satisfy constraint: {text}")
                )

        def wrong_type(expected):
            problems.append(
                Problem("type", where, f"Value '{_render(value)}' at '{where}' cannot be converted to {expected}")
            )

        if traits.get("document"):
            return
        if kind == "structure":
            if not isinstance(value, dict):
                return wrong_type("a structure")
            names = self._names(shape) if from_json else None
            members = shape.members
            present = {}
            for key, member_value in value.items():
                name = names.get(key, key) if names is not None else key
                if name not in members:
                    member_path = self._join(path, key)
                    problems.append(Problem("unknown", member_path, f"'{key}' is not a member of {shape.name}", wire=key))
                    continue
                if member_value is None:
                    continue  # JSON null: absent
                present[name] = member_value
            for name in shape.required_members:
                if name not in present:
                    member_path = self._join(path, name)
                    wire = self._query_name(members[name], name, True) if protocol == "ec2" else name
                    problems.append(
                        Problem("missing", member_path, f"Value null at '{member_path}' failed to satisfy constraint: Member must not be null", wire=wire)
                    )
            if traits.get("union") and len(present) != 1:
                problems.append(Problem("constraint", where, f"Value at '{where}' failed to satisfy constraint: exactly one member of {shape.name} must be set"))
            for name, member_value in present.items():
                self._validate(service, operation, members[name], member_value, self._join(path, name), problems, protocol, from_json)
            return
        if kind == "list":
            if not isinstance(value, list):
                return wrong_type("a list")
            self._length(traits, len(value), constraint)
            for i, item in enumerate(value, 1):
                if item is not None:
                    self._validate(service, operation, shape.member, item, f"{where}.{i}.member", problems, protocol, from_json)
            return
        if kind == "map":
            if not isinstance(value, dict):
                return wrong_type("a map")
            self._length(traits, len(value), constraint)
            for key, item in value.items():
                self._validate(service, operation, shape.key, key, f"{where}.key", problems, protocol, from_json)
                if item is not None:
                    self._validate(service, operation, shape.value, item, f"{where}.{key}.member", problems, protocol, from_json)
            return
        if kind == "string":
            if not isinstance(value, str):
                return wrong_type("a string")
            self._length(traits, len(value), constraint)
            enum = traits.get("enum")
            if enum and value not in enum:
                constraint("enum", f"Member must satisfy enum value set: [{', '.join(enum)}]")
            pattern = traits.get("pattern")
            if pattern:
                matches = self._pattern(service, pattern)
                if matches is not None and not matches(value):
                    constraint("pattern", f"Member must satisfy regular expression pattern: {pattern}")
            return
        if kind in ("integer", "long"):
            if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
                return wrong_type("an integer")
            self._range(traits, value, constraint)
            return
        if kind in ("float", "double"):
            if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
                return
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return wrong_type("a number")
            self._range(traits, value, constraint)
            return
        if kind == "boolean":
            if not isinstance(value, bool):
                return wrong_type("a boolean")
            return
        if kind == "blob":
            if isinstance(value, str):
                try:
                    value = base64.b64decode(value, validate=True)
                except (ValueError, binascii.Error):
                    return wrong_type("base64-encoded bytes")
            if isinstance(value, (bytes, bytearray)):
                self._length(traits, len(value), constraint)
            return
        if kind == "timestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                return wrong_type("a timestamp")
            return

    @staticmethod
    def _length(traits, length, constraint):
        if "min" in traits and length < traits["min"]:
            constraint("min", f"Member must have length greater than or equal to {traits['min']}")
        if "max" in traits and length > traits["max"]:
            constraint("max", f"Member must have length less than or equal to {traits['max']}")

    @staticmethod
    def _range(traits, number, constraint):
        def text(n):
            return str(int(n)) if float(n).is_integer() else str(n)

        if "min" in traits and number < traits["min"]:
            constraint("min", f"Member must have value greater than or equal to {text(traits['min'])}")
        if "max" in traits and number > traits["max"]:
            constraint("max", f"Member must have value less than or equal to {text(traits['max'])}")

    # --- the answer ---

    def error_of(self, verdict):
        """(code, message) AWS answers a refused request with, in the request's protocol."""
        problems = verdict.problems
        by_kind = {}
        for p in problems:
            by_kind.setdefault(p.kind, []).append(p)
        protocol = verdict.protocol
        if "operation" in by_kind:
            if protocol in ("query", "ec2"):
                return "InvalidAction", by_kind["operation"][0].text
            return "UnknownOperationException", by_kind["operation"][0].text
        if protocol == "ec2":
            if "unknown" in by_kind:
                return "UnknownParameter", by_kind["unknown"][0].text
            if "missing" in by_kind:
                return "MissingParameter", f"The request must contain the parameter {by_kind['missing'][0].wire}"
            first = (by_kind.get("type") or by_kind.get("constraint"))[0]
            return "InvalidParameterValue", first.text
        code = "ValidationError" if protocol == "query" else "ValidationException"
        if "unknown" in by_kind:
            names = ", ".join(p.wire for p in by_kind["unknown"][:MAX_LISTED_ERRORS])
            return code, f"Unknown parameter{'s' if len(by_kind['unknown']) > 1 else ''} in input: {names}; must be one of the members of {verdict.operation}'s input"
        if "type" in by_kind and protocol != "query":
            return "SerializationException", by_kind["type"][0].text
        listed = [p for p in problems if p.kind in ("missing", "constraint", "type")]
        custom = [p for p in listed if p.custom]
        if custom:
            return code, custom[0].text
        shown = "; ".join(p.text for p in listed[:MAX_LISTED_ERRORS])
        more = f"; and {len(listed) - MAX_LISTED_ERRORS} more" if len(listed) > MAX_LISTED_ERRORS else ""
        return code, f"{len(listed)} validation error{'s' if len(listed) > 1 else ''} detected: {shown}{more}"

    def stats(self):
        with self._lock:
            return {
                "enabled": self.enabled,
                "validated": self.validated,
                "rejected": self.rejected,
                "quotaRejected": self.quota_rejected,
                "byOperation": dict(sorted(self.by_operation.items())),
                "unchecked": dict(sorted(self.unchecked.items())),
                "skippedPatterns": sorted(self.skipped_patterns),
                "violations": list(self.violations),
            }
