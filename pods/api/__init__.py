"""The REST API for pods: serializers, permission classes, rendering and viewsets."""
