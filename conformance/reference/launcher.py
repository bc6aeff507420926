#!/usr/bin/python3
"""Debian's masakari-api 14.0.2 as it starts from /usr/bin/masakari-api, with
the few runtime patches it needs to serve on a machine that has no Keystone,
no Nova and no masakari-engine. Nothing installed is modified.

Started by conformance/reference/masakari.sh, which passes the same
arguments masakari-api takes (--config-file, --config-dir) and sets:

  REFERENCE_UNKNOWN_COMPUTES  comma-separated host names Nova "does not know"
                              (default: unknown-compute)
  REFERENCE_ENGINE_STUB=1     answer the engine's RPC methods in process

Must run with Debian's /usr/bin/python3: that is where the packages are.
"""
import os
import sys

# masakari.cmd monkey-patches eventlet when imported; that has to happen
# before anything else is imported, exactly as in /usr/bin/masakari-api.
import masakari.cmd  # noqa: F401  (the import is the point)
from masakari import context
from masakari import exception
from masakari.cmd import api
from masakari.compute import nova
from masakari.engine import rpcapi


def keep_writes_working():
    """Debian's security update of python3-oslo.messaging (14.0.3-0+deb12u1)
    rebuilds the request context from a dict that no longer carries
    read_deleted, and masakari's context refuses None there: every create,
    update and delete would answer 500 (ValueError) even with the noop
    notification driver. Default it to masakari's own default, 'no'."""
    from_dict = context.RequestContext.from_dict.__func__

    def tolerant_from_dict(cls, values, **kwargs):
        if values.get('read_deleted') is None:
            values = dict(values, read_deleted='no')
        return from_dict(cls, values, **kwargs)

    context.RequestContext.from_dict = classmethod(tolerant_from_dict)


def stand_in_for_nova():
    """Host create and rename ask Nova, through Keystone, whether a
    nova-compute service of that name exists. Without either that is a 500.
    Pretend Nova knows every host except the listed ones, which get the
    same ComputeNotFoundByName (a 400) a real Nova's empty answer causes."""
    unknown = {name.strip() for name in os.environ.get(
        'REFERENCE_UNKNOWN_COMPUTES', 'unknown-compute').split(',')}

    def find_compute_service(self, ctxt, compute_name):
        if compute_name in unknown:
            raise exception.ComputeNotFoundByName(compute_name=compute_name)

    nova.API.find_compute_service = find_compute_service


def stand_in_for_engine():
    """Without an engine, GET /v1/notifications/{id} at microversion >= 1.1
    waits for an RPC answer that never comes and then fails with a 500.
    Answer it in process with what masakari-engine answers for a
    notification no recovery flow has touched: no workflow details. The
    notification itself is left alone (status "new"), as the cast to an
    absent engine leaves it."""
    def process_notification(self, ctxt, notification):
        pass

    def get_notification_recovery_workflow_details(self, ctxt, notification):
        notification['recovery_workflow_details'] = []
        return notification

    rpcapi.EngineAPI.process_notification = process_notification
    rpcapi.EngineAPI.get_notification_recovery_workflow_details = (
        get_notification_recovery_workflow_details)


if __name__ == '__main__':
    keep_writes_working()
    stand_in_for_nova()
    if os.environ.get('REFERENCE_ENGINE_STUB') == '1':
        stand_in_for_engine()
    sys.exit(api.main())
