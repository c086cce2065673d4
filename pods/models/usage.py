"""What each tenant (and each creating user in it) uses, kept by Postgres as pods change.

The quota check of every create used to aggregate over all of a tenant's pods (a sequential
read of their ``resources``: milliseconds at 1,000 pods, a third of a second at 100,000), under a
lock of the tenant row. These counters make it one indexed read of two rows.

They are maintained by triggers on ``pods_pod`` (migration ``0010_usage_counters``), not by the
service code, so every write counts whatever makes it: the API, the admin site, a command, a bulk
``QuerySet.delete()``, a test factory, SQL. Inserts and deletes are counted per statement (one
update per tenant and user, however many rows); updates per row, and only when the tenant, the
creator or the CPU/memory limits change. Rows come and go with their pods (a row that reaches
zero pods is deleted) and are locked in one order (the tenant row first), so concurrent creates
of a tenant serialise on its row, which is what keeps a quota check and its insert atomic.
"""
from django.db import models


class UsageScope(models.IntegerChoices):
    TENANT = 0, "tenant"  # username is ""
    USER = 1, "user"  # the pods whose created_by is username


class PodUsage(models.Model):
    # No database foreign key: the triggers must never stand in the way of deleting a tenant.
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.DO_NOTHING, db_constraint=False,
                               related_name="+")
    scope = models.SmallIntegerField(choices=UsageScope.choices)
    username = models.CharField(max_length=150, blank=True, default="")
    pods = models.BigIntegerField(default=0)
    cpu_millicores = models.BigIntegerField(default=0)
    memory_mb = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "scope", "username"], name="pod_usage_key")]

    def __str__(self):
        who = self.username if self.scope == UsageScope.USER else "tenant"
        return f"{self.tenant_id}/{who}: {self.pods} pods, {self.cpu_millicores} m, {self.memory_mb} MB"
