{
  "format": "conclave-signature",
  "format_version": 1,
  "payload_sha256": "1228259320005f00b55d55b0a7c135992bc682c8dce1dbf6617fa0ef4a48f70b",
  "public_key": {
    "keytype": "ed25519",
    "keyval": {
      "public": "ad6d8e1520cc5d200faa5103e1e31b6914cb8cb673d87e9b839342aa78cd1a91"
    },
    "scheme": "ed25519"
  },
  "role": "projects",
  "signature": {
    "keyid": "893fdd1ec81c1c313f54b1abd7869fa255332dc574ee5ecc7eca49cf1c343296",
    "sig": "c959c6bce297ccd682eed7f32bf3518d797473cd8f7d32c57dafa8f630307ea4ce432a88a69a379c7b3b84a83cc5bf6982cf963166166c35a0b000ef6f7c2601"
  },
  "version": 2
}
