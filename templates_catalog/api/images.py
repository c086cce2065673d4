"""The image allow-list endpoints: tapipy's ``get_images``, ``add_image``, ``add_images``,
``get_image``, ``delete_image``, plus ``update_image``.

Reads are for every user of a tenant (entries that concern their tenant); writes for tenant
admins in admin mode (``X-Pods-Admin: true``, as upstream 26Q3), on their tenant's own entries. Image ids hold slashes (``jupyter/base-notebook``) and
tapipy does not URL-encode them, so the id route takes the rest of the path.
"""
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated

from core.envelope import no_changes_message, ok
from core.fields import QueryFlag
from templates_catalog import services
from templates_catalog.models import Image

from .permissions import InAdminMode, IsTenantAdmin
from .rendering import render_image
from .serializers import (
    ImageResponseSerializer,
    NewImageSerializer,
    UpdateImageSerializer,
)

IMAGE_ID = OpenApiParameter("image_id", OpenApiTypes.STR, OpenApiParameter.PATH,
                            description="Image name, slashes included (e.g. jupyter/base-notebook); "
                                        "a tag is ignored.")
WRITE_ACTIONS = ("create", "bulk", "update", "destroy")


class ImageViewSet(viewsets.GenericViewSet):
    lookup_field = "image"
    lookup_url_kwarg = "image_id"
    lookup_value_regex = ".+"
    serializer_class = ImageResponseSerializer

    def get_queryset(self):
        principal = self.request.user
        if principal is None or not principal.is_authenticated:  # schema generation
            return Image.objects.none()
        return services.visible_images(principal.tenant)

    def get_permissions(self):
        writes = [IsTenantAdmin(), InAdminMode()] if self.action in WRITE_ACTIONS else []
        return [IsAuthenticated(), *writes]

    def get_object(self):
        return services.image_for(tenant=self.request.user.tenant, image_id=self.kwargs["image_id"])

    @extend_schema(operation_id="get_images", responses=ImageResponseSerializer(many=True))
    def list(self, request):
        return ok([render_image(image) for image in self.get_queryset().order_by("image", "lookup_rank")],
                  "Images retrieved successfully.")

    @extend_schema(operation_id="add_image", request=NewImageSerializer, responses=ImageResponseSerializer)
    def create(self, request):
        serializer = NewImageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        image, metadata = services.image_add(principal=request.user, data=serializer.validated_data)
        return ok(render_image(image), "Image added successfully.", metadata)

    @extend_schema(operation_id="add_images", request=NewImageSerializer(many=True),
                   responses=ImageResponseSerializer(many=True), parameters=[
                       OpenApiParameter("skip_duplicates", OpenApiTypes.BOOL, OpenApiParameter.QUERY,
                                        required=False, description="Skip images already listed instead "
                                                                    "of failing with 409 (default false).")])
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        skip = QueryFlag.read(request, "skip_duplicates")
        if not isinstance(request.data, list):
            raise exceptions.ValidationError({"request": ["Must be a JSON array of images."]})
        serializer = NewImageSerializer(data=request.data, many=True, allow_empty=False)
        serializer.is_valid(raise_exception=True)
        added, skipped = services.images_add(principal=request.user, items=serializer.validated_data,
                                             skip_duplicates=skip)
        if not added:
            message = "No images added - all images were duplicates."
        else:
            message = "Image added successfully." if len(added) == 1 else "Images added successfully."
        metadata = {"notice": f"Skipped duplicates: {', '.join(skipped)}."} if skipped else {}
        return ok([render_image(image) for image in added], message, metadata)

    @extend_schema(operation_id="get_image", parameters=[IMAGE_ID], responses=ImageResponseSerializer)
    def retrieve(self, request, image_id=None):
        image = self.get_object()
        allowed = services.image_allowed(request.user.tenant, image.image)
        return ok(render_image(image), "Image retrieved successfully.", {"allowed_for_your_tenant": allowed})

    @extend_schema(operation_id="update_image", parameters=[IMAGE_ID], request=UpdateImageSerializer,
                   responses=ImageResponseSerializer)
    def update(self, request, image_id=None):
        image = self.get_object()
        serializer = UpdateImageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        image, changed = services.image_update(image=image, principal=request.user, data=serializer.validated_data)
        message = "Image updated successfully." if changed else no_changes_message("image")
        return ok(render_image(image), message, {"changed_fields": changed})

    @extend_schema(operation_id="delete_image", parameters=[IMAGE_ID], responses=OpenApiTypes.STR)
    def destroy(self, request, image_id=None):
        name = services.image_delete(image=self.get_object(), principal=request.user)
        return ok(name, "Image successfully deleted.")
