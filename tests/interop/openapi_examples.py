"""Checks the examples of an OpenAPI 3.1 document against their own schemas,
with openapi-schema-validator (the JSON Schema 2020-12 validator of the
OpenAPI dialect, independent of our codegen), and the official message
samples against the document's `message.SendMessageRequest`.

    python3 openapi_examples.py generated/openapi.json tests/vectors/messages

Checks, and prints one line of counts when all hold:
- every operation's request, reply and query-parameter example validates;
- every message sample (one per message kind, template cards included)
  validates against `message.SendMessageRequest` (a flattened union);
- each sample with an unknown `msgtype`, or with its content moved under
  another kind's key, or (a template card) with an unknown `card_type`, is
  refused (the unions really discriminate).
Exits 1 with the failures otherwise.
"""

import copy
import json
import pathlib
import sys

from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOC_URI = "urn:wecom-openwork:openapi"


def absolute(schema):
    """The schema with its document-local `$ref`s made absolute."""
    if isinstance(schema, dict):
        return {
            k: (DOC_URI + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else absolute(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [absolute(v) for v in schema]
    return schema


def main():
    doc_path, samples_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    doc = json.loads(doc_path.read_text(encoding="utf-8"))
    registry = Registry().with_resource(DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012))

    def errors(schema, instance):
        validator = OAS31Validator(absolute(schema), registry=registry)
        return [e.message[:300] for e in validator.iter_errors(instance)]

    failures = []
    examples = 0
    for path, item in doc["paths"].items():
        for method, op in item.items():
            label = f"{op['operationId']} ({method.upper()} {path})"
            checks = []
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                if "example" in content:
                    checks.append((f"request {media}", content["schema"], content["example"]))
            for status, response in op["responses"].items():
                for media, content in response.get("content", {}).items():
                    if "example" in content:
                        checks.append((f"reply {status} {media}", content["schema"], content["example"]))
            for parameter in op.get("parameters", []):
                if "example" in parameter:
                    checks.append((f"query {parameter['name']}", parameter["schema"], parameter["example"]))
            for what, schema, example in checks:
                examples += 1
                found = errors(schema, example)
                if found:
                    failures.append(f"{label}: {what} example: {found[0]}")

    message = {"$ref": "#/components/schemas/message.SendMessageRequest"}
    samples = sorted(samples_dir.glob("*.json"))
    kinds = sorted({json.loads(p.read_text(encoding="utf-8"))["msgtype"] for p in samples})
    refused = 0
    for path in samples:
        sample = json.loads(path.read_text(encoding="utf-8"))
        found = errors(message, sample)
        if found:
            failures.append(f"{path.name}: {found[0]}")
        kind = sample["msgtype"]
        unknown = dict(sample, msgtype="no_such_kind")
        other = next((k for k in kinds if k != kind), None)
        moved = copy.deepcopy(sample)
        if other is not None:
            moved["msgtype"] = other
        wrongs = [("an unknown msgtype", unknown), (f"msgtype {other} over {kind}'s content", moved)]
        if isinstance(sample.get(kind), dict) and "card_type" in sample[kind]:
            card = copy.deepcopy(sample)
            card[kind]["card_type"] = "no_such_card"
            wrongs.append(("an unknown card_type", card))
        for what, wrong in wrongs:
            if not errors(message, wrong):
                failures.append(f"{path.name}: {what} is accepted")
            else:
                refused += 1

    if not samples:
        failures.append(f"no message samples in {samples_dir}")
    if failures:
        print("\n".join(failures))
        sys.exit(1)
    print(f"{examples} examples match; {len(samples)} message samples match; {refused} mis-tagged refused")


if __name__ == "__main__":
    main()
