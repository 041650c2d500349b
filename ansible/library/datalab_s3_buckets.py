#!/usr/bin/python
"""Ensure S3 buckets exist (and are versioned where asked) on the platform object store."""

DOCUMENTATION = r"""
module: datalab_s3_buckets
short_description: Create the platform's buckets on an S3 endpoint and enable versioning
description:
  - Creates each missing bucket and enables versioning on the listed ones, over TLS with
    the platform CA. Idempotent and check-mode aware. Works with SeaweedFS and MinIO
    (only CreateBucket, HeadBucket, Get/PutBucketVersioning are used).
options:
  endpoint: {description: S3 endpoint URL (https)., required: true, type: str}
  ca_cert: {description: CA bundle that verifies the endpoint., required: true, type: path}
  access_key: {description: Admin access key., required: true, type: str, no_log: true}
  secret_key: {description: Admin secret key., required: true, type: str, no_log: true}
  buckets: {description: Bucket names., required: true, type: list, elements: str}
  versioned: {description: Buckets that keep object versions., type: list, elements: str, default: []}
  folders:
    description:
      - "Folder markers to create (bucket/prefix/, an empty object): S3A and Spark's event
        log refuse a directory that has no object yet."
    type: list
    elements: str
    default: []
requirements: [boto3]
author: DataLab
"""

EXAMPLES = r"""
- name: Buckets
  datalab_s3_buckets:
    endpoint: https://data-1:8333
    ca_cert: /state/platform-root-ca.pem
    access_key: "{{ keys.access_key }}"
    secret_key: "{{ keys.secret_key }}"
    buckets: [landing, bronze]
    versioned: [landing]
"""

RETURN = r"""
created: {description: Buckets created by this run., type: list, returned: always}
folders_created: {description: Folder markers created by this run., type: list, returned: always}
versioning_enabled: {description: Buckets whose versioning this run switched on., type: list, returned: always}
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import boto3
    import botocore.config
    import botocore.exceptions

    BOTO_ERR = None
except ImportError:  # pragma: no cover
    BOTO_ERR = traceback.format_exc()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            endpoint=dict(type="str", required=True),
            ca_cert=dict(type="path", required=True),
            access_key=dict(type="str", required=True, no_log=True),
            secret_key=dict(type="str", required=True, no_log=True),
            buckets=dict(type="list", elements="str", required=True),
            versioned=dict(type="list", elements="str", default=[]),
            folders=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    if BOTO_ERR:
        module.fail_json(msg=missing_required_lib("boto3"), exception=BOTO_ERR)
    p = module.params
    unknown = sorted(set(p["versioned"]) - set(p["buckets"]))
    if unknown:
        module.fail_json(msg=f"versioned buckets not in buckets: {', '.join(unknown)}")
    s3 = boto3.client(
        "s3",
        endpoint_url=p["endpoint"],
        aws_access_key_id=p["access_key"],
        aws_secret_access_key=p["secret_key"],
        region_name="us-east-1",
        verify=p["ca_cert"],
        config=botocore.config.Config(
            s3={"addressing_style": "path"}, retries={"max_attempts": 10, "mode": "standard"}
        ),
    )
    created, versioned, folders = [], [], []
    try:
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for bucket in p["buckets"]:
            if bucket not in existing:
                created.append(bucket)
                if not module.check_mode:
                    s3.create_bucket(Bucket=bucket)
            if bucket in p["versioned"]:
                status = (
                    ""
                    if bucket in created
                    else s3.get_bucket_versioning(Bucket=bucket).get("Status", "")
                )
                if status != "Enabled":
                    versioned.append(bucket)
                    if not module.check_mode:
                        s3.put_bucket_versioning(
                            Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
                        )
        for folder in p["folders"]:
            bucket, _, prefix = folder.partition("/")
            prefix = prefix.rstrip("/") + "/"
            if bucket in created:
                listed = {}
            else:
                listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
            if not listed.get("KeyCount"):
                folders.append(folder)
                if not module.check_mode:
                    s3.put_object(Bucket=bucket, Key=prefix, Body=b"")
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        module.fail_json(msg=f"S3 at {p['endpoint']}: {exc}")
    module.exit_json(
        changed=bool(created or versioned or folders),
        created=created,
        versioning_enabled=versioned,
        folders_created=folders,
    )


if __name__ == "__main__":
    main()
