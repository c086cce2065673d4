"""Multipart uploads streamed straight into their destination (never held in memory or on disk).

Django's multipart parser hands each file part to the request's upload handlers chunk by chunk;
:class:`ForwardingUploadHandler` forwards the part named ``file`` to a writer (an exec into the
storage server or the pod) as it arrives, and keeps other small parts (tapipy sends ``dest_path``
and ``path`` as file parts) in memory, bounded.
"""
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from core.errors import BadRequest

SMALL_PART_MAX = 4096


class ForwardingUploadHandler(FileUploadHandler):
    chunk_size = 256 * 1024

    def __init__(self, open_writer, field: str = "file"):
        super().__init__()
        self.open_writer, self.field = open_writer, field
        self.writer, self.result, self.small, self._current = None, None, {}, None
        self.error = None

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        self._current = field_name
        if field_name == self.field:
            if self.writer is not None:
                raise BadRequest(f"Send one '{self.field}' part only.")
            self.writer = self.open_writer()
            self.file_name = file_name
        else:
            self.small[field_name] = b""

    def receive_data_chunk(self, raw_data, start):
        if self._current == self.field:
            self.writer.write(raw_data)
        else:
            value = self.small[self._current] + raw_data
            if len(value) > SMALL_PART_MAX:
                raise BadRequest(f"Part '{self._current}' is too long (at most {SMALL_PART_MAX} bytes).")
            self.small[self._current] = value
        return None

    def file_complete(self, file_size):
        if self._current == self.field:
            self.result = file_size
        return None

    def upload_interrupted(self):
        if self.writer is not None and self.result is None:
            self.writer.abort()


def forward_upload(request, open_writer, *, field: str = "file") -> ForwardingUploadHandler:
    """Parse ``request``'s multipart body, streaming part ``field`` into ``open_writer()``'s writer.

    Returns the handler (``writer``, ``small`` parts, ``file_name``); the caller commits the
    writer. Any error aborts the writer first (no half-written file stays).
    """
    handler = ForwardingUploadHandler(open_writer, field)
    django_request = request._request
    django_request.upload_handlers = [handler]
    try:
        form = request.data  # DRF's MultiPartParser → Django's, with our handler
    except StopUpload:
        form = {}
    except BaseException:
        if handler.writer is not None:
            handler.writer.abort()
        raise
    for key, value in getattr(form, "items", lambda: [])():
        if isinstance(value, str) and key != field:
            handler.small.setdefault(key, value.encode())
    if handler.writer is None:
        raise BadRequest(f"The multipart body has no '{field}' part (the file to upload).")
    return handler
