"""Drives Object Lock, tagging, CORS, canned ACLs and lifecycle configuration through
python3-boto3 (and urllib for unsigned requests). Usage: bucket_config_client.py ENDPOINT.
Prints "ALL OK" and exits 0 when every check held."""
import datetime
import sys
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


def check(cond, what):
    if not cond:
        print("FAILED:", what)
        sys.exit(1)
    print("ok:", what)


def code_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return "no error"


def anonymous(method, path, headers=None):
    req = urllib.request.Request(endpoint + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


now = datetime.datetime.now(datetime.timezone.utc)
later = now + datetime.timedelta(days=2)

# ---- Object Lock ----
s3.create_bucket(Bucket="locked", ObjectLockEnabledForBucket=True)
check(s3.get_bucket_versioning(Bucket="locked")["Status"] == "Enabled",
      "a bucket created with Object Lock has versioning enabled")
check(s3.get_object_lock_configuration(Bucket="locked")["ObjectLockConfiguration"]
      ["ObjectLockEnabled"] == "Enabled", "GetObjectLockConfiguration")
check(code_of(lambda: s3.put_bucket_versioning(
    Bucket="locked", VersioningConfiguration={"Status": "Suspended"})) == "InvalidBucketState",
      "versioning cannot be suspended under Object Lock")
s3.create_bucket(Bucket="plain")
check(code_of(lambda: s3.get_object_lock_configuration(Bucket="plain"))
      == "ObjectLockConfigurationNotFoundError", "no lock configuration on a plain bucket")
check(code_of(lambda: s3.put_object(Bucket="plain", Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                                    ObjectLockRetainUntilDate=later)) == "InvalidRequest",
      "lock headers refused on a bucket without Object Lock")

v_gov = s3.put_object(Bucket="locked", Key="doc", Body=b"governed", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=later)["VersionId"]
head = s3.head_object(Bucket="locked", Key="doc")
check(head["ObjectLockMode"] == "GOVERNANCE" and head["ObjectLockRetainUntilDate"].date()
      == later.date(), "HEAD returns the lock headers")
check(code_of(lambda: s3.delete_object(Bucket="locked", Key="doc", VersionId=v_gov))
      == "AccessDenied", "a GOVERNANCE version cannot be deleted")
check(code_of(lambda: s3.put_object_retention(
    Bucket="locked", Key="doc", VersionId=v_gov,
    Retention={"Mode": "GOVERNANCE", "RetainUntilDate": now + datetime.timedelta(days=1)}))
      == "AccessDenied", "GOVERNANCE retention cannot be shortened without bypass")
s3.put_object_retention(Bucket="locked", Key="doc", VersionId=v_gov,
                        Retention={"Mode": "GOVERNANCE",
                                   "RetainUntilDate": now + datetime.timedelta(days=3)})
check(s3.get_object_retention(Bucket="locked", Key="doc", VersionId=v_gov)["Retention"]
      ["RetainUntilDate"].date() == (now + datetime.timedelta(days=3)).date(),
      "GOVERNANCE retention extended")
marker = s3.delete_object(Bucket="locked", Key="doc")
check(marker.get("DeleteMarker") is True, "a plain DELETE of a locked object adds a delete marker")
check(s3.get_object(Bucket="locked", Key="doc", VersionId=v_gov)["Body"].read() == b"governed",
      "the locked version survives the delete marker")
s3.delete_object(Bucket="locked", Key="doc", VersionId=v_gov, BypassGovernanceRetention=True)
check(code_of(lambda: s3.head_object(Bucket="locked", Key="doc", VersionId=v_gov))
      in ("404", "NoSuchVersion"), "GOVERNANCE yields to x-amz-bypass-governance-retention")

v_comp = s3.put_object(Bucket="locked", Key="tax", Body=b"kept", ObjectLockMode="COMPLIANCE",
                       ObjectLockRetainUntilDate=later)["VersionId"]
check(code_of(lambda: s3.delete_object(Bucket="locked", Key="tax", VersionId=v_comp,
                                       BypassGovernanceRetention=True)) == "AccessDenied",
      "COMPLIANCE cannot be bypassed")
check(code_of(lambda: s3.put_object_retention(
    Bucket="locked", Key="tax", VersionId=v_comp, BypassGovernanceRetention=True,
    Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later})) == "AccessDenied",
      "COMPLIANCE cannot be weakened")
result = s3.delete_objects(Bucket="locked", Delete={"Objects": [{"Key": "tax",
                                                                  "VersionId": v_comp}]})
