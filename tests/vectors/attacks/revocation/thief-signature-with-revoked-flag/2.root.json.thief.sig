{
  "format": "conclave-signature",
  "format_version": 1,
  "payload_sha256": "1c3b0e7145543ce4bfb3ef875ea48e3a4b7f9b32f32423816235e129113484ce",
  "public_key": {
    "keytype": "ed25519",
    "keyval": {
      "public": "b914235a7bc2ab4ec701e94d1b37689c3643e69e658089defab53035d2968506"
    },
    "scheme": "ed25519"
  },
  "role": "root",
  "signature": {
    "keyid": "947680b8bb97f1635e2cf34e5f53a33593b46a750406c8a0c2d6bcc7595eba4f",
    "sig": "05ce8a70bda1a1f83e5754e135c90b7037b833084db972de249be2dc2f0149c2e4983a8620b5d3f56d5a903fc6aedbd6a0ebb8a48d8c697b974463382392db02"
  },
  "version": 2
}
