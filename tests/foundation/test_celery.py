"""The Celery app's configuration, and a real worker process consuming from the real Redis."""
import uuid

from django.conf import settings

from pods_project.celery import app
from workers.tasks import ping


def test_celery_is_configured_for_reliability():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_time_limit < conf.broker_transport_options["visibility_timeout"]
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE


def test_task_names_are_stable():
    assert ping.name == "workers.ping"


def test_real_worker_process_consumes_a_task(celery_worker_process, celery_queue):
    token = uuid.uuid4().hex
    result = ping.apply_async(args=[token], queue=celery_queue)
    assert result.get(timeout=30) == {"pong": token}
