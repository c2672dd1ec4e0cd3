{
  "format": "conclave-signature",
  "format_version": 1,
  "payload_sha256": "1c3b0e7145543ce4bfb3ef875ea48e3a4b7f9b32f32423816235e129113484ce",
  "public_key": {
    "keytype": "ed25519",
    "keyval": {
      "public": "7869760ff3956fd8da494da2c6dde1a75250f6501030ca1f5d5e00aab5346427"
    },
    "scheme": "ed25519"
  },
  "role": "root",
  "signature": {
    "keyid": "8cc27b16b905f9a427000be1d0b6e0e06fe23f60292fd1624537d9ce694659b4",
    "sig": "590ff721f51f7379f38f66ca3f3465703d0c192b41b98be0da9bf2c55c3e40272e51ed25da17114c9550bb3c1c37abb74646f3bd3599b93c671cb9dc3ce99502"
  },
  "version": 2
}
