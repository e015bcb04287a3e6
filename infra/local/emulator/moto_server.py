"""Deployomat's local AWS emulator: moto's server plus a few test-only controls.

Equivalent to `python3 -m moto.server --host 127.0.0.1 --port N`, after patching
moto so that local runs and tests can exercise the deployer's waiting and
rollback paths. These seams live here, in the emulator, never in product code.

  a. ELBv2 targets report `initial` for N seconds after registration (moto
     reports `healthy` at once), so the deployer really has to wait.
  b. Instances launched from an AMI tagged `deployomat-emulator:health=unhealthy`
     fail their health checks forever (ELBv2 target health and ASG HealthStatus),
     so a bad deploy can be simulated.
  c. `GET/POST /_emulator/config` reads/changes the settings at runtime.
  h. Fault injection: the `faults` setting makes chosen AWS API actions fail
     with an AWS-shaped error, or answer late (see "h." below), for retry/DLQ/rollback
     and hung-call tests.
  n. Strict API (on unless `--no-strict` or DEPLOYOMAT_EMULATOR_STRICT=0): every request is
     checked against botocore's model of its operation (strict_api.py) and against AWS's
     documented quotas the models do not carry, and refused as AWS refuses it; refusals are
     logged, and `GET /_emulator/strict` counts what was checked.

And gaps where moto does less than AWS (filled here, not in product code):
  d. CreateLaunchTemplateVersion honours `SourceVersion` (new versions inherit
     the source's data, overridden by the request's LaunchTemplateData) and `ClientToken`
     (the same token again returns the version the first request created).
  e. CreateAutoScalingGroup honours `LifecycleHookSpecificationList`.
  h. An event's `time` is fixed once per PutEvents entry (moto stamped it per rule, so two
     targets — or a target and the archive — could disagree by a second).
  g. EventBridge delivery builds its JSONPath parsers once, not on every event
     (moto rebuilt a yacc parser 8 times per event: ~300 ms per PutEvents).
  f. A long-polling ReceiveMessage returns a delayed message as soon as its delay
     ends, and an in-flight one as soon as its visibility timeout does (moto only wakes a
     long poll when a message is *sent*, so such a message surfaced up to a second late).
  j. DynamoDB writes are atomic: moto's threaded server checked a condition and wrote the item
     without a lock, so two concurrent conditional writes to one item could both succeed (seen
     under load: a cancel and a traffic step both moved a deploy from the same position). Write
     actions are serialized here, as DynamoDB serializes writes to an item.
  k. TransactWriteItems backs up only the items it writes, not every table it names (moto
     deep-copied the whole table per transaction: the ledger, history and idempotency records
     share one table, so each ledger transition got slower as the table grew).
  l. Each request's backend is found without listing moto's package directory and matching
     every backend's URL regex again (moto did both per request, under one global lock).
  m. moto's per-request bookkeeping is cheaper: the response class's method list is
     remembered, request ids are drawn in one call instead of one per character.
  o. ELBv2 resources take 50 tags, as on AWS (moto refused the 11th).
  q. An AMI another account shared (ModifyImageAttribute LaunchPermission UserId) or made public
     is visible where AWS shows it: DescribeImages of the accounts it was shared with (moto kept
     each account's AMIs to itself), so an AMI built in Deployomat's account can be deployed.
  i. CloudWatch: PutCompositeAlarm exists (moto 5.2 has no handler for it) and
     DescribeAlarms honours AlarmTypes (moto returned composite alarms even when
     not asked for, so code that forgot them would pass here and miss them on AWS).
  p. Eventual consistency (opt-in: --consistency / DEPLOYOMAT_EMULATOR_CONSISTENCY / the
     `consistency` setting): reads of ELBv2, Auto Scaling and EC2 launch template versions lag
     behind writes by a seeded random delay (see "p." below); `GET /_emulator/consistency`
     counts the reads that missed a write.
  n. EventBridge TestEventPattern answers (moto 5.2 routes it to a stub): with moto's
     own matcher, the one its rules deliver events with, after the checks AWS makes
     on the pattern and the event.

Written against moto 5.2.x. Every hook is checked at start; if moto changes
shape the launcher fails loudly instead of silently serving unpatched moto.
"""

import argparse
import functools
import http
import io
import json
import logging
import os
import signal
import sys
import random
import re
import string
import threading
import time
import uuid
from urllib.parse import parse_qs
from xml.sax.saxutils import escape as xml_escape

import copy

from moto.autoscaling.models import InstanceState as AsgInstanceState
from moto.core.responses import ActionResult, BaseResponse
from moto.autoscaling.responses import AutoScalingResponse
from moto.ec2.responses.launch_templates import LaunchTemplates as LaunchTemplateResponses
from moto.sqs.models import Queue as SqsQueue
import jsonpath_ng.ext
from moto.ec2.models.tags import TagBackend
from moto.elbv2.models import FakeTargetGroup
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.datastructures import EnvironHeaders
from werkzeug.serving import run_simple

HEALTH_TAG_KEY = "deployomat-emulator:health"
CONFIG_PATH = "/_emulator/config"

_config_lock = threading.Lock()
CONFIG = {
    "initialHealthSeconds": float(
        os.environ.get("DEPLOYOMAT_EMULATOR_INITIAL_HEALTH_SECONDS", "0") or 0
    ),
    # Active fault injections (h.), normalized; see _parse_faults for the format.
    "faults": [],
}


def _require(owner, name):
    """Fail at start (not at the first request) if moto no longer has `name`."""
    if not hasattr(owner, name):
        raise RuntimeError(
            f"moto_server.py: cannot patch {getattr(owner, '__name__', owner)}.{name}; "
            "the installed moto version does not match (expected moto 5.2.x)"
        )
    return getattr(owner, name)


def _initial_health_seconds():
    with _config_lock:
        return CONFIG["initialHealthSeconds"]


# EC2 tags live in each account/region EC2 backend's `tags` dict: {resource_id: {key: value}}.
if not isinstance(getattr(TagBackend(), "tags", None), dict):
    raise RuntimeError("moto_server.py: moto's EC2 TagBackend no longer keeps a tags dict")


def _launched_from_bad_ami(instance):
    """True if the instance's AMI carries deployomat-emulator:health=unhealthy.

    The instance and its AMI live in the same account/region EC2 backend."""
    if instance is None or not getattr(instance, "image_id", None):
        return False
    # .get: `tags` is a defaultdict and must not grow entries on reads.
    image_tags = instance.ec2_backend.tags.get(instance.image_id, {})
    return image_tags.get(HEALTH_TAG_KEY) == "unhealthy"


# --- a. + b. ELBv2 target health ------------------------------------------------

_orig_register = _require(FakeTargetGroup, "register")
_orig_health_for = _require(FakeTargetGroup, "health_for")


@functools.wraps(_orig_register)
def _register(self, targets):
    # moto keeps no registration time; remember when each target was newly added.
    # ASGs re-register all their instances on every capacity change, so a target
    # that is already registered keeps its original time (as on AWS). Targets
    # newly added, or without a recorded time, get "now".
    already = set(self.targets.keys())
    _orig_register(self, targets)
    registered_at = self.__dict__.setdefault("_emulator_registered_at", {})
    now = time.monotonic()
    for target_id in self.targets.keys():
        if target_id not in already or target_id not in registered_at:
            registered_at[target_id] = now


@functools.wraps(_orig_health_for)
def _health_for(self, target, ec2_backend):
    status = _orig_health_for(self, target, ec2_backend)
    # Only override moto's plain "healthy" verdict for a registered target;
    # unused/draining/stopped answers stay as moto computed them.
    if status.status != "healthy" or target["Id"] not in self.targets:
        return status
    registered_at = self.__dict__.get("_emulator_registered_at", {}).get(target["Id"])
    # Evaluated at read time, so lowering initialHealthSeconds takes effect at once.
    if registered_at is not None and time.monotonic() - registered_at < _initial_health_seconds():
        status.status = "initial"
        status.reason = "Elb.RegistrationInProgress"
        status.description = "Target registration is in progress"
    elif _launched_from_bad_ami(ec2_backend.get_instance_by_id(target["Id"])):
        status.status = "unhealthy"
        status.reason = "Target.FailedHealthChecks"
        status.description = "Health checks failed"
    return status


FakeTargetGroup.register = _register
FakeTargetGroup.health_for = _health_for


# --- b. Auto Scaling instance HealthStatus ---------------------------------------
# moto stores a plain `health_status` attribute on its ASG InstanceState (set in
# __init__ and by SetInstanceHealth), which both DescribeAutoScalingGroups and
# DescribeAutoScalingInstances serialize. A property keeps the stored value but
# reports "Unhealthy" for bad-AMI instances, so non-web health counting sees it.

