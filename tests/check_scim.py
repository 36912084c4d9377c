"""Runs scim2-tester's check_server against Roster's SCIM service.

Usage: python check_scim.py <base URL> <SCIM token> <tags to leave out, comma-separated>

Prints one JSON object per check run: its status, title, resource type, tags and reason.

RFC 7643 leaves the values of `userName` and of `roles` to the service; scim2-tester fills
every string it generates with a random UUID. The service requires an email address in
`userName` and a role of the organization in `roles`, so the values generated for those
two attributes are made to be such: nothing else of the tester is changed.
"""

import json
import sys
import uuid

import scim2_tester.checkers.patch_add as patch_add
import scim2_tester.checkers.patch_replace as patch_replace
import scim2_tester.filling as filling
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server

generate = filling.generate_random_value


def generate_acceptable_value(context, path, mutability=None, required=None):
    value = generate(context, path, mutability=mutability, required=required)
    name = str(path).lower()
    if value is None:
        return value
    if name.endswith("username"):
        return f"{uuid.uuid4()}@example.com"
    if name == "roles.value":
        return "viewer"
    if name == "roles":
        for role in value:
            role.value = "viewer"
    return value


for module in (filling, patch_add, patch_replace):
    module.generate_random_value = generate_acceptable_value

base, token, excluded = sys.argv[1], sys.argv[2], sys.argv[3]
client = SyncSCIMClient(
    Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
)
results = check_server(client, exclude_tags={t for t in excluded.split(",") if t})
for result in results:
    print(
        json.dumps(
            {
                "status": result.status.name,
                "title": result.title,
                "resource_type": result.resource_type,
                "tags": sorted(result.tags),
                "reason": result.reason,
            }
        )
    )
