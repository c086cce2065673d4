"""Routes of the pods API, mounted under both ``/v3/`` and ``/``."""
urlpatterns = []