if isinstance(getattr(AsgInstanceState, "health_status", None), property) or (
    "health_status" not in AsgInstanceState.__init__.__code__.co_varnames
):
    raise RuntimeError(
        "moto_server.py: moto.autoscaling.models.InstanceState no longer has a plain "
        "health_status attribute (expected moto 5.2.x)"
    )


def _get_asg_health(self):
    if _launched_from_bad_ami(self.instance):
        return "Unhealthy"
    return self.__dict__.get("_emulator_health_status", "Healthy")


def _set_asg_health(self, value):
    self.__dict__["_emulator_health_status"] = value


AsgInstanceState.health_status = property(_get_asg_health, _set_asg_health)


# --- d. launch template versions inherit from SourceVersion ----------------------

_orig_create_lt_version = _require(LaunchTemplateResponses, "create_launch_template_version")


@functools.wraps(_orig_create_lt_version)
def _create_lt_version(self):
    source = self._get_param("SourceVersion")
    if source:
        name, tmpl_id = self._get_param("LaunchTemplateName"), self._get_param("LaunchTemplateId")
        template = (
            self.ec2_backend.get_launch_template(tmpl_id)
            if tmpl_id
            else self.ec2_backend.get_launch_template_by_name(name)
        )
        base = copy.deepcopy(template.get_version(source).data)
        plain_get_param = self._get_param

        def _get_param(param_name, if_none=None):
            value = plain_get_param(param_name, if_none)
            if param_name == "LaunchTemplateData":
                return {**base, **(value or {})}
            return value

        self._get_param = _get_param
    return _orig_create_lt_version(self)


# ClientToken: AWS makes CreateLaunchTemplateVersion idempotent per token (a retried or duplicated
# request gets the version the first one created); moto ignores the token and creates another.
_lt_version_by_token = {}  # (launch template id, client token) -> version number
_lt_token_lock = threading.Lock()


def _create_lt_version_once(self):
    token = self._get_param("ClientToken")
    if not token:
        return _create_lt_version(self)
    name, tmpl_id = self._get_param("LaunchTemplateName"), self._get_param("LaunchTemplateId")
    template = self.ec2_backend.get_launch_template(tmpl_id) if tmpl_id else self.ec2_backend.get_launch_template_by_name(name)
    with _lt_token_lock:
        number = _lt_version_by_token.get((template.id, token))
        if number is None:
            result = _create_lt_version(self)
            _lt_version_by_token[(template.id, token)] = result.result["LaunchTemplateVersion"]["VersionNumber"]
            return result
    version = template.get_version(number)
    return ActionResult(
        {
            "LaunchTemplateVersion": {
                "CreateTime": version.create_time,
                "CreatedBy": f"arn:{self.partition}:iam::{self.current_account}:root",
                "DefaultVersion": template.is_default(version),
                "LaunchTemplateData": version.data,
                "LaunchTemplateId": template.id,
                "LaunchTemplateName": template.name,
                "VersionDescription": version.description,
                "VersionNumber": version.number,
            },
        }
    )


LaunchTemplateResponses.create_launch_template_version = _create_lt_version_once


# --- d2. CreateLaunchTemplate's own tags stay the template's --------------------------
# moto copies the request's TagSpecifications (the tags of the launch template itself) into
# LaunchTemplateData.TagSpecifications, as if every instance launched from it were tagged (and with
# ResourceType launch-template, which AWS refuses there). AWS keeps them apart.

_orig_create_lt = _require(LaunchTemplateResponses, "create_launch_template")


@functools.wraps(_orig_create_lt)
def _create_lt(self):
    result = _orig_create_lt(self)
    template = self.ec2_backend.launch_template_name_to_ids.get(self._get_param("LaunchTemplateName"))
    template = self.ec2_backend.launch_templates.get(template) if template else None
    data_specs = (self._get_param("LaunchTemplateData", {}) or {}).get("TagSpecifications") or []
    for version in getattr(template, "versions", []):
        if "TagSpecifications" in version.data:
            version.data["TagSpecifications"] = [dict(spec) for spec in data_specs]
            if not version.data["TagSpecifications"]:
                del version.data["TagSpecifications"]
    return result


LaunchTemplateResponses.create_launch_template = _create_lt


# --- e. lifecycle hooks given at ASG creation -------------------------------------

_orig_create_asg = _require(AutoScalingResponse, "create_auto_scaling_group")


@functools.wraps(_orig_create_asg)
def _create_asg(self):
    result = _orig_create_asg(self)
    name = self._get_param("AutoScalingGroupName")
    for hook in self._get_params().get("LifecycleHookSpecificationList", []) or []:
        self.autoscaling_backend.create_lifecycle_hook(
            name=hook.get("LifecycleHookName"),
            as_name=name,
            transition=hook.get("LifecycleTransition"),
            timeout=int(hook["HeartbeatTimeout"]) if hook.get("HeartbeatTimeout") else None,
            result=hook.get("DefaultResult"),
        )
    _keep_service_linked_role(self, name)
    return result


AutoScalingResponse.create_auto_scaling_group = _create_asg


# --- e2. the service-linked role a group is given ----------------------------------
# moto ignores ServiceLinkedRoleARN and reports the default role for every group; AWS keeps the
# one given at creation or update (Deployomat refuses a template ASG naming any other role).

_orig_update_asg = _require(AutoScalingResponse, "update_auto_scaling_group")


def _keep_service_linked_role(self, name):
    arn = self._get_param("ServiceLinkedRoleARN")
    group = self.autoscaling_backend.autoscaling_groups.get(name)
    if arn and group is not None:
        group.service_linked_role_arn = arn


@functools.wraps(_orig_update_asg)
def _update_asg(self):
    result = _orig_update_asg(self)
    _keep_service_linked_role(self, self._get_param("AutoScalingGroupName"))
    return result


AutoScalingResponse.update_auto_scaling_group = _update_asg


# --- q. AMIs shared with other accounts ----------------------------------------------
# moto keeps each account's AMIs in that account's EC2 backend, so an AMI shared with another
# account, or public, is found nowhere else. AWS lists it to the accounts that may launch it: by
# id, by owner (Owners=[<its account>]), by filters, and instances launch from it. describe_images
# is also how moto's RunInstances reads the AMI it launches.

from moto.ec2.models.amis import AmiBackend
from moto.ec2.exceptions import InvalidAMIIdError
from moto.ec2.utils import generic_filter

_orig_describe_images = _require(AmiBackend, "describe_images")


def _shared_amis(backend):
    """AMIs of other accounts (same region) that `backend`'s account may launch."""
    from moto.ec2.models import ec2_backends

    me = backend.account_id
    shared = []
    # dict's own accessors: moto's would create a backend for every account and region asked for.
    for account_backends in list(dict.values(ec2_backends)):
        other = dict.get(account_backends, backend.region_name)
        if other is None or other.account_id == me:
            continue
        for ami in list(other.amis.values()):
            # Amazon's AMIs (moto's defaults) are in every account's backend already.
            if ami.owner_id != other.account_id:
                continue
            if ami.is_public or any(lp.get("UserId") == me for lp in ami.launch_permissions):
                shared.append(ami)
    return shared


@functools.wraps(_orig_describe_images)
def _describe_images(self, ami_ids=None, filters=None, exec_users=None, owners=None):
    shared = _shared_amis(self)
    if not shared:
        return _orig_describe_images(self, ami_ids=ami_ids, filters=filters, exec_users=exec_users, owners=owners)
    try:
        own = _orig_describe_images(self, ami_ids=ami_ids, filters=filters, exec_users=exec_users, owners=owners)
    except InvalidAMIIdError:
        own = []
    # The same selection moto makes of its own (ids alone, or owners and then filters).
    if ami_ids:
        shared = [ami for ami in shared if ami.id in ami_ids]
    else:
        if owners:
            wanted = [self.account_id if o == "self" else o for o in owners]
            shared = [ami for ami in shared if ami.owner_id in wanted or ami.owner_alias in wanted]
        if filters:
            shared = generic_filter(filters, shared)
    if ami_ids and not own and not shared and not [i for i in ami_ids if i in self.deleted_amis]:
        raise InvalidAMIIdError(ami_ids)
    seen = {ami.id for ami in own}
    return list(own) + [ami for ami in shared if ami.id not in seen]


AmiBackend.describe_images = _describe_images


# --- f. delayed SQS messages wake long polls ---------------------------------------
# moto's long poll waits on the queue's condition, which only a SendMessage notifies: a message
# whose delay or visibility timeout ends meanwhile was returned up to a second late (moto's
# receive loop re-checks every second). The wait now ends when the first such message becomes
# receivable, and a visibility change notifies the queue too (a retry made visible sooner).

