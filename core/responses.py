"""HTTP responses for what services make: the one place an export file becomes a download, for the API's
export actions and the admin's alike."""

from __future__ import annotations

from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse

from core.exports import ExportFile


def export_file_response(export_file: ExportFile) -> HttpResponseBase:
    """The file as an attachment: CSV streamed piece by piece, XLSX sent from its temporary file (the
    response closes it when sent, which deletes it)."""
    if export_file.pieces is not None:
        response = StreamingHttpResponse(export_file.pieces, content_type=export_file.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export_file.file_name}"'
        return response
    return FileResponse(
        export_file.file,
        as_attachment=True,
        filename=export_file.file_name,
        content_type=export_file.content_type,
    )
