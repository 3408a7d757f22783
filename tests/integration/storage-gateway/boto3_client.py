"""Drives the gateway with Debian's python3-boto3 (botocore 1.29): checksums in headers and, with
botocore's own aws-chunked writer, in trailers; presigned URLs; conditional reads. Prints what
boto3 sends for a default PutObject. Usage: boto3_client.py ENDPOINT BUCKET. Exit 0 = all good."""
import base64
import hashlib
import sys
import urllib.error
import urllib.request
import zlib

import boto3
import botocore.httpchecksum as httpchecksum
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
sent = []
s3.meta.events.register("before-send.s3.*", lambda request, **kw: sent.append(dict(request.headers)))


def check(cond, what):
    if not cond:
        print("FAILED:", what)
        sys.exit(1)
    print("ok:", what)


def shown(headers):
    keep = ("X-Amz-Content-SHA256", "x-amz-content-sha256", "Content-Length", "Transfer-Encoding", "Content-Encoding",
            "X-Amz-Trailer", "X-Amz-Decoded-Content-Length", "Content-MD5")
    out = {k: v for k, v in headers.items() if k in keep or k.lower().startswith("x-amz-checksum")
           or k.lower().startswith("x-amz-sdk-checksum")}
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in out.items()}


body = bytes(range(256)) * 400
crc32 = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
sha256 = base64.b64encode(hashlib.sha256(body).digest()).decode()

s3.put_object(Bucket=bucket, Key="default", Body=body)
print("default PutObject sends:", shown(sent[-1]))
check(s3.get_object(Bucket=bucket, Key="default")["Body"].read() == body, "default round trip")

for algorithm, expected in (("CRC32", crc32), ("SHA256", sha256), ("SHA1", None)):
    r = s3.put_object(Bucket=bucket, Key="h-" + algorithm, Body=body, ChecksumAlgorithm=algorithm)
    print(algorithm, "header mode sends:", shown(sent[-1]))
    check(("x-amz-checksum-" + algorithm.lower()) in {k.lower() for k in sent[-1]},
          algorithm + " sent as a header")
    got = s3.get_object(Bucket=bucket, Key="h-" + algorithm, ChecksumMode="ENABLED")
    check(got["Body"].read() == body, algorithm + " round trip (boto3 validated the checksum)")
    if expected:
        check(got.get("Checksum" + algorithm) == expected, algorithm + " value returned")
        check(r.get("Checksum" + algorithm) == expected, algorithm + " value in PutObject reply")

# botocore sends trailers only over TLS; pretend so, to have it use its aws-chunked writer here.
original = httpchecksum.resolve_request_checksum_algorithm


def over_tls(request, *args, **kwargs):
    url = request["url"]
    request["url"] = "https" + url[len("http"):]
    try:
        return original(request, *args, **kwargs)
    finally:
        request["url"] = url


httpchecksum.resolve_request_checksum_algorithm = over_tls
for algorithm, expected in (("CRC32", crc32), ("SHA256", sha256)):
    s3.put_object(Bucket=bucket, Key="t-" + algorithm, Body=body, ChecksumAlgorithm=algorithm)
    print(algorithm, "trailer mode sends:", shown(sent[-1]))
    mode = {k.lower(): v for k, v in sent[-1].items()}.get("x-amz-content-sha256")
    check(mode in (b"STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
          algorithm + " sent with a trailer")
    got = s3.get_object(Bucket=bucket, Key="t-" + algorithm, ChecksumMode="ENABLED")
    check(got["Body"].read() == body and got.get("Checksum" + algorithm) == expected,
          algorithm + " trailer stored and returned")
httpchecksum.resolve_request_checksum_algorithm = original

put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "presigned"},
                                    ExpiresIn=300)
req = urllib.request.Request(put_url, data=b"by presigned url", method="PUT")
with urllib.request.urlopen(req) as reply:
    check(reply.status == 200, "presigned PUT")
get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "presigned"},
                                    ExpiresIn=300)
with urllib.request.urlopen(get_url) as reply:
    check(reply.read() == b"by presigned url", "presigned GET")
try:
    urllib.request.urlopen(get_url.replace("presigned?", "other?"))
    check(False, "presigned URL for another key refused")
except urllib.error.HTTPError as e:
    check(e.code == 403, "presigned URL for another key refused")

etag = s3.head_object(Bucket=bucket, Key="default")["ETag"]
check(s3.get_object(Bucket=bucket, Key="default", IfMatch=etag)["Body"].read() == body, "IfMatch")
for kwargs, code in (({"IfNoneMatch": etag}, "304"), ({"IfMatch": '"0123"'}, "412")):
    try:
        s3.head_object(Bucket=bucket, Key="default", **kwargs)
        check(False, str(kwargs))
    except ClientError as e:
        check(e.response["Error"]["Code"] == code, "head_object %s -> %s" % (kwargs, code))
print("ALL OK")
