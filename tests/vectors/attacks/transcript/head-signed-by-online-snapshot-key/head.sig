{
  "format": "conclave-transcript-head",
  "format_version": 1,
  "head_sha256": "548de691c21619f28a06a5ff485257499eba39ccbfe8002b0b62bc0a7872be61",
  "public_key": {
    "keytype": "ed25519",
    "keyval": {
      "public": "2bebb2d776d4ca309778d14424a06abf821039f0c716931560bca9aa2abc4c7e"
    },
    "scheme": "ed25519"
  },
  "seq": 2,
  "signature": {
    "keyid": "4335f3268e71bc0f122b74eb05f8cfb749c1a0632e2efdb818f1810b64a4315c",
    "sig": "b4e1593d65481060ec806fdf078a1ee128c8042011c48f0634561bdba2249dc0ce9f3555dd5e6ba037e7c634f5b3757cd5367d9b5e4774f9914f62d938f3650f"
  }
}
