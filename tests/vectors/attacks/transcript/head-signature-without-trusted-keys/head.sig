{
  "format": "conclave-transcript-head",
  "format_version": 1,
  "head_sha256": "548de691c21619f28a06a5ff485257499eba39ccbfe8002b0b62bc0a7872be61",
  "public_key": {
    "keytype": "ed25519",
    "keyval": {
      "public": "b914235a7bc2ab4ec701e94d1b37689c3643e69e658089defab53035d2968506"
    },
    "scheme": "ed25519"
  },
  "seq": 2,
  "signature": {
    "keyid": "947680b8bb97f1635e2cf34e5f53a33593b46a750406c8a0c2d6bcc7595eba4f",
    "sig": "98fcef1037931caf85da130d956602ad7c0ffeb044c3ba3f5b600ec371bdbdc49e7a79983f746eed1c214203c3996f21cd9b6878cf43d276a1c22c2f785eda00"
  }
}
