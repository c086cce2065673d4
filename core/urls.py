"""The API's catch-all: any path under the API prefixes that no app routed is a 404 in the
envelope, whatever the method. Mounted last."""
from django.urls import re_path

from core.views import ApiNotFoundView

urlpatterns = [
    re_path(r"^(?:v3/)?pods(?:/.*)?$", ApiNotFoundView.as_view()),
    re_path(r"^v3(?:/.*)?$", ApiNotFoundView.as_view()),
]
