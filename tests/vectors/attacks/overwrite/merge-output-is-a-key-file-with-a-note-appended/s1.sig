{
  "format": "conclave-signature",
  "format_version": 1,
  "payload_sha256": "aba3f34ae6d5413da46f5a6d570dd9ce6f814b8a0f17c358951d05f3beab805e",
  "public_key": {
    "keytype": "ed25519",
    "keyval": {
      "public": "98aac9d4b0c6bf671d8c75807e868b825d801bf3de6255b068170342a6196ed4"
    },
    "scheme": "ed25519"
  },
  "role": "root",
  "signature": {
    "keyid": "bc248d193fa6f9154a62a13d146fb933a42b3984ba98c3192fa10c7fc3b485d6",
    "sig": "79be28361968b05fd3760b1b994a800f452dfd2f310c5b76d04e83ac00ba83f43dc08ba7bd14bd630e61af419c0b64655709cf05ada116abb036038e4c16950c"
  },
  "version": 1
}
