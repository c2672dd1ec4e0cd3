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
    "keyid": "631d988f9bb3f485ad2184971e5b2a9b4a3698bcfa48fb185698f4624ee8bf40",
    "sig": "3905c35860e7a444746721829a3bfdeddd42763cd338c12dd907812b38641bbaaa9f1cbdc56160b0e079483796e443d1daa4c948b651689a3aa3b3901cae0b0a"
  }
}