from moto.sqs.models import SQSBackend  # noqa: E402
from moto.core.utils import unix_time_millis as _unix_time_millis  # noqa: E402

_require(SqsQueue, "wait_for_messages")
_orig_change_message_visibility = _require(SQSBackend, "change_message_visibility")
WAKE_MARGIN_SECONDS = 0.005


def _seconds_until_receivable(queue):
    """Seconds until the first delayed or in-flight message can be received, or None."""
    now = _unix_time_millis()
    upcoming = [t for t in (max(m.visible_at, m.delayed_until) for m in queue._messages) if t > now]
    return (min(upcoming) - now) / 1000 + WAKE_MARGIN_SECONDS if upcoming else None


def _wait_for_messages(self, timeout):
    deadline = time.monotonic() + timeout
    with self._messages_lock:
        while not self.messages:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            until = _seconds_until_receivable(self)
            self._messages_lock.wait(left if until is None else min(left, until))


@functools.wraps(_orig_change_message_visibility)
def _change_message_visibility(self, queue_name, receipt_handle, visibility_timeout):
    result = _orig_change_message_visibility(self, queue_name, receipt_handle, visibility_timeout)
    queue = self.get_queue(queue_name)
    with queue._messages_lock:
        queue._messages_lock.notify_all()  # long polls recompute when to wake
    return result


SQSBackend.change_message_visibility = _change_message_visibility
SqsQueue.wait_for_messages = _wait_for_messages


# --- f2. a dead-letter queue's RedriveAllowPolicy ------------------------------------
# moto stores RedriveAllowPolicy but lets any queue name the queue as its dead-letter target; AWS
# refuses a RedrivePolicy the dead-letter queue does not allow (denyAll, or byQueue without this
# queue among sourceQueueArns).

from moto.sqs.exceptions import SQSException  # noqa: E402

_orig_setup_dlq = _require(SqsQueue, "_setup_dlq")


@functools.wraps(_orig_setup_dlq)
def _setup_dlq(self, policy):
    _orig_setup_dlq(self, policy)
    dlq = getattr(self, "dead_letter_queue", None)
    raw = getattr(dlq, "redrive_allow_policy", None) if dlq is not None else None
    if not raw:
        return
    allow = json.loads(raw) if isinstance(raw, str) else raw
    permission = allow.get("redrivePermission", "allowAll")
    if permission == "allowAll" or (permission == "byQueue" and self.queue_arn in allow.get("sourceQueueArns", [])):
        return
    self.redrive_policy = None
    self.dead_letter_queue = None
    raise SQSException(
        "InvalidParameterValue",
        f"Value {json.dumps(policy) if not isinstance(policy, str) else policy} for parameter RedrivePolicy is invalid. "
        f"Reason: the dead-letter queue {dlq.name} does not allow {self.name} as a source queue (its RedriveAllowPolicy).",
    )


SqsQueue._setup_dlq = _setup_dlq


# --- g. cached JSONPath parsing for EventBridge delivery ----------------------------
# moto.events.utils.EventTemplateParser.parse does `from jsonpath_ng.ext import parse` on each
# call; parsed expressions are immutable, so caching them by text is safe.

_require(jsonpath_ng.ext, "parse")
jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


# --- h. fault injection ------------------------------------------------------------
# CONFIG["faults"] lists AWS API actions that must fail, e.g.
#   {"action": "CreateAutoScalingGroup", "count": 3, "code": "ServiceUnavailable",
#    "status": 503, "message": "...", "account": "222222222222", "probability": 0.5}
# count: how many matching calls still fail (-1 = forever; a spent fault stays listed with
# count 0 so GET shows it was used up). code defaults to DeployomatEmulatorFault, status to
# 400. account: only requests made in that AWS account. probability: the share of matching
# calls that fail (a call spared by chance does not use up the count). delaySeconds: instead of
# failing, the call is answered normally that many seconds late (a hung or slow service).
#
# A request's action is found before moto sees the request:
#   - JSON protocol (DynamoDB, EventBridge, SSM, SQS JSON, CloudWatch JSON, which SDK v3's
#     CloudWatch client uses): `X-Amz-Target: Prefix.Action`;
#   - query protocol (EC2, Auto Scaling, ELBv2, STS, SQS query, CloudWatch query): `Action=` in
#     the query string or in the form-encoded body (which is read and put back for moto);
#   - Smithy RPC v2 CBOR (CloudWatch's third protocol, e.g. the Go SDK v2's; moto 5.2 does not
#     serve it, but a fault still answers it, in CBOR): `POST /service/<Service>/operation/Action`
#     with `smithy-protocol: rpc-v2-cbor`;
#   - EventBridge Scheduler (REST-JSON): method + path, SCHEDULER_ROUTES below.
# Not matched (never fail): other REST services (S3, Lambda, ...) and moto's own /moto-api
# endpoints.
# The account is derived exactly as moto does it (MOTO_ACCOUNT_ID, the x-moto-account-id
# header, else the Authorization header's access key id -> the account whose IAM backend holds
# it, which includes keys issued by STS AssumeRole; unknown keys -> moto's default account).

FAULT_DEFAULT_CODE = "DeployomatEmulatorFault"
FAULT_DEFAULT_STATUS = 400
FAULT_DEFAULT_MESSAGE = "Fault injected by the Deployomat emulator"
FAULT_KEYS = {"action", "count", "code", "status", "message", "account", "probability", "delaySeconds"}

# The SigV4 credential scope names the service: Credential=AKID/20240101/us-east-1/ec2/aws4_request
_SIGNING_SERVICE_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")

# Smithy RPC v2 CBOR: POST /service/<service shape name>/operation/<operation name>.
_RPC_V2_PATH_RE = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")

# Services whose JSON/CBOR protocols are "AWS query compatible" (their models say
# awsQueryCompatible): AWS also names the query-protocol error code in `x-amzn-query-error`,
# which the SDK prefers over the body's `__type`. Keyed by X-Amz-Target prefix / RPC v2 service.
QUERY_COMPATIBLE_SERVICES = {"AmazonSQS", "GraniteServiceVersion20100801"}  # SQS, CloudWatch

# EventBridge Scheduler's REST routes (from its API model): (method, path regex) -> action.
SCHEDULER_ROUTES = [
    (method, re.compile(pattern), action)
    for method, pattern, action in [
        ("POST", r"^/schedules/[^/]+$", "CreateSchedule"),
        ("GET", r"^/schedules/[^/]+$", "GetSchedule"),
        ("PUT", r"^/schedules/[^/]+$", "UpdateSchedule"),
        ("DELETE", r"^/schedules/[^/]+$", "DeleteSchedule"),
        ("GET", r"^/schedules/?$", "ListSchedules"),
        ("POST", r"^/schedule-groups/[^/]+$", "CreateScheduleGroup"),
        ("GET", r"^/schedule-groups/[^/]+$", "GetScheduleGroup"),
        ("DELETE", r"^/schedule-groups/[^/]+$", "DeleteScheduleGroup"),
        ("GET", r"^/schedule-groups/?$", "ListScheduleGroups"),
        ("POST", r"^/tags/.+$", "TagResource"),
        ("GET", r"^/tags/.+$", "ListTagsForResource"),
        ("DELETE", r"^/tags/.+$", "UntagResource"),
    ]
]

# moto's own account resolution (core.responses.BaseResponse), reused on a bare instance.
_require(BaseResponse, "get_current_account")
_require(BaseResponse, "get_access_key")
_require(BaseResponse, "access_key_regex")


def _parse_faults(value):
    """Validates POSTed faults; returns them normalized (defaults filled in)."""
    if not isinstance(value, list):
        raise ValueError("faults must be a list")
    faults = []
    for i, raw in enumerate(value):
        where = f"faults[{i}]"
        if not isinstance(raw, dict):
            raise ValueError(f"{where} must be an object")
        unknown = set(raw) - FAULT_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        action = raw.get("action")
        if not isinstance(action, str) or not action:
            raise ValueError(f"{where}.action must be a non-empty string")
        count = raw.get("count", -1)
        if isinstance(count, bool) or not isinstance(count, int) or count < -1:
            raise ValueError(f"{where}.count must be an integer >= -1 (-1 = forever)")
        code = raw.get("code", FAULT_DEFAULT_CODE)
        if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z0-9_.:-]+", code):
            raise ValueError(f"{where}.code must be an error code such as ServiceUnavailable")
        status = raw.get("status", FAULT_DEFAULT_STATUS)
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError(f"{where}.status must be an HTTP error status (400-599)")
        message = raw.get("message", FAULT_DEFAULT_MESSAGE)
        if not isinstance(message, str):
            raise ValueError(f"{where}.message must be a string")
        fault = {"action": action, "count": count, "code": code, "status": status, "message": message}
        if "account" in raw:
            if not isinstance(raw["account"], str) or not re.fullmatch(r"\d{12}", raw["account"]):
                raise ValueError(f"{where}.account must be a 12-digit AWS account id")
            fault["account"] = raw["account"]
        if "probability" in raw:
            p = raw["probability"]
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
                raise ValueError(f"{where}.probability must be a number from 0 to 1")
            fault["probability"] = p
        if "delaySeconds" in raw:
            d = raw["delaySeconds"]
            if isinstance(d, bool) or not isinstance(d, (int, float)) or not 0 < d <= 900:
                raise ValueError(f"{where}.delaySeconds must be a number of seconds from 0 to 900")
            fault["delaySeconds"] = d
        faults.append(fault)
    return faults


