#!/usr/bin/env python3
"""Prints the current TOTP code (RFC 6238: HMAC-SHA-1, 30 s, 6 digits) of a base32 secret
read from the file given, e.g. a sample staff member's in .local/secrets/ after `make run`."""
import base64
import hashlib
import hmac
import struct
import sys
import time

secret = open(sys.argv[1]).read().strip().upper()
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
offset = digest[19] & 15
print("%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000))
