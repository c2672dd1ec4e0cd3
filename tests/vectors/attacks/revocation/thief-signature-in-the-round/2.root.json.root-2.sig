{
  "format": "conclave-signature",
  "format_version": 1,
  "payload_sha256": "1c3b0e7145543ce4bfb3ef875ea48e3a4b7f9b32f32423816235e129113484ce",
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
    "sig": "0cd81b07957f119ebaa25a4b183cfaea198254e4826c8de66f74fef5e4ed98a0970eac2f9b7d4db277dd8b04d784943859c08e77de66ed9a5d637a4427605500"
  },
  "version": 2
}
