"""Drives the gateway with python3-boto3 in one addressing style, over HTTP or HTTPS:
    boto3_style_client.py ENDPOINT BUCKET STYLE CA_BUNDLE|- WORK_DIR
STYLE is "path" or "virtual". Names under example.test resolve to 127.0.0.1 inside this process
(getaddrinfo is wrapped), so virtual-host names need no DNS or /etc/hosts. Over HTTPS botocore
sends checksummed uploads as STREAMING-UNSIGNED-PAYLOAD-TRAILER with Transfer-Encoding: chunked;
the script checks that it did. Every byte read back is compared. Exit 0 = all good."""
import hashlib
import os
import socket
import ssl
import sys
import urllib.request

endpoint, bucket, style, ca_bundle, work = sys.argv[1:6]
_getaddrinfo = socket.getaddrinfo


def _resolve(host, *args, **kwargs):
    if isinstance(host, str) and (host == "example.test" or host.endswith(".example.test")):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _resolve

import boto3  # noqa: E402  (after the resolver hook, which urllib3 picks up at call time)
from boto3.s3.transfer import TransferConfig  # noqa: E402
from botocore.config import Config  # noqa: E402

verify = None if ca_bundle == "-" else ca_bundle
tls = endpoint.startswith("https://")
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", verify=verify,
                  config=Config(signature_version="s3v4", s3={"addressing_style": style},
                                retries={"max_attempts": 1}))
sent = []


def record(request, **kwargs):
    headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v)
               for k, v in request.headers.items()}
    sent.append((request.method, request.url, headers))


s3.meta.events.register("before-send.s3.*", record)


def check(cond, what):
    if not cond:
        print("FAILED:", what)
        sys.exit(1)
    print("ok:", what)


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def host_of(url):
    return url.split("://", 1)[1].split("/", 1)[0]


s3.create_bucket(Bucket=bucket)
method, url, headers = sent[-1]
if style == "virtual":
    check(host_of(url).startswith(bucket + "."), "CreateBucket addressed virtual-host style")
    check(url.split(host_of(url), 1)[1] in ("", "/"), "bucket not in the path")
else:
    check("/" + bucket in url, "CreateBucket addressed path style")

body = os.urandom(300000)
s3.put_object(Bucket=bucket, Key="dir/small file é.bin", Body=body)
check(s3.get_object(Bucket=bucket, Key="dir/small file é.bin")["Body"].read() == body,
      "PutObject/GetObject round trip")

for algorithm in ("CRC32", "SHA256"):
    key = "checksummed-" + algorithm
    s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm=algorithm)
    _, _, headers = sent[-1]
    if tls:
        check(headers.get("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
              algorithm + ": sent as STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        check(headers.get("transfer-encoding") == "chunked",
              algorithm + ": sent with Transfer-Encoding: chunked")
    got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    check(got["Body"].read() == body, algorithm + ": round trip")

big = os.path.join(work, "big.bin")
with open(big, "wb") as f:
    for i in range(20):
        f.write(os.urandom(1 << 20))
cfg = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=4)
s3.upload_file(big, bucket, "big/twenty.bin", Config=cfg)
check(any("uploadId=" in u for m, u, h in sent if m == "PUT"), "20 MiB upload went multipart")
back = os.path.join(work, "big.back")
s3.download_file(bucket, "big/twenty.bin", back, Config=cfg)
check(sha(back) == sha(big), "20 MiB multipart upload downloads byte for byte")
s3.upload_file(big, bucket, "big/twenty-crc.bin", Config=cfg,
               ExtraArgs={"ChecksumAlgorithm": "CRC32"})
s3.download_file(bucket, "big/twenty-crc.bin", back, Config=cfg)
check(sha(back) == sha(big), "20 MiB multipart upload with CRC32 parts byte for byte")

listed = s3.list_objects_v2(Bucket=bucket, Prefix="dir/")
check([o["Key"] for o in listed.get("Contents", [])] == ["dir/small file é.bin"], "ListObjectsV2")

url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/small file é.bin"},
                                ExpiresIn=300)
if style == "virtual":
    check(host_of(url).startswith(bucket + "."), "presigned URL is virtual-host style")
context = ssl.create_default_context(cafile=verify) if tls and verify else None
with urllib.request.urlopen(url, context=context) as reply:
    check(reply.read() == body, "presigned GET")

if style == "virtual":
    check(all(host_of(u).startswith(bucket + ".") for m, u, h in sent),
          "every bucket request used the bucket's host name")

keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
s3.delete_bucket(Bucket=bucket)
check(bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]], "bucket deleted")
print("ALL OK")
