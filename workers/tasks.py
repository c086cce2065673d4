"""Celery tasks. Names are stable wire identifiers: never rename one silently."""
from celery import shared_task


@shared_task(name="workers.ping")
def ping(token):
    """Echo ``token`` back: lets operators and tests prove a worker consumes from the broker."""
    return {"pong": token}
