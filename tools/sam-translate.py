#!/usr/bin/env python3
"""Runs the AWS SAM translator (PyPI: aws-sam-translator, the library
`sam deploy` and CloudFormation's AWS::Serverless transform use) on a
template.yaml and prints the CloudFormation template it becomes, as JSON.

    tools/sam-translate.py template.yaml > cfn.json

Exit 1 with one line per problem when SAM refuses the template. Offline:
`CodeUri: .` (which `sam build` and `sam package` replace) is read as an
S3 object, the region is a placeholder, and the managed policies SAM adds
are looked up in a fixed table instead of IAM.
"""

import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.public.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

POLICIES = {
    name: f"arn:aws:iam::aws:policy/{path}{name}"
    for path, name in [
        ("service-role/", "AWSLambdaBasicExecutionRole"),
        ("service-role/", "AWSLambdaVPCAccessExecutionRole"),
        ("", "AWSXrayWriteOnlyAccess"),
        ("", "AWSXRayDaemonWriteAccess"),
        ("service-role/", "AWSCodeDeployRoleForLambda"),
        ("service-role/", "AWSCodeDeployRoleForLambdaLimited"),
    ]
}


class Policies:
    def load(self):
        return POLICIES

    def get_managed_policy_map(self):
        return POLICIES


def main():
    if len(sys.argv) != 2:
        print("usage: sam-translate.py TEMPLATE", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        template = yaml_parse(f.read())
    for resource in (template.get("Resources") or {}).values():
        props = resource.get("Properties") or {}
        if props.get("CodeUri") == ".":
            props["CodeUri"] = "s3://bucket/code.zip"
    try:
        out = transform(template, {}, Policies())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(f"sam-translate: {cause.message}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
