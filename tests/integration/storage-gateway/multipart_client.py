"""Drives UploadPartCopy, ListParts and ListMultipartUploads with Debian's python3-boto3, paging
with boto3's own paginators. Usage: multipart_client.py ENDPOINT BUCKET. Exit 0 = all good.
Leaves exactly one object, "dst", built from ranges of "src"; every other upload is aborted."""
import datetime
import hashlib
import random
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
MiB = 1024 * 1024


def check(cond, what):
    if not cond:
        print("FAILED:", what)
        sys.exit(1)
    print("ok:", what)


def error_code(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


rng = random.Random(7)
src = bytes(rng.getrandbits(8) for _ in range(12 * MiB + 3))
s3.put_object(Bucket=bucket, Key="src", Body=src)
src_etag = s3.head_object(Bucket=bucket, Key="src")["ETag"]

# UploadPartCopy: an unaligned 5 MiB range, the whole source, then 3 bytes as the last part.
up = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
slices = [(1000, 1000 + 5 * MiB - 1), None, (7, 9)]
parts = []
expected = b""
for number, rng_ in enumerate(slices, start=1):
    args = dict(Bucket=bucket, Key="dst", UploadId=up, PartNumber=number,
                CopySource={"Bucket": bucket, "Key": "src"})
    if rng_ is not None:
        args["CopySourceRange"] = "bytes=%d-%d" % rng_
        piece = src[rng_[0]:rng_[1] + 1]
    else:
        args["CopySourceIfMatch"] = src_etag
        piece = src
    r = s3.upload_part_copy(**args)
    etag = r["CopyPartResult"]["ETag"]
    check(etag.strip('"') == hashlib.md5(piece).hexdigest(), "part %d ETag is the MD5 of the range" % number)
    parts.append({"PartNumber": number, "ETag": etag})
    expected += piece

check(error_code(lambda: s3.upload_part_copy(
    Bucket=bucket, Key="dst", UploadId=up, PartNumber=9, CopySource={"Bucket": bucket, "Key": "src"},
    CopySourceIfMatch='"0123"')) == "PreconditionFailed", "copy-source-if-match is checked")
check(error_code(lambda: s3.upload_part_copy(
    Bucket=bucket, Key="dst", UploadId=up, PartNumber=9, CopySource={"Bucket": bucket, "Key": "src"},
    CopySourceIfNoneMatch=src_etag)) == "PreconditionFailed", "copy-source-if-none-match is checked")
check(error_code(lambda: s3.upload_part_copy(
    Bucket=bucket, Key="dst", UploadId=up, PartNumber=9, CopySource={"Bucket": bucket, "Key": "src"},
    CopySourceRange="bytes=5-%d" % len(src))) == "InvalidRange", "a range past the end is refused")
check(error_code(lambda: s3.upload_part_copy(
    Bucket=bucket, Key="dst", UploadId=up, PartNumber=9, CopySource={"Bucket": bucket, "Key": "nope"}))
    == "NoSuchKey", "a missing source is NoSuchKey")

# Completion rules: ascending numbers, matching ETags, 5 MiB for every part but the last.
check(error_code(lambda: s3.complete_multipart_upload(
    Bucket=bucket, Key="dst", UploadId=up, MultipartUpload={"Parts": [parts[1], parts[0]]}))
    == "InvalidPartOrder", "descending part numbers are refused")
check(error_code(lambda: s3.complete_multipart_upload(
    Bucket=bucket, Key="dst", UploadId=up,
    MultipartUpload={"Parts": [parts[0], {"PartNumber": 2, "ETag": '"00"'}]})) == "InvalidPart",
    "a wrong ETag is refused")
check(error_code(lambda: s3.complete_multipart_upload(
    Bucket=bucket, Key="dst", UploadId=up, MultipartUpload={"Parts": [parts[2], parts[1]]}))
    == "EntityTooSmall", "a small part before the last is refused")
s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=up, MultipartUpload={"Parts": parts})
got = s3.get_object(Bucket=bucket, Key="dst")["Body"].read()
check(got == expected, "the completed object is the ranges in order (%d bytes)" % len(expected))
check(s3.head_object(Bucket=bucket, Key="dst")["ETag"].endswith('-3"'), "multipart ETag of 3 parts")
ranged = s3.get_object(Bucket=bucket, Key="dst", Range="bytes=%d-%d" % (5 * MiB - 10, 5 * MiB + 10))["Body"].read()
check(ranged == expected[5 * MiB - 10:5 * MiB + 11], "ranged read across the part boundary")

