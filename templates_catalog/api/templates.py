"""The template endpoints: tapipy's ``t.pods.*template*`` operations, plus ``delete_template_tag``.

Thin by design: find the template as the caller sees it (invisible → 404), check the level (too
low → 403), call one service function, render. Messages follow upstream's.
"""
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiTypes,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated

from core.envelope import no_changes_message, ok
from core.fields import QueryFlag
from core.permissions import PermissionsResponseSerializer
from podspec.references import parse_tag_address
from templates_catalog import services
from templates_catalog.models import Template, TemplateTag

from .permissions import CanAdminTemplate, CanReadTemplate, CanUseTemplate
from .rendering import render_tag, render_template
from .serializers import (
    NewTemplateSerializer,
    NewTemplateTagSerializer,
    TemplateResponseSerializer,
    TemplateSetPermissionSerializer,
    TemplateTagResponseSerializer,
    UpdateTemplateSerializer,
)

FULL = OpenApiParameter("full", OpenApiTypes.BOOL, OpenApiParameter.QUERY, required=False,
                        description="Include each version's pod_definition (default true).")
TAG_ID = OpenApiParameter("tag_id", OpenApiTypes.STR, OpenApiParameter.PATH,
                          description="'tag' (every version with that name, newest first) or "
                                      "'tag@YYYY-MM-DD-HH:MM:SS' (one version).")
USER = OpenApiParameter("user", OpenApiTypes.STR, OpenApiParameter.PATH)


def _validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _tag_address(tag_id: str):
    try:
        return parse_tag_address(tag_id)
    except ValueError as exc:
        raise exceptions.ValidationError({"tag_id": [str(exc)]}) from None