def _read_body(environ):
    """Reads the request body and puts it back so the wrapped app still sees all of it."""
    length = environ.get("CONTENT_LENGTH")
    stream = environ["wsgi.input"]
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):  # chunked: the server ends the stream
        body = stream.read()
    else:
        return b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _identify_request(environ):
    """(action, protocol) of an AWS API request, or (None, None) if it cannot be told.

    protocol is one of "json", "rpc-v2-cbor", "rest-json", "ec2", "query" and picks the error's
    shape."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1], "json"
    rpc_v2 = _RPC_V2_PATH_RE.match(environ.get("PATH_INFO", ""))
    if rpc_v2 and environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        return rpc_v2.group(2), "rpc-v2-cbor"
    match = _SIGNING_SERVICE_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = match.group(1) if match else None
    if service == "scheduler":
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", "")
        for route_method, pattern, action in SCHEDULER_ROUTES:
            if method == route_method and pattern.match(path):
                return action, "rest-json"
        return None, None
    protocol = "ec2" if service == "ec2" else "query"
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action", [None])[0]
    content_type = environ.get("CONTENT_TYPE", "")
    if not action and content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(_read_body(environ).decode("utf-8", "replace"))
        action = form.get("Action", [None])[0]
    return (action, protocol) if action else (None, None)


def _request_account(environ):
    """The AWS account id moto would serve this request in."""
    resolver = BaseResponse()
    resolver.headers = EnvironHeaders(environ)
    resolver.querystring = parse_qs(environ.get("QUERY_STRING", ""))
    return resolver.get_current_account()


# Test instrumentation (e.g. the IAM call recorder reading the tags IAM would evaluate) sends this
# header: its reads see AWS's settled state, never an injected fault (h.) or a lagging read (p.).
OBSERVER_HEADER = "x-deployomat-observer"


def _take_fault(environ):
    """The fault to answer this request with (its count used up by one), or None."""
    if environ.get("HTTP_" + OBSERVER_HEADER.upper().replace("-", "_")):
        return None
    with _config_lock:
        if not any(f["count"] != 0 for f in CONFIG["faults"]):
            return None
    action, protocol = _identify_request(environ)
    if action is None:
        return None
    account = None
    with _config_lock:
        for fault in CONFIG["faults"]:
            if fault["count"] == 0 or fault["action"] != action:
                continue
            if "account" in fault:
                if account is None:
                    # Reads moto's IAM backends (lock-free, as moto does); cheap.
                    account = _request_account(environ)
                if fault["account"] != account:
                    continue
            if "probability" in fault and random.random() >= fault["probability"]:
                continue
            if fault["count"] > 0:
                fault["count"] -= 1
            return dict(fault, protocol=protocol)
    return None


def _cbor_text_map(values):
    """CBOR (RFC 8949) encoding of a {str: str} dict: all an RPC v2 CBOR error body needs."""

    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | info]) + n.to_bytes(size, "big")
        raise ValueError("too long for CBOR")

    def text(value):
        data = value.encode("utf-8")
        return head(3, len(data)) + data

    return head(5, len(values)) + b"".join(text(k) + text(v) for k, v in values.items())


def _query_compatible(environ):
    """True for a JSON or RPC v2 CBOR request to a service in QUERY_COMPATIBLE_SERVICES."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    rpc_v2 = _RPC_V2_PATH_RE.match(environ.get("PATH_INFO", ""))
    service = target.rsplit(".", 1)[0] if target else (rpc_v2.group(1) if rpc_v2 else None)
    return service in QUERY_COMPATIBLE_SERVICES


def _fault_response(environ, start_response, fault):
    return _error_response(environ, start_response, fault["protocol"], fault["code"], fault["message"], fault["status"])


