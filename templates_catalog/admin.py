"""Admin site: templates with their versions and permissions, and the image allow-list.

Versions are immutable: the admin can publish one (through the same service function and checks
as ``add_template_tag``, acting as a tenant admin of the template's tenant) but never edit it.
"""
import json

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html

from core.errors import InvalidInput
from core.permissions import PermissionLevel
from podspec.images import image_name, is_valid_reference
from podspec.references import check_tag
from templates_catalog.api.serializers import TemplatePodDefinitionSerializer
from templates_catalog.models import (
    RegistryCredential,
    Image,
    Template,
    TemplatePermission,
    TemplateTag,
    is_sharing_entry,
)
from templates_catalog.services.tags import prepared_definition, template_tag_publish
from tenancy.identity import Principal


def _admin_actor(request) -> str:
    return f"admin-site:{request.user.get_username()}"


def _acting_principal(template, request):
    """Whom the admin site acts as when publishing: a tenant admin of the template's tenant in
    admin mode (built-in templates: nobody, so bases resolve within the catalog)."""
    if template.is_builtin:
        return None
    return Principal(tenant=template.tenant, username=_admin_actor(request), is_tenant_admin=True,
                     admin_mode=True, auth_method="admin-site")


def _flat_errors(detail, prefix=""):
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flat_errors(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(detail, list):
        for item in detail:
            yield from _flat_errors(item, prefix)
    else:
        yield f"{prefix}: {detail}" if prefix else str(detail)


# --- Templates ---------------------------------------------------------------------------------

class TemplatePermissionForm(forms.ModelForm):
    class Meta:
        model = TemplatePermission
        fields = ("username", "level")

    def clean(self):
        data = super().clean()
        if is_sharing_entry(data.get("username", "")) and data.get("level") != PermissionLevel.READ:
            raise forms.ValidationError("'tenant.<id>' and '**' entries can only be READ.")
        if data.get("level") == PermissionLevel.APPROVEDADMIN:
            raise forms.ValidationError("Templates take READ, USER or ADMIN.")
        return data


class TemplatePermissionInline(admin.TabularInline):
    """``username`` is a user, ``tenant.<id>`` (every user of that tenant, READ) or ``**`` (everyone, READ)."""

    model = TemplatePermission
    verbose_name_plural = "Permissions (a user; 'tenant.<id>': all users of a tenant; '**': everyone — READ only)"
    form = TemplatePermissionForm
    extra = 0
    fields = ("username", "level", "granted_by", "granted_at")
    readonly_fields = ("granted_by", "granted_at")


class TemplateTagInline(admin.TabularInline):
    """Versions are listed, never edited here; publish one from 'Template tags'."""

    model = TemplateTag
    fk_name = "template"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("tag", "creation_ts", "commit_message", "added_by", "base")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("template_id", "owner", "created_by", "creation_ts", "update_ts")
    list_filter = (("tenant", admin.EmptyFieldListFilter), "tenant")
    list_select_related = ("tenant",)
    search_fields = ("template_id", "description", "metatags")
    fields = ("tenant", "template_id", "description", "metatags", "archive_message", "created_by",
              "creation_ts", "update_ts")
    readonly_fields = ("created_by", "creation_ts", "update_ts")
    inlines = [TemplatePermissionInline, TemplateTagInline]

    @admin.display(description="owner", ordering="tenant__tenant_id")
    def owner(self, obj):
        return obj.owner_label

    def get_readonly_fields(self, request, obj=None):
        # The id and owner are what pods' references resolve by: fixed once created.
        return self.readonly_fields + (("tenant", "template_id") if obj else ())

    def save_formset(self, request, form, formset, change):
        for instance in formset.save(commit=False):
            instance.granted_by = instance.granted_by or _admin_actor(request)
            instance.save()
        for removed in formset.deleted_objects:
            removed.delete()


class TemplateTagForm(forms.ModelForm):
    pod_definition = forms.CharField(widget=forms.Textarea(attrs={"rows": 16, "cols": 100}),
                                     help_text="JSON: the pod fields this version sets (image, networking, ...).")

    class Meta:
        model = TemplateTag
        fields = ("template", "tag", "commit_message", "description", "pod_definition")

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.prepared = None

    def clean_tag(self):
        try:
            return check_tag(self.cleaned_data["tag"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_pod_definition(self):
        try:
            raw = json.loads(self.cleaned_data["pod_definition"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None
        serializer = TemplatePodDefinitionSerializer(data=raw)
        if not serializer.is_valid():
            raise forms.ValidationError(list(_flat_errors(serializer.errors)))
        return serializer.validated_data

    def clean(self):
        data = super().clean()
        template, definition = data.get("template"), data.get("pod_definition")
        if template is not None and definition is not None:
            try:
                prepared_definition(template=template, pod_definition=definition,
                                    principal=_acting_principal(template, self.request))
            except InvalidInput as exc:
                raise forms.ValidationError(list(_flat_errors(exc.errors))) from None
        return data


@admin.register(TemplateTag)
class TemplateTagAdmin(admin.ModelAdmin):
    """Publishing goes through ``template_tag_publish``; existing versions are read-only."""

    list_display = ("__str__", "template", "tag", "creation_ts", "added_by", "commit_message")
    list_select_related = ("template", "template__tenant")
    list_filter = ("tag",)
    search_fields = ("template__template_id", "tag", "commit_message")
    readonly_fields = ("template", "tag", "creation_ts", "tag_timestamp", "pod_definition_json",
                       "commit_message", "description", "added_by", "base")
    form = TemplateTagForm

    @admin.display(description="pod definition")
    def pod_definition_json(self, obj):
        return format_html('<pre class="pods-pre">{}</pre>', json.dumps(obj.pod_definition, indent=2, sort_keys=True))

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def get_fields(self, request, obj=None):
        if obj:
            return self.readonly_fields
        return ("template", "tag", "commit_message", "description", "pod_definition")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj:
            return super().get_form(request, obj, change, **kwargs)
        form_class = super().get_form(request, obj, change, **kwargs)

        class RequestBoundForm(form_class):
            def __init__(self, *args, **inner):
                super().__init__(*args, request=request, **inner)

        return RequestBoundForm

    def has_change_permission(self, request, obj=None):
        # Viewing is allowed (the view permission); saving changes to a version never is.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:  # unreachable: versions have no change permission
            raise PermissionError("Template versions are immutable.")
        data = form.cleaned_data
        template = data["template"]
        published = template_tag_publish(
            template=template, added_by=_admin_actor(request), principal=_acting_principal(template, request),
            pod_definition=data["pod_definition"], commit_message=data["commit_message"],
            tag=data["tag"], description=data.get("description", ""))
        # The admin's log entry, message and redirect then point at the published version.
        for field in TemplateTag._meta.concrete_fields:
            setattr(obj, field.attname, getattr(published, field.attname))
        obj._state.adding = False


# --- Images ------------------------------------------------------------------------------------

class ImageForm(forms.ModelForm):
    class Meta:
        model = Image
        fields = ("tenant", "image", "tenants", "description", "added_by")

    def clean_image(self):
        value = self.cleaned_data["image"]
        if not is_valid_reference(value):
            raise forms.ValidationError(f"{value!r} is not a valid image reference.")
        return image_name(value)


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    form = ImageForm
    list_display = ("image", "managed_by", "who_may_run_it", "added_by", "creation_ts")
    list_filter = (("tenant", admin.EmptyFieldListFilter), "tenant")
    list_select_related = ("tenant",)
    search_fields = ("image", "description", "added_by")

    def get_changeform_initial_data(self, request):
        return {**super().get_changeform_initial_data(request), "added_by": _admin_actor(request)}

    @admin.display(description="who may run it")
    def who_may_run_it(self, obj):
        """The ``tenants`` entries in words: ``*`` this site's tenants, ``**`` every tenant, ``-t`` not t."""
        allowed, denied = [], []
        for entry in obj.tenants or []:
            if entry in ("*", "**") and obj.tenant_id is not None:
                # A tenant's entry speaks for that tenant only (models/images.py).
                allowed.append(f"{obj.tenant.tenant_id} only ({entry} in a tenant's entry)")
            elif entry == "**":
                allowed.append("every tenant (**)")
            elif entry == "*":
                allowed.append("every tenant of this site (*)")
            elif entry.startswith("-"):
                denied.append(entry[1:])
            else:
                allowed.append(entry)
        text = ", ".join(allowed) or "nobody"
        if denied:
            text += f"; denied to {', '.join(denied)} (a deny wins)"
        return text


# --- Registry credentials (private images; parity) ---------------------------------------------

class RegistryCredentialForm(forms.ModelForm):
    """The password is write-only: never shown, kept when left empty on a change."""

    password = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False,
                               help_text="Password or access token; stored encrypted, never shown. "
                                         "Leave empty to keep the current one.")

    class Meta:
        model = RegistryCredential
        fields = ("tenant", "registry", "username", "password", "description")

    def clean(self):
        data = super().clean()
        if not data.get("password") and not self.instance.password_encrypted:
            self.add_error("password", "A new credential needs a password or token.")
        return data

    def save(self, commit=True):
        credential = super().save(commit=False)
        if self.cleaned_data.get("password"):
            credential.set_password(self.cleaned_data["password"])
        credential.update_ts = timezone.now()
        if commit:
            credential.save()
        return credential


@admin.register(RegistryCredential)
class RegistryCredentialAdmin(admin.ModelAdmin):
    form = RegistryCredentialForm
    list_display = ("registry", "tenant", "username", "description", "update_ts")
    list_filter = ("tenant",)
    list_select_related = ("tenant",)
    search_fields = ("registry", "username", "description")
