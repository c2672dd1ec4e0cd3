{
  "format": "conclave-signature",
  "format_version": 1,
  "payload_sha256": "aba3f34ae6d5413da46f5a6d570dd9ce6f814b8a0f17c358951d05f3beab805e",
  "public_key": {
    "keytype": "ed25519",
    "keyval": {
      "public": "81cf7dc5a044c096158a3f7d689d6357fba7a471323d68a394efff8e49814827"
    },
    "scheme": "ed25519"
  },
  "role": "root",
  "signature": {
    "keyid": "01cdc7169510b0e438ddb6a9c7f3787b70f4084c14491898ada03778db8540d7",
    "sig": "012cda9a054b081a5321e0f26fd78c1becd48ea10f8c5300d0a4ff4a6030ba7d12a82d45c85a0adb242756cc29e3227e9616f85bfff6872bf1e9393bdcff9908"
  },
  "version": 1
}