def _error_response(environ, start_response, protocol, code, message, status):
    """An error response shaped as AWS sends it for the request's protocol."""
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if protocol in ("json", "rest-json", "rpc-v2-cbor") and _query_compatible(environ):
        kind = "Receiver" if status >= 500 else "Sender"
        headers.append(("x-amzn-query-error", f"{code};{kind}"))
    if protocol == "rpc-v2-cbor":
        body = _cbor_text_map({"__type": code, "message": message})
        headers.append(("smithy-protocol", "rpc-v2-cbor"))
        content_type = "application/cbor"
    elif protocol in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers.append(("x-amzn-ErrorType", code))
        request_type = environ.get("CONTENT_TYPE", "")
        if protocol == "json" and request_type.startswith("application/x-amz-json"):
            content_type = request_type
        else:
            content_type = "application/json"
    else:
        esc = xml_escape
        if protocol == "ec2":
            xml = (
                f"<Response><Errors><Error><Code>{esc(code)}</Code><Message>{esc(message)}</Message>"
                f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
            )
        else:
            kind = "Receiver" if status >= 500 else "Sender"
            xml = (
                f"<ErrorResponse><Error><Type>{kind}</Type><Code>{esc(code)}</Code>"
                f"<Message>{esc(message)}</Message></Error><RequestId>{request_id}</RequestId>"
                "</ErrorResponse>"
            )
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode()
        content_type = "text/xml"
    headers += [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    start_response(f"{status} {reason}", headers)
    return [body]


# --- h. one `time` per event ------------------------------------------------------

from moto.core.utils import unix_time as _unix_time  # noqa: E402
from moto.events.models import EventsBackend  # noqa: E402

_orig_put_events = _require(EventsBackend, "put_events")


@functools.wraps(_orig_put_events)
def _put_events(self, events):
    now = _unix_time()
    for event in events:
        if isinstance(event, dict):
            event.setdefault("Time", now)
    return _orig_put_events(self, events)


EventsBackend.put_events = _put_events


# --- i. CloudWatch composite alarms --------------------------------------------------
# moto 5.2 stores a composite alarm as an Alarm with a `rule` (put_metric_alarm already reads
# AlarmRule "to re-use this method for composite alarms"), but routes no PutCompositeAlarm to it.
# Its state is never evaluated from the rule: set it with SetAlarmState, as for metric alarms.
# DescribeAlarms returns both kinds whatever AlarmTypes says; AWS returns only the types asked
# for, and only metric alarms when AlarmTypes is absent.

from moto.cloudwatch.responses import CloudWatchResponse  # noqa: E402

_orig_put_metric_alarm = _require(CloudWatchResponse, "put_metric_alarm")
_orig_describe_alarms = _require(CloudWatchResponse, "describe_alarms")


def _put_composite_alarm(self):
    return _orig_put_metric_alarm(self)


@functools.wraps(_orig_describe_alarms)
def _describe_alarms(self):
    result = _orig_describe_alarms(self)
    alarm_types = self._get_param("AlarmTypes") or ["MetricAlarm"]
    listed = getattr(result, "result", None)
    if not isinstance(listed, dict) or not {"MetricAlarms", "CompositeAlarms"} <= set(listed):
        raise RuntimeError("moto_server.py: moto's DescribeAlarms result changed shape (expected moto 5.2.x)")
    for alarm_type, key in (("MetricAlarm", "MetricAlarms"), ("CompositeAlarm", "CompositeAlarms")):
        if alarm_type not in alarm_types:
            listed[key] = []
    return result


if not hasattr(CloudWatchResponse, "put_composite_alarm"):  # a later moto may implement it
    CloudWatchResponse.put_composite_alarm = _put_composite_alarm
CloudWatchResponse.describe_alarms = _describe_alarms


# --- n. strict API: requests checked against AWS's API models, and documented quotas ------------
# strict_api.py checks every request against botocore's model of its operation before moto sees
# it (moto accepts many requests AWS refuses). The quotas below are AWS's documented defaults
# that the models do not carry and that need moto's state (how many rules, tags or hooks exist);
# they run only for a request that passed the model. A refusal is answered as AWS answers it,
# logged on stderr, and counted (GET /_emulator/strict; and, at exit, one JSON line appended to
# the file DEPLOYOMAT_EMULATOR_STRICT_REPORT names, if set).

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from strict_api import StrictApi  # noqa: E402
from moto.autoscaling.models import AutoScalingBackend, autoscaling_backends  # noqa: E402
from moto.elbv2.models import ELBv2Backend, FakeListener, elbv2_backends  # noqa: E402

STRICT_PATH = "/_emulator/strict"
STRICT = StrictApi(enabled=os.environ.get("DEPLOYOMAT_EMULATOR_STRICT", "1").strip().lower() not in ("0", "false", "off", "no"))

ELBV2_RULES_PER_LOAD_BALANCER = 100  # ALB quotas: rules per load balancer, excluding default rules
ELBV2_TAGS_PER_RESOURCE = 50  # ELB: "Maximum number of tags per resource—50" (aws: tags not counted)
ASG_TAGS_PER_GROUP = 50  # EC2 Auto Scaling quotas: tags per Auto Scaling group
ASG_LIFECYCLE_HOOKS_PER_GROUP = 50  # PutLifecycleHook: "by default is 50 per Auto Scaling group"

if "_non_default_rules" not in FakeListener.__init__.__code__.co_names:
    raise RuntimeError("moto_server.py: moto's FakeListener no longer keeps _non_default_rules (expected moto 5.2.x)")
_require(ELBv2Backend, "_get_resource_by_arn")
for _owner, _attributes in (
    (ELBv2Backend, ("tagging_service", "load_balancers")),
    (AutoScalingBackend, ("autoscaling_groups", "lifecycle_hooks")),
):
    if not set(_attributes) <= set(_owner.__init__.__code__.co_names):
        raise RuntimeError(f"moto_server.py: moto's {_owner.__name__} no longer has {_attributes} (expected moto 5.2.x)")


def _backend(backends, environ):
    """The account/region backend of `backends` this request is served by."""
    scope = re.search(r"Credential=[^/,\s]+/\d{8}/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    region = scope.group(1) if scope else "us-east-1"
    return backends[_request_account(environ)][region]


def _counted_tags(tags):
    return {t.get("Key") for t in tags or [] if not str(t.get("Key", "")).startswith("aws:")}


@STRICT.quota("elbv2", "CreateRule")
def _rules_per_load_balancer(value, environ):
    backend = _backend(elbv2_backends, environ)
    for balancer in backend.load_balancers.values():
        if value.get("ListenerArn") in balancer.listeners:
            rules = sum(len(listener._non_default_rules) for listener in balancer.listeners.values())
            if rules >= ELBV2_RULES_PER_LOAD_BALANCER:
                return (
                    "TooManyRules",
                    "You've reached the limit on the number of rules per load balancer "
                    f"({ELBV2_RULES_PER_LOAD_BALANCER}, excluding default rules).",
                )
    return None


def _elbv2_tags_at_creation(value, environ):
    if len(_counted_tags(value.get("Tags"))) > ELBV2_TAGS_PER_RESOURCE:
        return "TooManyTags", f"You've reached the limit on the number of tags for this resource ({ELBV2_TAGS_PER_RESOURCE})."
    return None


for _operation in ("CreateLoadBalancer", "CreateTargetGroup", "CreateListener", "CreateRule", "CreateTrustStore"):
    STRICT.quota("elbv2", _operation)(_elbv2_tags_at_creation)


@STRICT.quota("elbv2", "AddTags")
def _elbv2_tags_per_resource(value, environ):
    backend = _backend(elbv2_backends, environ)
    added = _counted_tags(value.get("Tags"))
    for arn in value.get("ResourceArns", []):
        existing = _counted_tags({"Key": k} for k in backend.tagging_service.get_tag_dict_for_resource(arn))
        if len(existing | added) > ELBV2_TAGS_PER_RESOURCE:
            return (
                "TooManyTags",
                f"You've reached the limit on the number of tags for this resource ({ELBV2_TAGS_PER_RESOURCE}): "
                f"{arn} would have {len(existing | added)}.",
            )
    return None


def _asg_limit(what, group, count, limit):
    return "LimitExceeded", f"The quota of {limit} {what} per Auto Scaling group has been reached: {group} would have {count}."


@STRICT.quota("autoscaling", "CreateAutoScalingGroup")
def _asg_creation_limits(value, environ):
    group = value.get("AutoScalingGroupName")
    tags = {t.get("Key") for t in value.get("Tags") or []}
    if len(tags) > ASG_TAGS_PER_GROUP:
        return _asg_limit("tags", group, len(tags), ASG_TAGS_PER_GROUP)
    hooks = {h.get("LifecycleHookName") for h in value.get("LifecycleHookSpecificationList") or []}
    if len(hooks) > ASG_LIFECYCLE_HOOKS_PER_GROUP:
        return _asg_limit("lifecycle hooks", group, len(hooks), ASG_LIFECYCLE_HOOKS_PER_GROUP)
    return None


@STRICT.quota("autoscaling", "CreateOrUpdateTags")
def _asg_tags_per_group(value, environ):
    backend = _backend(autoscaling_backends, environ)
    added = {}
    for tag in value.get("Tags") or []:
        added.setdefault(tag.get("ResourceId"), set()).add(tag.get("Key"))
    for name, keys in added.items():
        group = backend.autoscaling_groups.get(name)
        if group is None:
            continue  # moto reports the missing group
        total = len({t["Key"] for t in group.tags} | keys)
        if total > ASG_TAGS_PER_GROUP:
            return _asg_limit("tags", name, total, ASG_TAGS_PER_GROUP)
    return None


@STRICT.quota("autoscaling", "PutLifecycleHook")
def _asg_hooks_per_group(value, environ):
    backend = _backend(autoscaling_backends, environ)
    name = value.get("AutoScalingGroupName")
    hooks = {h.name for h in backend.lifecycle_hooks.values() if h.auto_scaling_group_name == name}
    total = len(hooks | {value.get("LifecycleHookName")})
    if total > ASG_LIFECYCLE_HOOKS_PER_GROUP:
        return _asg_limit("lifecycle hooks", name, total, ASG_LIFECYCLE_HOOKS_PER_GROUP)
    return None


def _strict_response(environ, start_response):
    """The strict check's answer to a refused request, or None to let the request through."""
    verdict = STRICT.check(environ, _read_body(environ))
    if verdict is None or verdict.refusal is None:
        return None
    code, message = verdict.refusal
    return _error_response(environ, start_response, verdict.protocol, code, message, 400)


def _write_strict_report():
    """Appends this run's strict-check counts to DEPLOYOMAT_EMULATOR_STRICT_REPORT (one JSON line)."""
    path = os.environ.get("DEPLOYOMAT_EMULATOR_STRICT_REPORT")
    if not path:
        return
    try:
        line = (json.dumps({"pid": os.getpid(), **STRICT.stats()}) + "\n").encode()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError as err:
        print(f"deployomat emulator: could not write the strict report to {path}: {err}", file=sys.stderr, flush=True)


def _exit():
    """Exits at once (all state is in memory), after the strict report."""
    if STRICT.enabled:
        stats = STRICT.stats()
        print(
            f"deployomat emulator strict API: {stats['validated']} calls checked, {stats['rejected']} refused by the "
            f"models, {stats['quotaRejected']} by quotas, {sum(stats['unchecked'].values())} not checked",
            file=sys.stderr,
            flush=True,
        )
        _write_strict_report()
    os._exit(0)


# --- o. ELBv2 allows 50 tags per resource -------------------------------------------------------
# moto refused an ELBv2 resource's 11th tag (Classic Load Balancer's old limit); ELBv2 allows 50,
# aws: tags not counted. The strict quota above enforces 50; without strict mode, none.

_require(ELBv2Backend, "add_tags")


def _elbv2_add_tags(self, resource_arns, tags):
    for arn in resource_arns:
        self._get_resource_by_arn(arn)
        self.tagging_service.tag_resource(arn, tags)


ELBv2Backend.add_tags = _elbv2_add_tags


# --- c. runtime control endpoint --------------------------------------------------


# --- j. atomic DynamoDB writes ------------------------------------------------------
DYNAMODB_WRITES = {
    f"DynamoDB_20120810.{action}"
    for action in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")
}
_dynamodb_write_lock = threading.Lock()


def _serialized(app, environ, start_response):
    """Runs one request to completion (body included) under the DynamoDB write lock."""
    with _dynamodb_write_lock:
        result = app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            if hasattr(result, "close"):
                result.close()


# --- k. TransactWriteItems backs up only the items it writes ----------------------------------
# moto deep-copies every table a transaction names before writing, to put the table back if a
# condition fails. Deployomat keeps its ledger, audit history and idempotency records in one
# table, so every ledger transition copied the whole, growing table (29 → 260 ms per call with
# 50 deploys). With writes serialized (j.), backing up just the transaction's items and putting
# them back on failure leaves the same state. moto's own copy is skipped by handing it a `copy`
# whose deepcopy returns the table itself while one of our transactions runs on this thread.

import moto.dynamodb.models as _dynamodb_models  # noqa: E402
from moto.dynamodb.models import DynamoDBBackend  # noqa: E402
from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: E402
from moto.dynamodb.models.table import Table as DynamoTable  # noqa: E402

_orig_transact_write_items = _require(DynamoDBBackend, "transact_write_items")
if _require(_dynamodb_models, "copy") is not copy:
    raise RuntimeError("moto_server.py: moto.dynamodb.models no longer uses the copy module")
_transaction = threading.local()


class _CopyKeepingTables:
    """`copy` for moto.dynamodb.models: a Table is not copied while `_transaction.backed_up` is set."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if getattr(_transaction, "backed_up", False) and isinstance(value, DynamoTable):
            return value  # "restoring" it puts the same table back; _restore_items undoes the writes
        return copy.deepcopy(value, memo)


def _item_backups(backend, transact_items):
    """[(table, hash key, range key, deep copy of the item or None)], or None if a key is unreadable."""
    backups = []
    try:
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue  # moto reports the missing table; nothing of it to restore
            key = op["Item"] if op_type == "Put" else op["Key"]
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            backups.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    except Exception:  # malformed request: let moto copy the tables and report the error itself
        return None
    return backups


def _restore_items(backups):
    for table, hash_key, range_key, item in reversed(backups):
        if range_key is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        elif item is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item


@functools.wraps(_orig_transact_write_items)
def _transact_write_items(self, transact_items):
    backups = _item_backups(self, transact_items) if len(transact_items) <= 100 else None
    if backups is None:
        return _orig_transact_write_items(self, transact_items)
    _transaction.backed_up = True
    try:
        return _orig_transact_write_items(self, transact_items)
    except Exception:
        _restore_items(backups)
        raise
    finally:
        _transaction.backed_up = False


_dynamodb_models.copy = _CopyKeepingTables()
DynamoDBBackend.transact_write_items = _transact_write_items


# --- l. request routing without a directory scan --------------------------------------------
# moto's DomainDispatcherApplication finds each request's backend under one global lock, and on
# the way lists moto's package directory (an isdir per entry, ~170) and tries every backend's URL
# regex: per request. Neither answer changes while the server runs, so both are remembered.

import moto.backends as _moto_backends  # noqa: E402

_orig_list_of_moto_modules = _require(_moto_backends, "list_of_moto_modules")
_moto_modules = None


def _list_of_moto_modules():
    global _moto_modules
    if _moto_modules is None:
        _moto_modules = tuple(_orig_list_of_moto_modules())
    return _moto_modules


_orig_get_backend_for_host = _require(DomainDispatcherApplication, "get_backend_for_host")
_backend_for_host = {}


@functools.wraps(_orig_get_backend_for_host)
def _get_backend_for_host(self, host):
    key = (id(self), host)
    if key not in _backend_for_host:
        _backend_for_host[key] = _orig_get_backend_for_host(self, host)
    return _backend_for_host[key]


_moto_backends.list_of_moto_modules = _list_of_moto_modules
DomainDispatcherApplication.get_backend_for_host = _get_backend_for_host


# --- m. cheaper per-request bookkeeping ----------------------------------------------------
# Per request, moto lists its response class's methods with inspect.getmembers (to find the
# action's handler) and builds request ids and receipt handles one random.choice per character.
# The method list is remembered per class; ids come from one getrandbits / choices call (still
# from moto's seedable generator).

import moto.core.responses as _moto_responses  # noqa: E402
from moto.moto_api._internal.moto_random import MotoRandom  # noqa: E402

_moto_responses.method_names_from_class = functools.lru_cache(maxsize=None)(
    _require(_moto_responses, "method_names_from_class")
)
_require(MotoRandom, "get_random_hex")
_require(MotoRandom, "get_random_string")


def _random_hex(self, length=8):
    return f"{self.getrandbits(4 * length):0{length}x}" if length > 0 else ""


def _random_string(self, length=20, include_digits=True, lower_case=False):
    pool = string.ascii_letters + (string.digits if include_digits else "")
    text = "".join(self.choices(pool, k=length))
    return text.lower() if lower_case else text


MotoRandom.get_random_hex = _random_hex
MotoRandom.get_random_string = _random_string


# --- n. EventBridge TestEventPattern ------------------------------------------------------
# moto 5.2 answers TestEventPattern with an empty body (its backend method raises
# NotImplementedError). AWS answers {"Result": true|false}. Here moto's own matcher decides, the
# one its rules route events with, so a pattern tested here matches exactly what the emulator
# delivers; before it, the checks AWS makes: the pattern parses (JSON of objects and non-empty
# arrays) and names only EventBridge's comparison operators (moto's rules accept any other and
# treat it as a match), and the event is a JSON object with the fields TestEventPattern requires
# (id, account, source, time, region, resources, detail-type). Both are answered with
# InvalidEventPatternException, the one client error the API model lists for the operation.

from moto.events.exceptions import InvalidEventPatternException  # noqa: E402
from moto.events.models import EventPattern  # noqa: E402
from moto.events.responses import EventsHandler  # noqa: E402
from moto.core.exceptions import JsonRESTError  # noqa: E402

_require(EventsHandler, "test_event_pattern")
_require(EventPattern, "load")
_require(EventPattern, "matches_event")
EVENT_PATTERN_OPERATORS = {
    "prefix", "suffix", "equals-ignore-case", "numeric", "anything-but", "exists", "cidr", "wildcard",
}
TEST_EVENT_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")


def _check_operators(node):
    """Raises InvalidEventPatternException for a filter naming no EventBridge operator."""
    for key, value in node.items():
        if key == "$or" and isinstance(value, list):
            for alternative in value:
                if isinstance(alternative, dict):
                    _check_operators(alternative)
        elif isinstance(value, dict):
            _check_operators(value)
        elif isinstance(value, list):
            for f in value:
                if isinstance(f, dict) and (len(f) != 1 or next(iter(f)) not in EVENT_PATTERN_OPERATORS):
                    raise InvalidEventPatternException(reason=f"Unrecognized match type {sorted(f)} at {key}")


def _test_event_pattern(self):
    pattern = EventPattern.load(self._get_param("EventPattern"))
    _check_operators(pattern.get_pattern())
    raw_event = self._get_param("Event")
    try:
        event = json.loads(raw_event) if isinstance(raw_event, str) else None
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise JsonRESTError("InvalidEventPatternException", "Parameter Event is not valid. Reason: not a JSON object")
    missing = [field for field in TEST_EVENT_FIELDS if field not in event]
    if missing:
        raise JsonRESTError(
            "InvalidEventPatternException", f"Parameter Event is not valid. Reason: missing {', '.join(missing)}"
        )
    return json.dumps({"Result": bool(pattern.matches_event(event))})


EventsHandler.test_event_pattern = _test_event_pattern



# --- p. eventual consistency (opt-in) -------------------------------------------------------
# AWS documents that EC2 and ELB reads lag behind writes ("eventual consistency": a resource just
# created may not be found yet, a change not seen yet); moto answers every read with the latest
# write. With CONFIG["consistency"] = {"maxLagMs": N, "minLagMs": M, "seed": S} (N > 0), each
# write of a target group, listener rule, Auto Scaling group or launch template version draws a
# lag in [M, N] ms from a generator seeded by (S, resource, write number), and until it has
# passed the API's reads answer as if the write had not happened:
#   - DescribeTargetGroups / DescribeTargetHealth / DescribeTags (ELBv2): a new target group is
#     omitted from lists and, named, answered TargetGroupNotFound;
#   - DescribeRules: a new rule is omitted (named: RuleNotFound); a modified one shows its
#     previous actions and conditions;
#   - DescribeAutoScalingGroups: a new group is omitted (AWS answers an unknown name with an
#     empty list);
#   - DescribeLaunchTemplateVersions: a new version is omitted, `$Latest` is the newest visible
#     one, a number named answers InvalidLaunchTemplateId.VersionNotFound; DescribeLaunchTemplates
#     reports the newest visible version as LatestVersionNumber;
#   - CreateAutoScalingGroup naming a launch template version or target group not yet visible
#     fails with ValidationError, as Auto Scaling does when EC2 / ELB have not caught up;
#   - DeleteTargetGroup of a group a rule forwarded to before a change that still lags answers
#     ResourceInUse, as ELB does until the rule's change has propagated.
# Only API reads lag: moto's own internal lookups (an ASG registering targets) see every write,
# and so do writes (AWS may refuse those too; not modelled). Deletes are seen at once.

from moto.elbv2.responses import ELBV2Response  # noqa: E402
from moto.elbv2.exceptions import RuleNotFoundError, TargetGroupNotFoundError  # noqa: E402
from moto.autoscaling.exceptions import ValidationError as AsgValidationError  # noqa: E402
from moto.ec2.exceptions import InvalidLaunchTemplateVersionNotFound  # noqa: E402
from moto.ec2.models.launch_templates import LaunchTemplate, LaunchTemplateBackend  # noqa: E402

CONFIG["consistency"] = {"maxLagMs": 0, "minLagMs": 0, "seed": 0}
_lag_state = threading.local()  # .reading: inside an API read that lags
_write_counts = {}  # resource key -> writes so far (for the seeded draw)
_write_counts_lock = threading.Lock()


def _parse_consistency(raw):
    if not isinstance(raw, dict) or set(raw) - {"maxLagMs", "minLagMs", "seed"}:
        raise ValueError("consistency must be an object with maxLagMs, minLagMs, seed")
    out = {"maxLagMs": 0, "minLagMs": 0, "seed": 0, **raw}
    for key in ("maxLagMs", "minLagMs", "seed"):
        if isinstance(out[key], bool) or not isinstance(out[key], (int, float)) or out[key] < 0:
            raise ValueError(f"consistency.{key} must be a number >= 0")
    if out["minLagMs"] > out["maxLagMs"]:
        raise ValueError("consistency.minLagMs must not exceed maxLagMs")
    return out


def _record_write(obj, key):
    """Marks `obj` as written now; returns the monotonic time its write becomes visible."""
    with _config_lock:
        cfg = dict(CONFIG["consistency"])
    if cfg["maxLagMs"] <= 0:
        obj.__dict__.pop("_emulator_visible_at", None)
        return 0
    with _write_counts_lock:
        n = _write_counts.get(key, 0) + 1
        _write_counts[key] = n
    lag_ms = random.Random(f"{cfg['seed']}:{key}:{n}").uniform(cfg["minLagMs"], cfg["maxLagMs"])
    obj.__dict__["_emulator_visible_at"] = time.monotonic() + lag_ms / 1000
    return obj.__dict__["_emulator_visible_at"]


CONSISTENCY_PATH = "/_emulator/consistency"
_lagged_reads = {}  # resource kind -> reads answered without a write that had not become visible
_lagged_reads_lock = threading.Lock()


def _hidden(obj):
    """True inside an API read while obj's last write is not visible yet (counted by kind)."""
    if not getattr(_lag_state, "reading", False):
        return False
    hidden = time.monotonic() < obj.__dict__.get("_emulator_visible_at", 0)
    if hidden:
        with _lagged_reads_lock:
            kind = type(obj).__name__
            _lagged_reads[kind] = _lagged_reads.get(kind, 0) + 1
    return hidden


def _lagging_read(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if (getattr(self, "headers", None) or {}).get(OBSERVER_HEADER):
            return method(self, *args, **kwargs)
        _lag_state.reading = True
        try:
            return method(self, *args, **kwargs)
        finally:
            _lag_state.reading = False

    return wrapper


for _cls, _names in (
    (ELBV2Response, ("describe_target_groups", "describe_rules", "describe_target_health", "describe_tags")),
    (AutoScalingResponse, ("describe_auto_scaling_groups",)),
    (LaunchTemplateResponses, ("describe_launch_template_versions", "describe_launch_templates")),
):
    for _name in _names:
        setattr(_cls, _name, _lagging_read(_require(_cls, _name)))

# Writes: remember when each becomes visible.
_orig_elb_create_tg = _require(ELBv2Backend, "create_target_group")
_orig_elb_create_rule = _require(ELBv2Backend, "create_rule")
_orig_elb_modify_rule = _require(ELBv2Backend, "modify_rule")
_orig_elb_describe_tgs = _require(ELBv2Backend, "describe_target_groups")
_orig_elb_describe_rules = _require(ELBv2Backend, "describe_rules")
_orig_elb_describe_health = _require(ELBv2Backend, "describe_target_health")
_orig_elb_describe_tags = _require(ELBv2Backend, "describe_tags")
_orig_asg_create = _require(AutoScalingBackend, "create_auto_scaling_group")
_orig_asg_describe = _require(AutoScalingBackend, "describe_auto_scaling_groups")
_orig_lt_create_version = _require(LaunchTemplate, "create_version")
_orig_lt_describe_versions = _require(LaunchTemplateBackend, "describe_launch_template_versions")
_require(LaunchTemplate, "latest_version_number")


@functools.wraps(_orig_elb_create_tg)
def _elb_create_tg(self, name, **kwargs):
    tg = _orig_elb_create_tg(self, name, **kwargs)
    if "_emulator_visible_at" not in tg.__dict__:  # AWS returns the same group for an identical create
        _record_write(tg, tg.arn)
    return tg


@functools.wraps(_orig_elb_create_rule)
def _elb_create_rule(self, *args, **kwargs):
    rule = _orig_elb_create_rule(self, *args, **kwargs)
    _record_write(rule, rule.arn)
    return rule


@functools.wraps(_orig_elb_modify_rule)
def _elb_modify_rule(self, rule_arn, conditions, actions):
    rule = next(iter(_orig_elb_describe_rules(self, None, [rule_arn])), None)
    before = (list(rule.actions), list(rule.conditions)) if rule is not None else None
    if rule is not None and time.monotonic() < rule.__dict__.get("_emulator_visible_at", 0):
        before = rule.__dict__.get("_emulator_previous", before)  # still showing the older state
    result = _orig_elb_modify_rule(self, rule_arn, conditions, actions)
    if before is not None:
        result.__dict__["_emulator_previous"] = before
        _record_write(result, result.arn)
    return result


def _as_seen(rule):
    """The rule as a lagging read shows it: its previous actions/conditions while a change lags."""
    if not _hidden(rule) or "_emulator_previous" not in rule.__dict__:
        return rule
    seen = copy.copy(rule)
    seen.actions, seen.conditions = rule.__dict__["_emulator_previous"]
    return seen


def _is_new_and_hidden(obj):
    return _hidden(obj) and "_emulator_previous" not in obj.__dict__


@functools.wraps(_orig_elb_describe_tgs)
def _elb_describe_tgs(self, load_balancer_arn, target_group_arns, names):
    groups = list(_orig_elb_describe_tgs(self, load_balancer_arn, target_group_arns, names))
    visible = [tg for tg in groups if not _hidden(tg)]
    if len(visible) != len(groups) and (target_group_arns or names):
        raise TargetGroupNotFoundError()
    return visible


@functools.wraps(_orig_elb_describe_rules)
def _elb_describe_rules(self, listener_arn, rule_arns):
    rules = _orig_elb_describe_rules(self, listener_arn, rule_arns)
    visible = [_as_seen(r) for r in rules if not _is_new_and_hidden(r)]
    if len(visible) != len(rules) and rule_arns:
        raise RuleNotFoundError("One or more rules not found")
    return visible


@functools.wraps(_orig_elb_describe_health)
def _elb_describe_health(self, target_group_arn, targets):
    tg = self.target_groups.get(target_group_arn)
    if tg is not None and _hidden(tg):
        raise TargetGroupNotFoundError()
    return _orig_elb_describe_health(self, target_group_arn, targets)


@functools.wraps(_orig_elb_describe_tags)
def _elb_describe_tags(self, resource_arns):
    for arn in resource_arns:
        tg = self.target_groups.get(arn)
        if tg is not None and _hidden(tg):
            raise TargetGroupNotFoundError()
    return _orig_elb_describe_tags(self, resource_arns)


@functools.wraps(_orig_asg_create)
def _asg_create(self, name, *args, **kwargs):
    group = _orig_asg_create(self, name, *args, **kwargs)
    _record_write(group, f"asg:{name}")
    return group


@functools.wraps(_orig_asg_describe)
def _asg_describe(self, *args, **kwargs):
    return [g for g in _orig_asg_describe(self, *args, **kwargs) if not _hidden(g)]


@functools.wraps(_orig_lt_create_version)
def _lt_create_version(self, data, description):
    version = _orig_lt_create_version(self, data, description)
    _record_write(version, f"{self.id}:{version.number}")
    return version


def _newest_visible(template):
    return next((v for v in reversed(template.versions) if not _hidden(v)), template.versions[0])


@functools.wraps(_orig_lt_describe_versions)
def _lt_describe_versions(self, template_name, template_id, versions, *args, **kwargs):
    pairs = _orig_lt_describe_versions(self, template_name, template_id, versions, *args, **kwargs)
    if not getattr(_lag_state, "reading", False):
        return pairs
    named = {str(v) for v in versions or []}
    seen = []
    for template, version in pairs:
        if not _hidden(version):
            seen.append((template, version))
        elif str(version.number) in named:
            raise InvalidLaunchTemplateVersionNotFound(template_id=template.id, version=version.number)
        elif "$Latest" in named and version is template.versions[-1]:
            newest = _newest_visible(template)
            if all(v is not newest for _, v in seen):
                seen.append((template, newest))
    return seen


def _lagging_latest_version_number(self):
    return (_newest_visible(self) if getattr(_lag_state, "reading", False) else self.latest_version()).number


# DeleteTargetGroup: ELB refuses to delete a group a rule forwards to (ResourceInUse); while a
# rule's change lags, ELB still counts the rule as forwarding where it did before the change.
_orig_any_listener_using = _require(ELBv2Backend, "_any_listener_using")
_require(ELBv2Backend, "_get_target_group_arns_from")


@functools.wraps(_orig_any_listener_using)
def _any_listener_using(self, target_group_arn):
    if _orig_any_listener_using(self, target_group_arn):
        return True
    now = time.monotonic()
    for load_balancer in self.load_balancers.values():
        for listener in load_balancer.listeners.values():
            for rule in listener.rules.values():
                if now >= rule.__dict__.get("_emulator_visible_at", 0) or "_emulator_previous" not in rule.__dict__:
                    continue
                for action in rule.__dict__["_emulator_previous"][0]:
                    if target_group_arn in self._get_target_group_arns_from(action_data=action.data):
                        with _lagged_reads_lock:
                            _lagged_reads["DeleteTargetGroupInUse"] = _lagged_reads.get("DeleteTargetGroupInUse", 0) + 1
                        return True
    return False


ELBv2Backend._any_listener_using = _any_listener_using
ELBv2Backend.create_target_group = _elb_create_tg
ELBv2Backend.create_rule = _elb_create_rule
ELBv2Backend.modify_rule = _elb_modify_rule
ELBv2Backend.describe_target_groups = _elb_describe_tgs
ELBv2Backend.describe_rules = _elb_describe_rules
ELBv2Backend.describe_target_health = _elb_describe_health
ELBv2Backend.describe_tags = _elb_describe_tags
AutoScalingBackend.create_auto_scaling_group = _asg_create
AutoScalingBackend.describe_auto_scaling_groups = _asg_describe
LaunchTemplate.create_version = _lt_create_version
LaunchTemplate.latest_version_number = property(_lagging_latest_version_number)
LaunchTemplateBackend.describe_launch_template_versions = _lt_describe_versions


def _check_asg_references(response):
    """CreateAutoScalingGroup: Auto Scaling sees EC2's and ELB's writes late, like any reader."""
    spec = response._get_params().get("LaunchTemplate") or {}
    template_id, template_name = spec.get("LaunchTemplateId"), spec.get("LaunchTemplateName")
    version = str(spec.get("Version") or "$Default")
    ec2 = response.autoscaling_backend.ec2_backend
    _lag_state.reading = True
    try:
        template = None
        if template_id in ec2.launch_templates:
            template = ec2.launch_templates[template_id]
        elif template_name in ec2.launch_template_name_to_ids:
            template = ec2.launch_templates[ec2.launch_template_name_to_ids[template_name]]
        if template is not None and version.isdigit() and 0 < int(version) <= len(template.versions):
            if _hidden(template.versions[int(version) - 1]):
                raise AsgValidationError(
                    f"You must use a valid fully-formed launch template. The specified launch template "
                    f"version {version} of {template.id} does not exist."
                )
        elbv2 = response.autoscaling_backend.elbv2_backend
        for arn in response._get_param("TargetGroupARNs", []) or []:
            tg = elbv2.target_groups.get(arn)
            if tg is not None and _hidden(tg):
                raise AsgValidationError(f"Provided Target Groups may not be valid: {arn} not found")
    finally:
        _lag_state.reading = False


_create_asg_before_lag = AutoScalingResponse.create_auto_scaling_group


@functools.wraps(_create_asg_before_lag)
def _create_asg_lagging(self):
    _check_asg_references(self)
    return _create_asg_before_lag(self)


AutoScalingResponse.create_auto_scaling_group = _create_asg_lagging


class EmulatorControl:
    """WSGI middleware: serves /_emulator/config, passes all else to moto."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO")
        if path == STRICT_PATH:
            return self._json(start_response, "200 OK", STRICT.stats())
        if path == CONSISTENCY_PATH:
            with _lagged_reads_lock:
                return self._json(start_response, "200 OK", {"laggedReads": dict(_lagged_reads)})
        if path != CONFIG_PATH:
            refused = _strict_response(environ, start_response) if STRICT.enabled else None
            if refused is not None:
                return refused
            fault = _take_fault(environ)
            if fault is not None and "delaySeconds" in fault:
                time.sleep(fault["delaySeconds"])  # then answered as usual, late
            elif fault is not None:
                return _fault_response(environ, start_response, fault)
            if environ.get("HTTP_X_AMZ_TARGET") in DYNAMODB_WRITES:
                return _serialized(self.app, environ, start_response)
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD")
        if method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = json.loads(environ["wsgi.input"].read(length) or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("the body must be a JSON object")
                updates = {}
                if "initialHealthSeconds" in body:
                    seconds = float(body["initialHealthSeconds"])
                    if seconds < 0:
                        raise ValueError("initialHealthSeconds must be >= 0")
                    updates["initialHealthSeconds"] = seconds
                if "faults" in body:
                    updates["faults"] = _parse_faults(body["faults"])
                if "consistency" in body:
                    updates["consistency"] = _parse_consistency(body["consistency"])
                unknown = set(body) - set(CONFIG)
                if unknown:
                    raise ValueError(f"unknown settings: {sorted(unknown)}")
            except (ValueError, TypeError) as err:
                return self._json(start_response, "400 Bad Request", {"error": str(err)})
            with _config_lock:
                CONFIG.update(updates)
        elif method != "GET":
            return self._json(start_response, "405 Method Not Allowed", {"error": "use GET or POST"})
        with _config_lock:
            current = copy.deepcopy(CONFIG)
        return self._json(start_response, "200 OK", current)

    @staticmethod
    def _json(start_response, status, payload):
        body = json.dumps(payload).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        # Lets the launcher tell its own child from another server on the same port.
        headers.append(("X-Emulator-Pid", str(os.getpid())))
        start_response(status, headers)
        return [body]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 5000)))
    parser.add_argument("--quiet", action="store_true", help="hide per-request log lines")
    parser.add_argument(
        "--no-strict",
        action="store_true",
        help="do not check requests against the AWS API models and quotas (as DEPLOYOMAT_EMULATOR_STRICT=0)",
    )
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="exit when stdin closes, i.e. when the parent process dies (even by SIGKILL)",
    )
    parser.add_argument(
        "--consistency",
        default=os.environ.get("DEPLOYOMAT_EMULATOR_CONSISTENCY", ""),
        help='eventual consistency (p.), JSON: {"maxLagMs": 2000, "minLagMs": 500, "seed": 1} '
        "(as DEPLOYOMAT_EMULATOR_CONSISTENCY; off when empty)",
    )
    args = parser.parse_args(argv)
    if args.consistency:
        CONFIG["consistency"] = _parse_consistency(json.loads(args.consistency))
    if args.no_strict:
        STRICT.enabled = False

    if args.exit_on_stdin_eof:
        def _watch_parent():
            # Raw reads (not sys.stdin) so a normal shutdown is not blocked on its lock.
            while os.read(0, 4096):  # b"" once the parent's end of the pipe closes
                pass
            _exit()

        threading.Thread(target=_watch_parent, name="parent-watch", daemon=True).start()

    # Same setup as moto.server.main, which builds its app inline (no hook to wrap it).
    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto uses it to build URLs
    # All state is in memory, so skip the slow interpreter teardown (~1 s with moto).
    signal.signal(signal.SIGTERM, lambda *_: _exit())
    signal.signal(signal.SIGINT, lambda *_: _exit())
    if args.quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # as moto.server does
    print(
        f"starting deployomat emulator on http://{args.host}:{args.port} config={json.dumps(CONFIG)} "
        f"strict={'on' if STRICT.enabled else 'off'}",
        file=sys.stderr,
        flush=True,
    )
    run_simple(args.host, args.port, EmulatorControl(app), threaded=True)


if __name__ == "__main__":
    main()
