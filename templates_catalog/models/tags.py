"""Template tags: immutable, timestamped versions of a template's pod definition.

A version is addressed as ``tag@YYYY-MM-DD-HH:MM:SS`` (UTC, whole seconds); ``tag`` alone means
the newest version with that name. Versions are never edited: publishing again adds a version.
A definition that builds on another template stores that template's version pinned (in
``pod_definition["template"]`` and as ``base``), so a version always derives the same pod.
"""
from datetime import UTC

from django.db import models

from podspec.references import TIMESTAMP_FORMAT


class TemplateTag(models.Model):
    template = models.ForeignKey("templates_catalog.Template", on_delete=models.CASCADE,
                                 related_name="tags")
    tag = models.CharField(max_length=80, default="latest")
    # Whole seconds: the timestamp is part of the version's address.
    creation_ts = models.DateTimeField()
    pod_definition = models.JSONField(default=dict, blank=True)
    commit_message = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    added_by = models.CharField(max_length=150)
    # The version of the template this one builds on (None: it stands alone). RESTRICT: a version
    # other templates build on cannot disappear from under them.
    base = models.ForeignKey("self", on_delete=models.RESTRICT, null=True, blank=True,
                             related_name="derived_tags")

    class Meta:
        ordering = ["-creation_ts", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["template", "tag", "creation_ts"], name="template_tag_unique_version"),
        ]
        indexes = [models.Index(fields=["template", "tag", "-creation_ts"], name="template_tag_newest_idx")]

    def __str__(self):
        return f"{self.template.template_id}:{self.tag_timestamp}"

    @property
    def tag_timestamp(self) -> str:
        """``latest@2025-05-15-00:28:39``: the version's address within its template."""
        return f"{self.tag}@{self.creation_ts.astimezone(UTC).strftime(TIMESTAMP_FORMAT)}"

    @property
    def reference(self) -> str:
        """``neo4j:latest@2025-05-15-00:28:39``: how a pod (or another template) pins this version."""
        return f"{self.template.template_id}:{self.tag_timestamp}"