class TemplateViewSet(viewsets.GenericViewSet):
    lookup_field = "template_id"
    lookup_value_regex = "[^/]+"
    serializer_class = TemplateResponseSerializer

    level_for_action = {
        "retrieve": CanReadTemplate, "tags": CanReadTemplate, "tag": CanReadTemplate,
        "update": CanUseTemplate, "add_tag": CanUseTemplate, "permissions": CanUseTemplate,
        "destroy": CanAdminTemplate, "delete_tag": CanAdminTemplate,
        "set_permission": CanAdminTemplate, "delete_permission": CanAdminTemplate,
    }

    def get_queryset(self):
        principal = self.request.user
        if principal is None or not principal.is_authenticated:  # schema generation
            return Template.objects.none()
        return services.visible_templates(principal)

    def get_permissions(self):
        level = self.level_for_action.get(self.action)
        return [IsAuthenticated()] + ([level()] if level else [])

    def get_object(self):
        template = services.template_for(principal=self.request.user,
                                         template_id=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, template)
        return template

    # --- Templates ------------------------------------------------------------------------------

    @extend_schema(operation_id="list_templates", responses=TemplateResponseSerializer(many=True))
    def list(self, request):
        templates = self.get_queryset().order_by("template_id", "lookup_rank", "creation_ts")
        return ok([render_template(t) for t in templates], "Templates retrieved successfully.",
                  {"builtin_template_ids": [t.template_id for t in templates if t.is_builtin]})

    @extend_schema(operation_id="add_template", request=NewTemplateSerializer,
                   responses=TemplateResponseSerializer)
    def create(self, request):
        template = services.template_create(principal=request.user,
                                            data=_validated(NewTemplateSerializer, request.data))
        return ok(render_template(template), "Template added successfully.")

    @extend_schema(operation_id="list_templates_and_tags", parameters=[FULL], responses=inline_serializer(
        "TemplatesAndTags", {"template_id": serializers.DictField(help_text="The template with its 'tags'.")}))
    @action(detail=False, methods=["get"], url_path="tags")
    def with_tags(self, request):
        full = QueryFlag.read(request, "full", default=True)
        # Highest lookup priority last, so an id visible twice maps to the template it resolves to.
        templates = list(self.get_queryset())[::-1]
        versions = TemplateTag.objects.filter(template__in=templates).select_related("template")
        if not full:
            versions = versions.defer("pod_definition")
        by_template: dict[int, list] = {}
        for version in versions.order_by("-creation_ts", "-pk"):
            by_template.setdefault(version.template_id, []).append(render_tag(version, full=full))
        result = {t.template_id: {**render_template(t), "tags": by_template.get(t.pk, [])} for t in templates}
        return ok(result, "Templates and tags retrieved successfully.")

    @extend_schema(operation_id="get_template", responses=TemplateResponseSerializer)
    def retrieve(self, request, template_id=None):
        return ok(render_template(self.get_object()), "Template retrieved successfully.")

    @extend_schema(operation_id="update_template", request=UpdateTemplateSerializer,
                   responses=TemplateResponseSerializer)
    def update(self, request, template_id=None):
        template = self.get_object()
        data = _validated(UpdateTemplateSerializer, request.data)
        template, changed = services.template_update(template=template, data=data)
        if not changed:
            return ok(render_template(template), no_changes_message("template"), {"changed_fields": []})
        return ok(render_template(template), "Template updated successfully.", {"changed_fields": changed})

    @extend_schema(operation_id="delete_template", responses=OpenApiTypes.STR)
    def destroy(self, request, template_id=None):
        services.template_delete(template=self.get_object())
        return ok("", "Template and associated Template Tags successfully deleted.")

    # --- Versions (tags) ------------------------------------------------------------------------

    @extend_schema(operation_id="list_template_tags", parameters=[FULL],
                   responses=TemplateTagResponseSerializer(many=True))
    @action(detail=True, methods=["get"])
    def tags(self, request, template_id=None):
        template = self.get_object()
        full = QueryFlag.read(request, "full", default=True)
        versions = template.tags.select_related("template").order_by("-creation_ts", "-pk")
        return ok([render_tag(v, full=full) for v in versions], "Template tags retrieved successfully.")

    @extend_schema(operation_id="add_template_tag", request=NewTemplateTagSerializer,
                   responses=TemplateTagResponseSerializer)
    @tags.mapping.post
    def add_tag(self, request, template_id=None):
        template = self.get_object()
        version = services.template_tag_create(template=template, principal=request.user,
                                               data=_validated(NewTemplateTagSerializer, request.data))
        return ok(render_tag(version), "Template tag added successfully.",
                  {"reference": version.reference})

    @extend_schema(operation_id="get_template_tag", parameters=[TAG_ID],
                   responses=TemplateTagResponseSerializer(many=True))
    @action(detail=True, methods=["get"], url_path=r"tags/(?P<tag_id>[^/]+)")
    def tag(self, request, template_id=None, tag_id=None):
        template = self.get_object()
        address = _tag_address(tag_id)
        versions = list(services.versions_at(template, address))
        if not versions:
            raise exceptions.NotFound(f"Template '{template.template_id}' has no tag '{address}'.")
        return ok([render_tag(v) for v in versions], "Template tags retrieved and filtered successfully.")

    @extend_schema(operation_id="delete_template_tag", parameters=[TAG_ID], responses=OpenApiTypes.STR)
    @tag.mapping.delete
    def delete_tag(self, request, template_id=None, tag_id=None):
        template = self.get_object()
        deleted = services.template_tag_delete(template=template, address=_tag_address(tag_id))
        return ok("", "Template tag successfully deleted.", {"deleted": deleted})

    # --- Permissions ----------------------------------------------------------------------------

    @extend_schema(operation_id="get_template_permissions", responses=PermissionsResponseSerializer)
    @action(detail=True, methods=["get"])
    def permissions(self, request, template_id=None):
        template = self.get_object()
        return ok({"permissions": services.permission_lines(template)},
                  "Template permissions retrieved successfully.")

    @extend_schema(operation_id="set_template_permission", request=TemplateSetPermissionSerializer,
                   responses=PermissionsResponseSerializer)
    @permissions.mapping.post
    def set_permission(self, request, template_id=None):
        template = self.get_object()
        data = _validated(TemplateSetPermissionSerializer, request.data)
        lines = services.template_permission_set(template=template, principal=request.user,
                                                 username=data["user"], level=data["level"])
        return ok({"permissions": lines}, "Template permissions updated successfully.")

    @extend_schema(operation_id="delete_template_permission", parameters=[USER],
                   responses=PermissionsResponseSerializer)
    @action(detail=True, methods=["delete"], url_path=r"permissions/(?P<user>[^/]+)")
    def delete_permission(self, request, template_id=None, user=None):
        lines = services.template_permission_delete(template=self.get_object(), principal=request.user,
                                                    username=user)
        return ok({"permissions": lines}, "Template permission deleted successfully.")
