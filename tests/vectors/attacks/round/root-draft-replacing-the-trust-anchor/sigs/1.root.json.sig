{
  "format": "conclave-signature",
  "format_version": 1,
  "payload_sha256": "30c216cd66d4237d90658230d4587395a7216e19bce3bf60a4b6f59749fc79c1",
  "public_key": {
    "keytype": "ed25519",
    "keyval": {
      "public": "f8e27df95a4ec47e43af64ed7247c36674d02d66cd92f449bbfb080c61c0320f"
    },
    "scheme": "ed25519"
  },
  "role": "root",
  "signature": {
    "keyid": "631d988f9bb3f485ad2184971e5b2a9b4a3698bcfa48fb185698f4624ee8bf40",
    "sig": "8c614b6bfad1acd097e452b8afca5d5bd9494c179c4659b2d85bc288f56cb6dc54ced75000f5914286071cd4d50c10ed6fbfd02a91075bd940a1e7f1f69a910e"
  },
  "version": 1
}
