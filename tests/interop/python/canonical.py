"""Canonical JSON by securesystemslib, for the property test in tests/cjson_vectors.rs.

Reads JSON values from stdin, one per line, and prints for each the lowercase hex of
`encode_canonical(value).encode("utf-8")`, or `error: ...` when securesystemslib refuses it.
"""

import json
import sys

from securesystemslib.formats import encode_canonical


def main() -> None:
    for line in sys.stdin.buffer:
        line = line.rstrip(b"\n")
        if not line:
            continue
        try:
            value = json.loads(line.decode("utf-8"))
            out = encode_canonical(value).encode("utf-8").hex()
        except Exception as e:  # noqa: BLE001 - any refusal is reported, not raised
            out = f"error: {type(e).__name__}"
        sys.stdout.write(out + "\n")


if __name__ == "__main__":
    main()
