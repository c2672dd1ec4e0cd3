{
  "format": "conclave-signature",
  "format_version": 1,
  "payload_sha256": "aba3f34ae6