"""The Redis transport of the Celery broker, made safe to close after a connection loss.

Why (kombu 5.7.0, celery 5.7.0; the worker died on 1 of 7 Redis outages with
``Unrecoverable error: AttributeError("'NoneType' object has no attribute 'hostname'")`` in
``restore_unacked_once``): on a connection loss, celery 5.7's
``Consumer.on_connection_error_after_connected`` closes the broken connection *before* the
consumer's blueprint restarts. ``kombu.Connection._close`` detaches the transport from it
(``transport.client = None``) and sets ``consumer.connection = None``. The steps then close
their channels: a channel holding unacknowledged messages (``acks_late``) restores them
(``QoS.restore_unacked_once`` → ``restore_unacked``), which needs a Redis client, and when that
channel's pool was dropped by the connection error, building a new one reads
``self.connection.client.hostname`` on the detached transport: ``AttributeError``. It escapes
``kombu.common.ignore_errors`` (which catches only connection errors, and itself fails on
``connection_errors`` of a ``None`` connection) and stops the worker. The same detached state
explains ``Error on restarting Gossip: AttributeError('NoneType' ... 'connection_errors')``.

The fix here: a channel whose transport was detached raises a *connection* error instead, which
every caller on those paths already handles as "the broker is gone" (the unacknowledged
messages stay in Redis's unacked set and are restored by the next worker, and the sweep
re-drives their pods anyway). Used through ``CELERY_BROKER_TRANSPORT``; the URL keeps its
``redis://`` scheme. ``make run`` also starts workers without gossip, mingle and heartbeats,
which this service does not use, so fewer channels take part in the restart at all.
"""
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class DetachedTransport(RedisConnectionError):
    """The channel's broker connection was closed; there is nothing to talk to."""


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        transport = self.connection
        if transport is None or getattr(transport, "client", None) is None:
            raise DetachedTransport("the broker connection of this channel was closed (connection lost)")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel


# --- Reconnecting quickly --------------------------------------------------------------------------
# A worker that lost the broker retries after 2, 4, 6 ... up to 30 s (kombu's defaults for
# ``ensure_connection``, which celery's consumer does not let settings change): after a 60 s Redis
# outage it came back up to ~30 s after Redis did, and nothing converged meanwhile. Reconnecting
# every second (at most every PODS_BROKER_RECONNECT_MAX seconds) costs one refused connection a
# second while Redis is away.
from celery.app.amqp import AMQP as CeleryAMQP  # noqa: E402
from kombu import Connection as KombuConnection  # noqa: E402

RECONNECT_START, RECONNECT_STEP, RECONNECT_MAX = 0.5, 0.5, 2.0


class Connection(KombuConnection):
    def ensure_connection(self, *args, **kwargs):
        kwargs.setdefault("interval_start", RECONNECT_START)
        kwargs.setdefault("interval_step", RECONNECT_STEP)
        kwargs.setdefault("interval_max", RECONNECT_MAX)
        return super().ensure_connection(*args, **kwargs)


class AMQP(CeleryAMQP):
    """Celery's AMQP helper with :class:`Connection` (used by ``Celery(amqp=...)``)."""

    Connection = Connection
    BrokerConnection = Connection
