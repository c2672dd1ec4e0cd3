{
  "format": "conclave-signature",
  "format_version": 1,
  "payload_sha256": "c4705d5f6efb1c3c71e77f9cd8d2fe686cad2a304a5fbe7663ce7656b80da7ca",
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
    "sig": "704b811bab84a2792aef76916fe4da7cca2de6d562125b846e7c36e516766240c1c321283bf9f26fd10f4d341c64c159155c8abd788de068b18e12bc0493ed0b"
  },
  "version": 2
}