check(result.get("Errors", [{}])[0].get("Code") == "AccessDenied",
      "DeleteObjects refuses a COMPLIANCE version")

v_hold = s3.put_object(Bucket="locked", Key="evidence", Body=b"e",
                       ObjectLockLegalHoldStatus="ON")["VersionId"]
check(s3.get_object_legal_hold(Bucket="locked", Key="evidence")["LegalHold"]["Status"] == "ON",
      "GetObjectLegalHold")
check(code_of(lambda: s3.delete_object(Bucket="locked", Key="evidence", VersionId=v_hold,
                                       BypassGovernanceRetention=True)) == "AccessDenied",
      "a legal hold blocks deletion")
s3.put_object_legal_hold(Bucket="locked", Key="evidence", LegalHold={"Status": "OFF"})
s3.delete_object(Bucket="locked", Key="evidence", VersionId=v_hold)
check(True, "deletable once the legal hold is released")

s3.put_object_lock_configuration(Bucket="locked", ObjectLockConfiguration={
    "ObjectLockEnabled": "Enabled",
    "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}})
rule = s3.get_object_lock_configuration(Bucket="locked")["ObjectLockConfiguration"]["Rule"]
check(rule["DefaultRetention"] == {"Mode": "COMPLIANCE", "Days": 1}, "default retention stored")
v_def = s3.put_object(Bucket="locked", Key="auto", Body=b"a")["VersionId"]
r = s3.get_object_retention(Bucket="locked", Key="auto")["Retention"]
check(r["Mode"] == "COMPLIANCE" and r["RetainUntilDate"].date()
      == (now + datetime.timedelta(days=1)).date(), "default retention applied to a PUT")
check(code_of(lambda: s3.delete_object(Bucket="locked", Key="auto", VersionId=v_def))
      == "AccessDenied", "a version under default retention cannot be deleted")

# A multipart upload's object gets what its create asked for; without a mode, the default.
mp = s3.create_multipart_upload(Bucket="locked", Key="big", ObjectLockMode="GOVERNANCE",
                                ObjectLockRetainUntilDate=later, ObjectLockLegalHoldStatus="ON",
                                Tagging="kind=backup")
part = s3.upload_part(Bucket="locked", Key="big", UploadId=mp["UploadId"], PartNumber=1,
                      Body=b"m" * 1024)
v_mp = s3.complete_multipart_upload(
    Bucket="locked", Key="big", UploadId=mp["UploadId"],
    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})["VersionId"]
r = s3.get_object_retention(Bucket="locked", Key="big", VersionId=v_mp)["Retention"]
check(r["Mode"] == "GOVERNANCE" and r["RetainUntilDate"].date() == later.date(),
      "CreateMultipartUpload's retention binds the completed object")
check(s3.get_object_legal_hold(Bucket="locked", Key="big", VersionId=v_mp)["LegalHold"]["Status"]
      == "ON", "CreateMultipartUpload's legal hold binds the completed object")
check(s3.get_object_tagging(Bucket="locked", Key="big", VersionId=v_mp)["TagSet"]
      == [{"Key": "kind", "Value": "backup"}], "CreateMultipartUpload's tags")
check(code_of(lambda: s3.delete_object(Bucket="locked", Key="big", VersionId=v_mp,
                                       BypassGovernanceRetention=True)) == "AccessDenied",
      "the multipart object's legal hold blocks deletion")
s3.put_object_legal_hold(Bucket="locked", Key="big", VersionId=v_mp, LegalHold={"Status": "OFF"})
mp = s3.create_multipart_upload(Bucket="locked", Key="big2")
part = s3.upload_part(Bucket="locked", Key="big2", UploadId=mp["UploadId"], PartNumber=1,
                      Body=b"n" * 1024)
s3.complete_multipart_upload(Bucket="locked", Key="big2", UploadId=mp["UploadId"],
                             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
r = s3.get_object_retention(Bucket="locked", Key="big2")["Retention"]
check(r["Mode"] == "COMPLIANCE" and r["RetainUntilDate"].date()
      == (now + datetime.timedelta(days=1)).date(),
      "default retention applied to a multipart upload without lock headers")
check(code_of(lambda: s3.create_multipart_upload(
    Bucket="plain", Key="x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=later))
      == "InvalidRequest", "lock headers refused on a multipart upload to a plain bucket")
check(code_of(lambda: s3.create_multipart_upload(
    Bucket="locked", Key="x", ObjectLockMode="FOREVER", ObjectLockRetainUntilDate=later))
      == "InvalidArgument", "an unknown lock mode is refused at CreateMultipartUpload")

# ---- Tagging ----
s3.put_object(Bucket="plain", Key="tagged", Body=b"t", Tagging="project=apollo&stage=raw")
check(s3.get_object(Bucket="plain", Key="tagged")["TagCount"] == 2, "x-amz-tagging-count")
check(s3.get_object_tagging(Bucket="plain", Key="tagged")["TagSet"]
      == [{"Key": "project", "Value": "apollo"}, {"Key": "stage", "Value": "raw"}],
      "x-amz-tagging stored")
s3.put_object_tagging(Bucket="plain", Key="tagged",
                      Tagging={"TagSet": [{"Key": "stage", "Value": "done"}]})
check(s3.get_object_tagging(Bucket="plain", Key="tagged")["TagSet"]
      == [{"Key": "stage", "Value": "done"}], "PutObjectTagging replaces the set")
too_many = [{"Key": "k%d" % i, "Value": "v"} for i in range(11)]
check(code_of(lambda: s3.put_object_tagging(Bucket="plain", Key="tagged",
                                            Tagging={"TagSet": too_many})) == "InvalidTag",
      "at most 10 tags per object")
check(code_of(lambda: s3.put_object_tagging(
    Bucket="plain", Key="tagged", Tagging={"TagSet": [{"Key": "k" * 129, "Value": "v"}]}))
      == "InvalidTag", "tag keys of at most 128 characters")
# CopyObject carries the source's tags unless told to replace them (TaggingDirective).
s3.copy_object(Bucket="plain", Key="tagged-copy", CopySource={"Bucket": "plain", "Key": "tagged"},
               Tagging="ignored=yes")
check(s3.get_object_tagging(Bucket="plain", Key="tagged-copy")["TagSet"]
      == [{"Key": "stage", "Value": "done"}], "CopyObject copies the source's tags")
s3.copy_object(Bucket="plain", Key="tagged-copy", CopySource={"Bucket": "plain", "Key": "tagged"},
               TaggingDirective="REPLACE", Tagging="owner=ops")
check(s3.get_object_tagging(Bucket="plain", Key="tagged-copy")["TagSet"]
      == [{"Key": "owner", "Value": "ops"}], "CopyObject with TaggingDirective REPLACE")
s3.copy_object(Bucket="plain", Key="tagged-copy", CopySource={"Bucket": "plain", "Key": "tagged"},
               TaggingDirective="REPLACE")
check(s3.get_object_tagging(Bucket="plain", Key="tagged-copy")["TagSet"] == [],
      "REPLACE without tags leaves the copy untagged")
check(code_of(lambda: s3.copy_object(
    Bucket="plain", Key="tagged-copy", CopySource={"Bucket": "plain", "Key": "tagged"},
    TaggingDirective="MERGE")) == "InvalidArgument", "an unknown tagging directive is refused")
s3.delete_object_tagging(Bucket="plain", Key="tagged")
check(s3.get_object_tagging(Bucket="plain", Key="tagged")["TagSet"] == [], "DeleteObjectTagging")
check(code_of(lambda: s3.get_bucket_tagging(Bucket="plain")) == "NoSuchTagSet",
      "no bucket tags yet")
s3.put_bucket_tagging(Bucket="plain", Tagging={"TagSet": [{"Key": "team", "Value": "render"}]})
check(s3.get_bucket_tagging(Bucket="plain")["TagSet"] == [{"Key": "team", "Value": "render"}],
      "bucket tagging")
s3.delete_bucket_tagging(Bucket="plain")
check(code_of(lambda: s3.get_bucket_tagging(Bucket="plain")) == "NoSuchTagSet",
      "DeleteBucketTagging")

# ---- CORS ----
check(code_of(lambda: s3.get_bucket_cors(Bucket="plain")) == "NoSuchCORSConfiguration",
      "no CORS configuration yet")
status, _, _ = anonymous("OPTIONS", "/plain/tagged", {"Origin": "https://app.example.com",
                                                       "Access-Control-Request-Method": "GET"})
check(status == 403, "preflight refused without CORS configuration")
s3.put_bucket_cors(Bucket="plain", CORSConfiguration={"CORSRules": [{
    "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "PUT"],
    "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300}]})
check(s3.get_bucket_cors(Bucket="plain")["CORSRules"][0]["AllowedMethods"] == ["GET", "PUT"],
      "GetBucketCors")
status, headers, _ = anonymous("OPTIONS", "/plain/tagged", {
    "Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
    "Access-Control-Request-Headers": "content-type,x-amz-date"})
check(status == 200 and headers.get("Access-Control-Allow-Origin") == "https://app.example.com"
      and "PUT" in headers.get("Access-Control-Allow-Methods", "")
      and headers.get("Access-Control-Max-Age") == "300", "preflight allowed")
status, _, _ = anonymous("OPTIONS", "/plain/tagged", {"Origin": "https://evil.example.org",
                                                       "Access-Control-Request-Method": "GET"})
check(status == 403, "preflight from another origin refused")
got = {}
s3.meta.events.register("before-send.s3.GetObject",
                        lambda request, **kw: request.headers.__setitem__(
                            "Origin", "https://app.example.com"))
s3.meta.events.register("after-call.s3.GetObject",
                        lambda http_response, **kw: got.update(http_response.headers))
s3.get_object(Bucket="plain", Key="tagged")
check(got.get("Access-Control-Allow-Origin") == "https://app.example.com"
      and got.get("Access-Control-Expose-Headers") == "ETag", "CORS headers on a GET")
s3.delete_bucket_cors(Bucket="plain")
check(code_of(lambda: s3.get_bucket_cors(Bucket="plain")) == "NoSuchCORSConfiguration",
      "DeleteBucketCors")

# ---- Canned ACLs ----
s3.put_object(Bucket="plain", Key="public.txt", Body=b"hello world", ACL="public-read")
s3.put_object(Bucket="plain", Key="secret.txt", Body=b"secret")
status, _, body = anonymous("GET", "/plain/public.txt")
check(status == 200 and body == b"hello world", "anonymous GET of a public-read object")
status, _, _ = anonymous("HEAD", "/plain/public.txt")
check(status == 200, "anonymous HEAD of a public-read object")
check(anonymous("GET", "/plain/secret.txt")[0] == 403, "anonymous GET of a private object refused")
check(anonymous("PUT", "/plain/public.txt")[0] == 403, "anonymous PUT refused")
check(anonymous("DELETE", "/plain/public.txt")[0] == 403, "anonymous DELETE refused")
check(anonymous("GET", "/plain")[0] == 403, "anonymous listing of a private bucket refused")
grants = s3.get_object_acl(Bucket="plain", Key="public.txt")["Grants"]
check(any(g["Grantee"].get("URI", "").endswith("AllUsers") and g["Permission"] == "READ"
          for g in grants) and any(g["Permission"] == "FULL_CONTROL" for g in grants),
      "GetObjectAcl shows the owner and AllUsers READ")
s3.put_object_acl(Bucket="plain", Key="public.txt", ACL="private")
check(anonymous("GET", "/plain/public.txt")[0] == 403, "PutObjectAcl private closes it again")
s3.put_bucket_acl(Bucket="plain", ACL="public-read")
status, _, body = anonymous("GET", "/plain?list-type=2")
check(status == 200 and b"<Key>secret.txt</Key>" in body, "anonymous listing of a public-read bucket")
check(anonymous("GET", "/plain/secret.txt")[0] == 403, "a public bucket does not open its objects")
check(any(g["Grantee"].get("URI", "").endswith("AllUsers")
          for g in s3.get_bucket_acl(Bucket="plain")["Grants"]), "GetBucketAcl")
s3.create_bucket(Bucket="opened", ACL="public-read")
check(anonymous("GET", "/opened")[0] == 200, "x-amz-acl on CreateBucket")

# ---- Lifecycle configuration ----
check(code_of(lambda: s3.get_bucket_lifecycle_configuration(Bucket="plain"))
      == "NoSuchLifecycleConfiguration", "no lifecycle yet")
s3.put_bucket_lifecycle_configuration(Bucket="plain", LifecycleConfiguration={"Rules": [
    {"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 1}},
    {"ID": "all", "Filter": {}, "Status": "Enabled",
     "NoncurrentVersionExpiration": {"NoncurrentDays": 3},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}]})
rules = s3.get_bucket_lifecycle_configuration(Bucket="plain")["Rules"]
check(len(rules) == 2 and rules[0]["Expiration"]["Days"] == 1
      and rules[1]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 2,
      "GetBucketLifecycleConfiguration")
s3.delete_bucket_lifecycle(Bucket="plain")
check(code_of(lambda: s3.get_bucket_lifecycle_configuration(Bucket="plain"))
      == "NoSuchLifecycleConfiguration", "DeleteBucketLifecycle")
print("ALL OK")