# ListParts paging.
up2 = s3.create_multipart_upload(Bucket=bucket, Key="listed")["UploadId"]
for n in (1, 2, 3, 5, 8):
    s3.upload_part(Bucket=bucket, Key="listed", UploadId=up2, PartNumber=n, Body=b"p%d" % n)
page = s3.list_parts(Bucket=bucket, Key="listed", UploadId=up2, MaxParts=2)
check(page["IsTruncated"] and [p["PartNumber"] for p in page["Parts"]] == [1, 2], "first page of parts")
check(page["NextPartNumberMarker"] == 2, "next part number marker")
page = s3.list_parts(Bucket=bucket, Key="listed", UploadId=up2, MaxParts=2, PartNumberMarker=3)
check([p["PartNumber"] for p in page["Parts"]] == [5, 8] and not page["IsTruncated"], "parts after marker 3")
numbers = []
for page in s3.get_paginator("list_parts").paginate(Bucket=bucket, Key="listed", UploadId=up2,
                                                    PaginationConfig={"PageSize": 2}):
    numbers += [(p["PartNumber"], p["Size"], p["ETag"].strip('"')) for p in page.get("Parts", [])]
check(numbers == [(n, 2, hashlib.md5(b"p%d" % n).hexdigest()) for n in (1, 2, 3, 5, 8)],
      "paginated ListParts sees every part once with size and ETag")
# A part's LastModified is its own upload's time, not the upload's start.
time.sleep(1.1)
s3.upload_part(Bucket=bucket, Key="listed", UploadId=up2, PartNumber=2, Body=b"p2")
listed = s3.list_parts(Bucket=bucket, Key="listed", UploadId=up2)
initiated = [u["Initiated"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
             if u["UploadId"] == up2][0]
modified = {p["PartNumber"]: p["LastModified"] for p in listed["Parts"]}
check(modified[2] >= initiated + datetime.timedelta(seconds=1) and modified[1] < modified[2],
      "ListParts reports each part's own upload time")
check(error_code(lambda: s3.list_parts(Bucket=bucket, Key="listed", UploadId="ffff")) == "NoSuchUpload",
      "ListParts of an unknown upload")

# ListMultipartUploads paging, prefix and delimiter.
ids = {"listed": [up2]}
for key in ("x/1", "x/2", "y", "z", "z"):
    ids.setdefault(key, []).append(s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"])
everything = sorted((k, u) for k, us in ids.items() for u in us)
seen = []
for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket,
                                                                PaginationConfig={"PageSize": 2}):
    seen += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
check(seen == everything, "paginated ListMultipartUploads sees %d uploads once each" % len(everything))
page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=3)
check(page["IsTruncated"] and len(page["Uploads"]) == 3, "max-uploads truncates")
page = s3.list_multipart_uploads(Bucket=bucket, KeyMarker=page["NextKeyMarker"],
                                 UploadIdMarker=page["NextUploadIdMarker"])
check([(u["Key"], u["UploadId"]) for u in page["Uploads"]] == everything[3:], "markers continue")
page = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
check([p["Prefix"] for p in page.get("CommonPrefixes", [])] == ["x/"], "delimiter rolls up x/")
check([u["Key"] for u in page["Uploads"]] == ["listed", "y", "z", "z"], "keys without the delimiter")
page = s3.list_multipart_uploads(Bucket=bucket, Prefix="z")
check([u["UploadId"] for u in page["Uploads"]] == sorted(ids["z"]), "prefix z lists both uploads of z")
page = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="y")
check([u["Key"] for u in page["Uploads"]] == ["z", "z"], "a key marker alone skips its key")

for key, us in ids.items():
    for u in us:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=u)
check("Uploads" not in s3.list_multipart_uploads(Bucket=bucket), "no upload left")
print("ALL OK")
